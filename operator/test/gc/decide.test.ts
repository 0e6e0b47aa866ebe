// The GC's rules (operator/src/gc/decide.ts): every case of docs/design/gc.md, both switches, the
// StatefulSet identity and the grace period arithmetic.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { type GcInput, type GcPolicy, decideRecord, statefulSetOf } from '../../src/gc/decide.js';
import { holdsSlot, nodeReady, podFacts } from '../../src/gc/pod-facts.js';

const policy: GcPolicy = { statefulSetKeepsIPs: true, terminatingOnReadyNode: true, terminatingOnNotReadyNode: true, additionalGraceDelayMs: 0 };
const NOW = Date.parse('2026-11-21T20:00:00Z');

const input = (over: Partial<GcInput> = {}): GcInput => ({
  podName: 'web-1',
  record: { uid: 'u1', nic: 'eth0', family: 4 },
  pod: { uid: 'u1', phase: 'Running', nodeReady: true },
  liveHoldsSameSlot: false,
  nowMs: NOW,
  policy,
  ...over,
});

const sts = { uid: 'u1', nic: 'eth0', family: 4 as const, owner: 'StatefulSet/web' };

describe('decideRecord', () => {
  it('keeps the record of a live pod', () => {
    expect(decideRecord(input())).toEqual({ action: 'keep', reason: 'pod-alive' });
    expect(decideRecord(input({ pod: { uid: 'u1', phase: 'Pending', nodeReady: false } }))).toEqual({ action: 'keep', reason: 'pod-alive' });
  });

  it('releases the record of a deleted pod', () => {
    expect(decideRecord(input({ pod: undefined }))).toEqual({ action: 'release', reason: 'pod-deleted' });
  });

  it('keeps a deleted StatefulSet pod within the replicas, releases it beyond them or with the StatefulSet gone', () => {
    expect(decideRecord(input({ pod: undefined, record: sts, statefulSetReplicas: 2 }))).toEqual({ action: 'keep', reason: 'statefulset-identity' });
    expect(decideRecord(input({ pod: undefined, record: sts, statefulSetReplicas: 1 }))).toEqual({ action: 'release', reason: 'pod-deleted' });
    expect(decideRecord(input({ pod: undefined, record: sts }))).toEqual({ action: 'release', reason: 'pod-deleted' });
    // spec.ordinals.start: ordinals start..start+replicas-1 are the StatefulSet's
    expect(decideRecord(input({ pod: undefined, record: sts, statefulSetReplicas: 2, statefulSetStart: 1 }))).toEqual({ action: 'keep', reason: 'statefulset-identity' });
    expect(decideRecord(input({ pod: undefined, podName: 'web-2', record: sts, statefulSetReplicas: 2, statefulSetStart: 1 }))).toEqual({ action: 'keep', reason: 'statefulset-identity' });
    expect(decideRecord(input({ pod: undefined, podName: 'web-3', record: sts, statefulSetReplicas: 2, statefulSetStart: 1 }))).toEqual({ action: 'release', reason: 'pod-deleted' });
    expect(decideRecord(input({ pod: undefined, podName: 'web-0', record: sts, statefulSetReplicas: 2, statefulSetStart: 1 }))).toEqual({ action: 'release', reason: 'pod-deleted' });
    // StatefulSets not keeping IPs (Spiderpool's enableStatefulSet=false)
    expect(decideRecord(input({ pod: undefined, record: sts, statefulSetReplicas: 2, policy: { ...policy, statefulSetKeepsIPs: false } }))).toEqual({ action: 'release', reason: 'pod-deleted' });
  });

  it('releases a record whose pod name now belongs to another UID', () => {
    expect(decideRecord(input({ pod: { uid: 'u2', phase: 'Running', nodeReady: true } }))).toEqual({ action: 'release', reason: 'uid-mismatch' });
  });

  it('leaves a StatefulSet record for the successor to take over, unless it already has its own', () => {
    const successor = { uid: 'u2', phase: 'Pending', nodeReady: true, controller: 'StatefulSet/web' };
    expect(decideRecord(input({ record: sts, pod: successor, statefulSetReplicas: 3 }))).toEqual({ action: 'keep', reason: 'statefulset-identity' });
    expect(decideRecord(input({ record: sts, pod: successor, statefulSetReplicas: 3, liveHoldsSameSlot: true }))).toEqual({ action: 'release', reason: 'uid-mismatch' });
    // a same-named pod of another owner is no successor
    expect(decideRecord(input({ record: sts, pod: { ...successor, controller: 'ReplicaSet/web' }, statefulSetReplicas: 3 }))).toEqual({ action: 'release', reason: 'uid-mismatch' });
    // beyond the replicas (scaled down)
    expect(decideRecord(input({ record: sts, pod: successor, statefulSetReplicas: 1 }))).toEqual({ action: 'release', reason: 'uid-mismatch' });
  });

  it('releases the record of a finished pod, but keeps a StatefulSet identity', () => {
    for (const phase of ['Succeeded', 'Failed']) {
      expect(decideRecord(input({ pod: { uid: 'u1', phase, nodeReady: true } }))).toEqual({ action: 'release', reason: 'pod-finished' });
      expect(decideRecord(input({ record: sts, pod: { uid: 'u1', phase, nodeReady: true }, statefulSetReplicas: 2 }))).toEqual({ action: 'keep', reason: 'statefulset-identity' });
    }
  });

  describe('a Terminating pod', () => {
    const deletion = NOW - 1000; // deletionTimestamp = request time + deletionGracePeriodSeconds
    const terminating = (nodeReadyNow: boolean) => ({ uid: 'u1', phase: 'Running', nodeReady: nodeReadyNow, deletionTimestampMs: deletion });

    it('is released once its deletion grace period has passed, with the reason naming the node state', () => {
      expect(decideRecord(input({ pod: terminating(false) }))).toEqual({ action: 'release', reason: 'terminating-on-not-ready-node' });
      expect(decideRecord(input({ pod: terminating(true) }))).toEqual({ action: 'release', reason: 'terminating-on-ready-node' });
    });

    it('is kept until the additional delay has passed too, with the time to look again', () => {
      const p = { ...policy, additionalGraceDelayMs: 5000 };
      expect(decideRecord(input({ pod: terminating(false), policy: p }))).toEqual({ action: 'keep', reason: 'terminating-grace', recheckAtMs: deletion + 5000 });
      expect(decideRecord(input({ pod: terminating(false), policy: p, nowMs: deletion + 5000 }))).toEqual({ action: 'release', reason: 'terminating-on-not-ready-node' });
    });

    it('honours the two switches separately', () => {
      const offReady = { ...policy, terminatingOnReadyNode: false };
      expect(decideRecord(input({ pod: terminating(true), policy: offReady }))).toEqual({ action: 'keep', reason: 'terminating-gc-disabled' });
      expect(decideRecord(input({ pod: terminating(false), policy: offReady }))).toEqual({ action: 'release', reason: 'terminating-on-not-ready-node' });
      const offNotReady = { ...policy, terminatingOnNotReadyNode: false };
      expect(decideRecord(input({ pod: terminating(false), policy: offNotReady }))).toEqual({ action: 'keep', reason: 'terminating-gc-disabled' });
      expect(decideRecord(input({ pod: terminating(true), policy: offNotReady }))).toEqual({ action: 'release', reason: 'terminating-on-ready-node' });
    });

    it('keeps a StatefulSet identity', () => {
      expect(decideRecord(input({ record: sts, pod: terminating(false), statefulSetReplicas: 2 }))).toEqual({ action: 'keep', reason: 'statefulset-identity' });
      expect(decideRecord(input({ record: sts, pod: terminating(false), statefulSetReplicas: 1 }))).toEqual({ action: 'release', reason: 'terminating-on-not-ready-node' });
    });
  });
});

describe('statefulSetOf', () => {
  it('names the StatefulSet and ordinal only for a pod name the StatefulSet would make', () => {
    expect(statefulSetOf(sts, 'web-12', policy)).toEqual({ name: 'web', ordinal: 12 });
    expect(statefulSetOf(sts, 'web-x-1', policy)).toBeUndefined();
    expect(statefulSetOf(sts, 'webx-1', policy)).toBeUndefined();
    expect(statefulSetOf({ ...sts, owner: 'ReplicaSet/web' }, 'web-1', policy)).toBeUndefined();
    expect(statefulSetOf(sts, 'web-1', { statefulSetKeepsIPs: false })).toBeUndefined();
  });
});

describe('pod facts', () => {
  const node = (ready: string | undefined): V1Node => ({ metadata: { name: 'n' }, status: ready === undefined ? {} : { conditions: [{ type: 'Ready', status: ready }] } });

  it('reads the Ready condition; a missing node is not ready', () => {
    expect(nodeReady(node('True'))).toBe(true);
    expect(nodeReady(node('False'))).toBe(false);
    expect(nodeReady(node('Unknown'))).toBe(false);
    expect(nodeReady(node(undefined))).toBe(false);
    expect(nodeReady(undefined)).toBe(false);
  });

  it('takes uid, phase, deletion timestamp and controller from the pod', () => {
    const pod: V1Pod = {
      metadata: { uid: 'u', deletionTimestamp: new Date('2026-11-21T20:00:00Z'), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'x', controller: true }] },
      status: { phase: 'Running' },
    };
    expect(podFacts(pod, node('True'))).toEqual({ uid: 'u', phase: 'Running', nodeReady: true, deletionTimestampMs: NOW, controller: 'StatefulSet/web' });
    expect(podFacts({ metadata: { uid: 'v' } }, undefined)).toEqual({ uid: 'v', nodeReady: false });
  });

  it('holdsSlot matches uid, interface and family', () => {
    const held = [{ family: 4 as const, entry: { uid: 'u', nic: 'eth0', pod: 'ns/p', seq: 1 } }];
    expect(holdsSlot(held, 'u', 'eth0', 4)).toBe(true);
    expect(holdsSlot(held, 'u', 'eth0', 6)).toBe(false);
    expect(holdsSlot(held, 'u', 'net1', 4)).toBe(false);
    expect(holdsSlot(held, 'v', 'eth0', 4)).toBe(false);
  });
});
