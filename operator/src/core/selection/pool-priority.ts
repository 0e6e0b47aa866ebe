// Order of pools found by a glob or by spec.default. Spiderpool sorts candidates with
// ippoolmanager.ByPoolPriority (pkg/ippoolmanager/utils.go): a pool with podAffinity first, then
// nodeName, nodeAffinity, namespaceName, namespaceAffinity, multusName — the more specific pool is
// tried before the generic one. Spiderpool feeds sort.Sort from a Go map, so equal pools come out in
// random order; we break ties by name so the same input always gives the same order.

import type { SpiderIPPool } from '../../api/v2beta1/types.js';

const SPECIFICITY: Array<(p: SpiderIPPool) => boolean> = [
  (p) => p.spec.podAffinity !== undefined,
  (p) => (p.spec.nodeName?.length ?? 0) > 0,
  (p) => p.spec.nodeAffinity !== undefined,
  (p) => (p.spec.namespaceName?.length ?? 0) > 0,
  (p) => p.spec.namespaceAffinity !== undefined,
  (p) => (p.spec.multusName?.length ?? 0) > 0,
];

export function comparePoolPriority(a: SpiderIPPool, b: SpiderIPPool): number {
  for (const has of SPECIFICITY) {
    const d = Number(has(b)) - Number(has(a));
    if (d !== 0) return d;
  }
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

export function sortByPoolPriority<T extends SpiderIPPool>(pools: readonly T[]): T[] {
  return [...pools].sort(comparePoolPriority);
}
