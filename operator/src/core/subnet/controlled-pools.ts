// SpiderSubnet `status.controlledIPPools`: the JSON map pool name → {ips, application} that records
// which addresses of the subnet each pool was carved. It is the carving ledger: an address is free
// in the subnet exactly when no entry lists it. Written with resourceVersion CAS by the leader only.

import type { PoolIPPreAllocation, PoolIPPreAllocations } from '../../api/v2beta1/types.js';

export type ParsedControlled = { ok: true; value: PoolIPPreAllocations } | { ok: false; message: string };

/** Absent or empty → {}. Anything that is not a map of {ips: string[]} is an error naming the entry. */
export function parseControlledIPPools(raw: string | undefined): ParsedControlled {
  if (raw === undefined || raw.trim() === '') return { ok: true, value: {} };
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    return { ok: false, message: `status.controlledIPPools is not JSON: ${(e as Error).message}` };
  }
  if (v === null) return { ok: true, value: {} };
  if (typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: 'status.controlledIPPools is not a JSON object' };
  const out: PoolIPPreAllocations = {};
  for (const [pool, entry] of Object.entries(v as Record<string, unknown>)) {
    const e = entry as Partial<PoolIPPreAllocation> | null;
    if (e === null || typeof e !== 'object' || !Array.isArray(e.ips) || !e.ips.every((x) => typeof x === 'string')) {
      return { ok: false, message: `status.controlledIPPools["${pool}"].ips must be a list of IP ranges` };
    }
    out[pool] = { ips: [...e.ips], ...(typeof e.application === 'string' ? { application: e.application } : {}) };
  }
  return { ok: true, value: out };
}

/** Keys sorted (Go's encoding/json writes map keys sorted), so equal ledgers serialise equally. */
export function formatControlledIPPools(v: PoolIPPreAllocations): string {
  const sorted: PoolIPPreAllocations = {};
  for (const k of Object.keys(v).sort()) sorted[k] = v[k]!;
  return JSON.stringify(sorted);
}
