// Dual stack is all or nothing per interface: if the pod asks for IPv4 and IPv6, it gets both or the
// ADD fails (no half allocation). Spiderpool enforces the candidate side in filterPoolCandidates
// ("all IPv%d IPPools ... filtered out") and drops families the cluster disabled
// (IPAMConfig.filterPoolMisspecified). A family the pod does not name is not requested: in a
// dual-stack cluster `{"ipv4": [...]}` alone gives an IPv4-only pod, as in Spiderpool.

import type { IPVersion } from '../../api/v2beta1/types.js';
import type { FamilyRequest } from './types.js';

/** Requested families that `have` does not cover; empty means the request is satisfied. */
export function missingFamilies(requested: FamilyRequest, have: { v4: boolean; v6: boolean }): IPVersion[] {
  const missing: IPVersion[] = [];
  if (requested.v4 && !have.v4) missing.push(4);
  if (requested.v6 && !have.v6) missing.push(6);
  return missing;
}

/**
 * The allocator's final check after trying candidates: true only when every requested family got an
 * IP. When false, whatever was reserved for the other family must be rolled back.
 */
export function isCompleteAllocation(requested: FamilyRequest, allocated: readonly IPVersion[]): boolean {
  return missingFamilies(requested, { v4: allocated.includes(4), v6: allocated.includes(6) }).length === 0;
}
