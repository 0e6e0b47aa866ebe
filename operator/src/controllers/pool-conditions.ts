// Conditions on SpiderIPPool and SpiderSubnet status (issue 8 §3): `Ready` (can the object serve
// new allocations / carvings at all) and `Exhausted` (is every address taken), each stamped with the
// metadata.generation whose spec it judged (observedGeneration), so `kubectl wait
// --for=condition=Exhausted=false` and tools reading conditions know the verdict is current.
// Spiderpool has no conditions; the CRDs gained a standard metav1.Condition list (crds/*.yaml).
//
// Pure: the status writers (ippool-status.ts, autopool/subnet-ledger.ts) derive the wanted
// conditions from counts they already computed and merge them with what the object shows, keeping
// lastTransitionTime when a condition's status did not change (a message with new counts is not a
// transition). The messages name the fix.
import type { Condition } from '../api/v2beta1/meta.js';

export const CONDITION_READY = 'Ready';
export const CONDITION_EXHAUSTED = 'Exhausted';

/** A condition as derived, before a transition time is attached. */
export type WantedCondition = Omit<Condition, 'lastTransitionTime'>;

export interface ConditionFacts {
  kind: 'SpiderIPPool' | 'SpiderSubnet';
  name: string;
  generation: number | undefined;
  /** Why the spec cannot be read (total/free then unknown). */
  specError?: string;
  /** spec.disable (pools only). */
  disabled?: boolean;
  terminating?: boolean;
  /** Allocatable addresses (pool) or carvable addresses (subnet); null when unknown. */
  total: number | null;
  /** Of those, not held (pool) / not handed to a pool (subnet); null when unknown. */
  free: number | null;
}

/** The conditions `facts` call for, in a fixed order (Ready, Exhausted). */
export function wantedConditions(f: ConditionFacts): WantedCondition[] {
  const gen = f.generation !== undefined ? { observedGeneration: f.generation } : {};
  const what = f.kind === 'SpiderIPPool' ? `pool ${f.name}` : `subnet ${f.name}`;
  let ready: WantedCondition;
  if (f.specError !== undefined) ready = { type: CONDITION_READY, status: 'False', reason: 'InvalidSpec', message: `${what}: ${f.specError}; fix the spec`, ...gen };
  else if (f.terminating) ready = { type: CONDITION_READY, status: 'False', reason: 'Terminating', message: `${what} is being deleted: no new allocations`, ...gen };
  else if (f.disabled) ready = { type: CONDITION_READY, status: 'False', reason: 'Disabled', message: `${what} has spec.disable=true: no new allocations; set it to false to allocate again`, ...gen };
  else ready = { type: CONDITION_READY, status: 'True', reason: f.kind === 'SpiderIPPool' ? 'Allocatable' : 'Carvable', message: `${what} serves ${f.kind === 'SpiderIPPool' ? 'allocations' : 'auto pools'}`, ...gen };

  let exhausted: WantedCondition;
  if (f.total === null || f.free === null) {
    exhausted = { type: CONDITION_EXHAUSTED, status: 'Unknown', reason: 'InvalidSpec', message: `${what}: addresses cannot be counted until the spec is fixed`, ...gen };
  } else if (f.free <= 0) {
    const used = f.total - Math.max(0, f.free);
    exhausted =
      f.kind === 'SpiderIPPool'
        ? { type: CONDITION_EXHAUSTED, status: 'True', reason: 'NoFreeIP', message: `${what} has no free IP (${used}/${f.total} allocated); add IPs to spec.ips or scale down`, ...gen }
        : { type: CONDITION_EXHAUSTED, status: 'True', reason: 'NoFreeIP', message: `${what} has no address left for auto pools (${used}/${f.total} in pools); add IPs to spec.ips or remove workloads`, ...gen };
  } else {
    exhausted = { type: CONDITION_EXHAUSTED, status: 'False', reason: 'FreeIPsAvailable', message: `${f.free} of ${f.total} addresses free`, ...gen };
  }
  return [ready, exhausted];
}

/**
 * The condition list to write: `wanted` with each lastTransitionTime kept from `current` when that
 * condition's status is unchanged, else `now`; conditions of other types that `current` carries are
 * kept (another writer's). undefined when the object already shows exactly this.
 */
export function mergeConditions(current: readonly Condition[] | undefined, wanted: readonly WantedCondition[], now: Date): Condition[] | undefined {
  const have = new Map((current ?? []).map((c) => [c.type, c]));
  let changed = false;
  const out: Condition[] = [];
  for (const w of wanted) {
    const c = have.get(w.type);
    have.delete(w.type);
    const same = c !== undefined && c.status === w.status;
    const next: Condition = { ...w, lastTransitionTime: same ? stamp(c.lastTransitionTime) : stamp(now) };
    if (!c || !same || c.reason !== w.reason || c.message !== w.message || c.observedGeneration !== w.observedGeneration) changed = true;
    out.push(next);
  }
  out.push(...have.values());
  return changed ? out : undefined;
}

/** metav1.Time: RFC 3339, whole seconds. */
function stamp(t: string | Date): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The condition of `type`, for readers (CLI, tests). */
export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The facts of a pool's conditions, from the pool and the status derived from its blocks. */
export function poolConditionFacts(
  pool: { metadata: { name?: string; generation?: number; deletionTimestamp?: string | Date }; spec: { disable?: boolean } },
  d: { status: { totalIPCount: number | null; freeIPCount: number | null }; specError?: string },
): ConditionFacts {
  return {
    kind: 'SpiderIPPool',
    name: pool.metadata.name ?? '',
    generation: pool.metadata.generation,
    ...(d.specError !== undefined ? { specError: d.specError } : {}),
    disabled: pool.spec.disable === true,
    terminating: pool.metadata.deletionTimestamp !== undefined,
    total: d.status.totalIPCount,
    free: d.status.freeIPCount,
  };
}

/** The facts of a subnet's conditions, from the subnet and its carving counts. */
export function subnetConditionFacts(
  subnet: { metadata: { name?: string; generation?: number; deletionTimestamp?: string | Date } },
  counts: { totalIPCount: number; freeIPCount: number },
): ConditionFacts {
  return {
    kind: 'SpiderSubnet',
    name: subnet.metadata.name ?? '',
    generation: subnet.metadata.generation,
    terminating: subnet.metadata.deletionTimestamp !== undefined,
    total: counts.totalIPCount,
    free: counts.freeIPCount,
  };
}

/** Whether `conditions` already show what `facts` call for (a status writer's no-op check). */
export function conditionsCurrent(conditions: readonly Condition[] | undefined, facts: ConditionFacts): boolean {
  return mergeConditions(conditions, wantedConditions(facts), new Date()) === undefined;
}
