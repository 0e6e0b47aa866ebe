// Which existing allocation an ADD gets back. Spiderpool: pkg/ipam/allocate.go Allocate →
// retrieveStaticIPAllocation (StatefulSet, keyed by the SpiderEndpoint = pod namespace/name) or
// retrieveExistingIPAllocation (everything else, keyed by pod UID).
//
//  1. Same pod UID and interface → the same IPs (sandbox recreated, node rebooted, CNI ADD retried).
//     The container ID may differ; it is not part of the key.
//  2. A StatefulSet pod recreated under the same namespace/name (and so the same ordinal) with a new
//     UID → the previous pod's IPs, re-keyed to the new UID. Only when the record was made for the
//     same StatefulSet: a same-named pod of another owner is not a predecessor.
//  3. A record for the same namespace/name but another UID, in any other case, is STALE: it belonged
//     to an earlier pod of that name that no longer exists (names are unique at any instant). It must
//     never be handed to the new pod — that is Spiderpool issue #1187/#4916, where a Deployment/Job pod
//     recreated with the same name got its predecessor's IP while the release of that IP was in
//     flight, and the IP ended up used twice. The caller releases stale records.
//  4. If a StatefulSet's pool candidates changed (annotation edited), a record outside the current
//     candidates is stale too (Spiderpool releases it: checkStsPoolChange), so the pod moves pools.

import type { IPVersion } from '../../api/v2beta1/types.js';
import type { AllocationRecord } from './allocation-record.js';

export interface ReuseRequest {
  namespace: string;
  podName: string;
  podUID: string;
  nic: string;
  /** The pod's top controller. */
  ownerKind?: string;
  ownerName?: string;
  /** Operator config (Spiderpool's enableStatefulSet): keep StatefulSet IPs across recreation. */
  statefulSetKeepsIPs?: boolean;
  /** Current pool candidates per family, when known; records outside them are not reused (rule 4). */
  candidatePools?: { 4?: readonly string[]; 6?: readonly string[] };
}

export type StaleReason = 'same-name-other-uid' | 'pool-no-longer-candidate' | 'duplicate-in-family';

export interface StaleRecord {
  record: AllocationRecord;
  reason: StaleReason;
}

export interface ReuseDecision {
  /** At most one record per family, to hand back (re-keyed to the request's UID by the caller). */
  reuse: AllocationRecord[];
  /** How the reused records were found. */
  matchedBy: 'pod-uid' | 'statefulset-identity' | 'none';
  /** Families with nothing to reuse: allocate them fresh. */
  missingFamilies: IPVersion[];
  /** Records of this pod name and interface that must be released, never reused. */
  stale: StaleRecord[];
}

export function decideReuse(records: readonly AllocationRecord[], req: ReuseRequest): ReuseDecision {
  const sameSlot = records.filter((r) => r.namespace === req.namespace && r.podName === req.podName && r.nic === req.nic);
  const sameUID = sameSlot.filter((r) => r.podUID === req.podUID);
  const otherUID = sameSlot.filter((r) => r.podUID !== req.podUID);

  const isSts = req.ownerKind === 'StatefulSet' && (req.statefulSetKeepsIPs ?? true);
  const predecessors =
    isSts && sameUID.length === 0 ? otherUID.filter((r) => r.ownerKind === 'StatefulSet' && r.ownerName === req.ownerName) : [];

  let matchedBy: ReuseDecision['matchedBy'] = 'none';
  let pool: AllocationRecord[] = [];
  if (sameUID.length > 0) {
    matchedBy = 'pod-uid';
    pool = sameUID;
  } else if (predecessors.length > 0) {
    matchedBy = 'statefulset-identity';
    pool = predecessors;
  }

  const stale: StaleRecord[] = [];
  const used = new Set<AllocationRecord>(pool);
  for (const r of sameSlot) if (!used.has(r)) stale.push({ record: r, reason: 'same-name-other-uid' });

  const reuse: AllocationRecord[] = [];
  for (const family of [4, 6] as const) {
    const inFamily = pool.filter((r) => r.family === family);
    const allowed = req.candidatePools?.[family];
    for (const r of inFamily) {
      if (matchedBy === 'statefulset-identity' && allowed !== undefined && !allowed.includes(r.pool)) {
        stale.push({ record: r, reason: 'pool-no-longer-candidate' });
      } else if (reuse.some((x) => x.family === family)) {
        // Two IPs of one family for one pod interface is a leak from an earlier failure.
        stale.push({ record: r, reason: 'duplicate-in-family' });
      } else {
        reuse.push(r);
      }
    }
  }
  const missingFamilies = ([4, 6] as const).filter((f) => !reuse.some((r) => r.family === f));
  return { reuse, matchedBy: reuse.length > 0 ? matchedBy : 'none', missingFamilies, stale };
}
