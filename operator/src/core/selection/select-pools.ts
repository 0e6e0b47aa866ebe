// The pool candidate pipeline for one pod interface: pick the rule (sources.ts), expand globs, look
// each pool up, filter it (pool-filters.ts) recording why it was dropped, and require every requested
// family to keep at least one candidate (families.ts). Candidates keep the order the rule gives;
// the pools one glob expands to are ordered by specificity (pool-priority.ts) in the glob's place.
//
// Deliberate differences from Spiderpool, all toward "explain instead of fail":
//  - a named pool that does not exist is a recorded rejection, not an immediate error (Spiderpool's
//    precheckPoolCandidates fails the ADD even when another named pool would do);
//  - a pool named twice (e.g. explicitly and again through a glob) is tried once instead of failing
//    with "duplicate IPPool";
//  - explicitly named pools keep the user's order; Spiderpool re-sorts every candidate list by
//    ByPoolPriority from a map (random among equals), which discards the order the user wrote.

import type { IPVersion, SpiderIPPool } from '../../api/v2beta1/types.js';
import { missingFamilies } from './families.js';
import { checkPool, rejection } from './pool-filters.js';
import { poolFamily } from './pool-family.js';
import { sortByPoolPriority } from './pool-priority.js';
import { planSources } from './sources.js';
import type { Candidate, Rejection, SelectionInput, SelectionResult } from './types.js';
import { compileGlob, hasWildcard } from './wildcard.js';

export function selectPoolCandidates(input: SelectionInput): SelectionResult {
  const planned = planSources(input);
  if (!planned.ok) return planned;
  const { source, cleanGateway, names } = planned.value;

  const byName = poolsByName(input.pools);

  const rejections: Rejection[] = [];
  const candidates: Record<IPVersion, Candidate[]> = { 4: [], 6: [] };
  const requested = { v4: false, v6: false };

  for (const family of [4, 6] as const) {
    const list = names[family];
    if (list.length === 0) continue;
    if (!(family === 4 ? input.config.enableIPv4 : input.config.enableIPv6)) {
      // Spiderpool's filterPoolMisspecified drops a disabled family's pools silently; we note them.
      for (const n of list) rejections.push({ pool: n, family, reason: 'family-disabled', detail: `IPv${family} is disabled in this cluster` });
      continue;
    }
    requested[family === 4 ? 'v4' : 'v6'] = true;

    const seen = new Set<string>();
    const consider = (name: string, viaPattern?: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const pool = byName.get(name);
      if (pool === undefined) {
        rejections.push({ pool: name, family, reason: 'not-found', detail: 'no SpiderIPPool has this name' });
        return;
      }
      const verdict = checkPool(pool, family, input);
      if (verdict !== undefined) {
        rejections.push(rejection(name, family, verdict));
        return;
      }
      const c: Candidate = { name, pool };
      if (viaPattern !== undefined) c.viaPattern = viaPattern;
      candidates[family].push(c);
    };

    for (const n of list) {
      if (!hasWildcard(n)) {
        consider(n);
        continue;
      }
      const glob = compileGlob(n);
      if (!glob.ok) return { ok: false, error: { kind: 'invalid-pattern', message: `${glob.reason} (from ${source})` } };
      const matches = sortByPoolPriority(input.pools.filter((p) => poolFamily(p) === family && glob.test(p.metadata.name ?? '')));
      if (matches.length === 0) {
        rejections.push({ pool: n, family, reason: 'pattern-matched-nothing', detail: `no IPv${family} pool name matches the pattern` });
      }
      for (const m of matches) consider(m.metadata.name ?? '', n);
    }
  }

  if (!requested.v4 && !requested.v6) {
    return {
      ok: false,
      error: { kind: 'no-pool-rule', message: `${source} names pools only for IP families this cluster has disabled (interface ${input.nic})` },
    };
  }
  const missing = missingFamilies(requested, { v4: candidates[4].length > 0, v6: candidates[6].length > 0 });
  if (missing.length > 0) {
    const why = rejections.filter((r) => missing.includes(r.family));
    const list = why.map((r) => `${r.pool}: ${r.reason} (${r.detail})`).join('; ');
    return {
      ok: false,
      error: {
        kind: 'family-exhausted',
        families: missing,
        rejections: why,
        message: `no usable IPv${missing.join('/IPv')} pool for pod ${input.pod.namespace}/${input.pod.name} interface ${input.nic} (from ${source}): ${list}`,
      },
    };
  }

  return {
    ok: true,
    value: { nic: input.nic, source, cleanGateway, requested, v4: candidates[4], v6: candidates[6], rejections },
  };
}

// Callers that hand the same frozen array again (the operator's informer snapshot, unchanged until a
// pool changes) get the same index back instead of one rebuilt per Allocate. Only frozen arrays: one
// that can still be mutated could go stale behind the index.
const indexes = new WeakMap<readonly SpiderIPPool[], ReadonlyMap<string, SpiderIPPool>>();

function poolsByName(pools: readonly SpiderIPPool[]): ReadonlyMap<string, SpiderIPPool> {
  let byName = indexes.get(pools);
  if (byName === undefined || !Object.isFrozen(pools)) {
    const m = new Map<string, SpiderIPPool>();
    for (const p of pools) if (p.metadata.name !== undefined) m.set(p.metadata.name, p);
    byName = m;
    if (Object.isFrozen(pools)) indexes.set(pools, m);
  }
  return byName;
}
