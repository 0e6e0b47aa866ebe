// `ipam.spidernet.io/ippool-ip-number`: the size of a workload's auto pool.
// Spiderpool: applicationinformers.GetPoolIPNumber — "N" is a fixed size, "+N" means replicas + N;
// at most one '+', then strconv.Atoi, then "must equal or greater than 0". Atoi would also take
// "-0", "+-1" or "007"; we accept exactly /^\+?[0-9]+$/ (leading zeros are harmless) and bound N.

import { ANNO_IPPOOL_IP_NUMBER } from '../../api/v2beta1/constants.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

export type PoolIPNumber = { kind: 'fixed'; count: number } | { kind: 'flexible'; extra: number };

/**
 * Upper bound for N: the largest pool the allocator supports densely (an IPv4 /16). A bigger number
 * is a typo, and taking it literally would drain a whole SpiderSubnet into one workload's pool.
 */
export const MAX_POOL_IP_NUMBER = 65_536;

const EXPECTED = `a non-negative integer "N" or "+N" with N ≤ ${MAX_POOL_IP_NUMBER} (e.g. "2" or "+1")`;

export function parsePoolIPNumberAnnotation(raw: string): AnnotationResult<PoolIPNumber> {
  const m = /^(\+?)([0-9]+)$/.exec(raw);
  if (m === null) return annotationError(ANNO_IPPOOL_IP_NUMBER, raw, EXPECTED);
  const n = Number(m[2]);
  if (n > MAX_POOL_IP_NUMBER) {
    return annotationError(ANNO_IPPOOL_IP_NUMBER, raw, EXPECTED, `${m[2]} exceeds the maximum ${MAX_POOL_IP_NUMBER}`);
  }
  return ok(m[1] === '+' ? { kind: 'flexible', extra: n } : { kind: 'fixed', count: n });
}
