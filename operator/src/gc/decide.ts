// Garbage-collection decisions for one recorded allocation, pure (no Kubernetes calls, no clock):
// the GC controller feeds it what it read, and `ipam check` uses the same rules to tell a leak from a
// record that is still owned. Docs: docs/design/gc.md.
//
// Safety (Calico's): a record is released only when its owner is confirmed gone — the caller makes
// the final decision on a pod read from the API (not the cache) right before the release, and the
// release itself names the record's (uid, seq), so a record that changed hands in between is never
// freed. Spiderpool's cases and switches (pkg/gcmanager):
//  - pod deleted (CNI DEL lost)                           → release, unless a kept StatefulSet identity;
//  - pod object of that name has another UID              → release, unless the StatefulSet successor
//                                                           will take the record over (decideReuse);
//  - pod Succeeded/Failed                                 → release (its containers are gone for good);
//  - pod Terminating on a Ready / NotReady node           → release once its deletion grace period and
//    the additional delay have passed, each case behind its own switch
//    (enableGCStatelessTerminatingPodOnReadyNode / ...OnNotReadyNode);
//  - StatefulSet pods whose ordinal is below the StatefulSet's replicas → kept, whatever their state
//    (Spiderpool does not even trace them): the pod of that name comes back and gets the same IP.

/** Why a record is released (bounded: metric label values). */
export type GcReleaseReason = 'pod-deleted' | 'uid-mismatch' | 'pod-finished' | 'terminating-on-ready-node' | 'terminating-on-not-ready-node';
export const GC_RELEASE_REASONS: readonly GcReleaseReason[] = ['pod-deleted', 'uid-mismatch', 'pod-finished', 'terminating-on-ready-node', 'terminating-on-not-ready-node'];

export type GcKeepReason =
  /** The pod of the record runs (or is starting). */
  | 'pod-alive'
  /** A StatefulSet pod within the replicas: its identity (and IP) is kept. */
  | 'statefulset-identity'
  /** Terminating, but its grace period (+ delay) has not passed yet. */
  | 'terminating-grace'
  /** Terminating, and GC of terminating pods on this kind of node is switched off. */
  | 'terminating-gc-disabled';

export type GcDecision =
  | { action: 'release'; reason: GcReleaseReason }
  /** recheckAtMs: when the decision may change by time alone (end of a grace period). */
  | { action: 'keep'; reason: GcKeepReason; recheckAtMs?: number };

export interface GcPolicy {
  /** Spiderpool's enableStatefulSet: StatefulSet pods keep their IPs across recreation. */
  statefulSetKeepsIPs: boolean;
  /** enableGCStatelessTerminatingPodOnReadyNode */
  terminatingOnReadyNode: boolean;
  /** enableGCStatelessTerminatingPodOnNotReadyNode */
  terminatingOnNotReadyNode: boolean;
  /** Added to the deletion grace period of a Terminating pod (Spiderpool's AdditionalGraceDelay). */
  additionalGraceDelayMs: number;
}

/** What the record says (from its block entry). */
export interface RecordFacts {
  uid: string;
  nic: string;
  family: 4 | 6;
  /** `Kind/name` of the pod's controller when it was recorded. */
  owner?: string;
}

/** What the pod of that namespace/name is now (undefined: there is none). */
export interface PodFacts {
  uid: string;
  phase?: string;
  /** metadata.deletionTimestamp in ms: the deletion request time + deletionGracePeriodSeconds. */
  deletionTimestampMs?: number;
  /** `Kind/name` of the pod's controller. */
  controller?: string;
  /** Whether the pod's node is Ready (false also when the node is gone or unknown). */
  nodeReady: boolean;
}

export interface GcInput {
  podName: string;
  record: RecordFacts;
  pod: PodFacts | undefined;
  /** Whether the live pod (another UID) already holds an address of this interface and family. */
  liveHoldsSameSlot: boolean;
  /**
   * Desired replicas of the record's StatefulSet (undefined: gone or being deleted). Only read when
   * `statefulSetOf(record, podName)` names one; the caller fetches it then.
   */
  statefulSetReplicas?: number;
  /** The StatefulSet's spec.ordinals.start (default 0): its pods have ordinals start..start+replicas-1. */
  statefulSetStart?: number;
  nowMs: number;
  policy: GcPolicy;
}

/** The StatefulSet whose identity the record may be, or undefined (not a StatefulSet record, or StatefulSets do not keep IPs). */
export function statefulSetOf(record: RecordFacts, podName: string, policy: Pick<GcPolicy, 'statefulSetKeepsIPs'>): { name: string; ordinal: number } | undefined {
  if (!policy.statefulSetKeepsIPs || !record.owner?.startsWith('StatefulSet/')) return undefined;
  const name = record.owner.slice('StatefulSet/'.length);
  const m = /-(\d+)$/.exec(podName);
  if (!name || !m || !podName.startsWith(`${name}-`) || podName.length !== name.length + 1 + m[1]!.length) return undefined;
  return { name, ordinal: Number(m[1]) };
}

export function decideRecord(inp: GcInput): GcDecision {
  const { record, pod, policy } = inp;
  const sts = statefulSetOf(record, inp.podName, policy);
  const start = inp.statefulSetStart ?? 0;
  const identityKept = sts !== undefined && inp.statefulSetReplicas !== undefined && sts.ordinal >= start && sts.ordinal < start + inp.statefulSetReplicas;

  if (pod === undefined) return identityKept ? keep('statefulset-identity') : release('pod-deleted');

  if (pod.uid !== record.uid) {
    // The recorded pod is gone (names are unique at any instant). Its StatefulSet successor takes the
    // record over on its ADD (decideReuse) — unless it already got its own address for this slot.
    const successor = identityKept && pod.controller === record.owner && !inp.liveHoldsSameSlot && !finished(pod);
    return successor ? keep('statefulset-identity') : release('uid-mismatch');
  }

  if (identityKept) return keep('statefulset-identity');
  if (finished(pod)) return release('pod-finished');
  if (pod.deletionTimestampMs !== undefined) {
    const enabled = pod.nodeReady ? policy.terminatingOnReadyNode : policy.terminatingOnNotReadyNode;
    if (!enabled) return keep('terminating-gc-disabled');
    const releaseAt = pod.deletionTimestampMs + policy.additionalGraceDelayMs;
    if (inp.nowMs < releaseAt) return { action: 'keep', reason: 'terminating-grace', recheckAtMs: releaseAt };
    return release(pod.nodeReady ? 'terminating-on-ready-node' : 'terminating-on-not-ready-node');
  }
  return keep('pod-alive');
}

const finished = (pod: PodFacts) => pod.phase === 'Succeeded' || pod.phase === 'Failed';
const release = (reason: GcReleaseReason): GcDecision => ({ action: 'release', reason });
const keep = (reason: GcKeepReason): GcDecision => ({ action: 'keep', reason });
