// Pools created by hand (no owner application: not an auto pool) may sit inside a SpiderSubnet's
// range, as config/samples does. Spiderpool counts them among the subnet's controlled pools; here
// they are kept out of carving the way SpiderReservedIPs are, so an auto pool can never be carved
// over addresses a hand-made pool hands out (two pools, one address: a duplicate IP).
import { LABEL_IPPOOL_OWNER_APPLICATION_UID } from '../../api/v2beta1/constants.js';
import type { SpiderIPPool } from '../../api/v2beta1/types.js';
import { parseIPEntry } from '../ip/index.js';

/**
 * Every spec.ips entry of the pools that are not auto pools. Entries that do not parse are left out
 * (that pool's own status reports them); they must not stop carving for every other subnet.
 */
export function manualPoolAddresses(pools: readonly SpiderIPPool[]): string[] {
  const out: string[] = [];
  for (const p of pools) {
    if (p.metadata.labels?.[LABEL_IPPOOL_OWNER_APPLICATION_UID] !== undefined) continue;
    for (const entry of p.spec.ips ?? []) {
      try {
        parseIPEntry(entry);
        out.push(entry);
      } catch {
        // reported by the pool status controller
      }
    }
  }
  return out;
}
