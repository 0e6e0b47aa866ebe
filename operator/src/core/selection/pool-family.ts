// A pool's IP family. spec.ipVersion is set by Spiderpool's mutating webhook from spec.subnet; a pool
// read before defaulting may lack it, so fall back to the subnet's notation.

import type { IPVersion, SpiderIPPool } from '../../api/v2beta1/types.js';

export function poolFamily(pool: SpiderIPPool): IPVersion {
  return pool.spec.ipVersion ?? (pool.spec.subnet.includes(':') ? 6 : 4);
}
