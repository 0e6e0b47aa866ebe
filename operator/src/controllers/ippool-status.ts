// SpiderIPPool status as a derived view of the IPAMBlocks (ADR 0005): allocatedIPCount, totalIPCount,
// freeIPCount and, for small pools, Spiderpool's status.allocatedIPs JSON string. The blocks are the
// only record; this controller reads them from the informer cache and writes the pool's status
// subresource with a JSON merge patch, and only when the derived status differs from what the pool
// shows (so its own write, echoed back by the watch, ends in a no-op compare: no write storms).
//
// Reconcile key: the pool name. Triggers: the pool itself, every IPAMBlock change (→ its spec.pool),
// every SpiderReservedIP change (→ every pool of that family: reserved addresses leave totalIPCount).
//
// Leader-only (the Manager's default), yet a pure derivation: two replicas running it at once (a
// leadership hand-over) compute the same status from the same blocks and at worst write it twice.
import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { IPAMBlock } from '../api/internal/ipamblock.js';
import { GROUP, PLURALS, VERSION, type PoolIPAllocation, type SpiderIPPool, type SpiderIPPoolStatus } from '../api/v2beta1/types.js';
import { allocatableSet } from '../core/allocator/index.js';
import { Controller, type ControllerOptions, type Reconcile, type Source, informerSource } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import type { Logger } from '../framework/logger.js';
import {
  type BlockObject,
  type PoolObject,
  type ReservedIPObject,
  blocksOfPool,
  heldInBlock,
  poolFamily,
  reservedFamilies,
} from './informers.js';
import { mergeConditions, poolConditionFacts, wantedConditions } from './pool-conditions.js';

export const IPPOOL_STATUS_CONTROLLER = 'ippool-status';

/**
 * status.allocatedIPs is written only while the pool holds at most this many addresses. Spiderpool
 * keeps its records in that one string (capped at 5000 entries) and re-serialises it on every
 * allocation; here it is a convenience view for tools that read it. ~110 bytes per entry keeps the
 * string ≤ ~110 KB at the cap, so the pool object stays far below etcd's 1.5 MiB limit whatever its
 * size, and a status write stays cheap. Above the cap the field is removed (not truncated: a partial
 * map would read as "these are all"); the IPAMBlocks (`kubectl get ipamblocks -l
 * ipam.spiderpool-ts.io/pool=<pool>`) and the SpiderEndpoints are the full picture.
 */
export const ALLOCATED_IPS_CAP = 1024;

/** int64 in the schema, but the value travels as a JS number: clamp (an IPv6 /64 has 2^64 addresses). */
const MAX_COUNT = BigInt(Number.MAX_SAFE_INTEGER);
const toCount = (n: bigint): number => Number(n < 0n ? 0n : n > MAX_COUNT ? MAX_COUNT : n);

/** The derived status; null = the field must be absent. */
export interface DerivedPoolStatus {
  allocatedIPCount: number;
  totalIPCount: number | null;
  freeIPCount: number | null;
  allocatedIPs: string | null;
}

export interface PoolStatusDerivation {
  status: DerivedPoolStatus;
  /** Why total/free are unknown (the pool's spec does not parse). */
  specError?: string;
  /** Blocks that could not be read (logged, skipped). */
  blockErrors: string[];
}

/**
 * Pure: the status of `pool` from its blocks and every reserved address of the cluster (entries of the
 * other family are ignored by allocatableSet, exactly as the allocator's PoolState does).
 *  - allocatedIPCount: every recorded entry of the pool (held addresses, whatever the spec says now);
 *  - totalIPCount: |ips − excludeIPs − reserved − gateway|;
 *  - freeIPCount: total minus the held addresses that are inside that set (what the allocator can
 *    still hand out; an address held outside the set after a spec edit takes nothing from it).
 */
export function derivePoolStatus(
  pool: SpiderIPPool,
  blocks: readonly IPAMBlock[],
  reserved: readonly string[],
  cap: number = ALLOCATED_IPS_CAP,
): PoolStatusDerivation {
  const name = pool.metadata.name ?? '';
  const blockErrors: string[] = [];
  const held = blocks
    .filter((b) => b.spec?.pool === name)
    .flatMap((b) => {
      const r = heldInBlock(b);
      blockErrors.push(...r.errors);
      return r.held;
    })
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));

  let allocatedIPs: string | null = null;
  if (held.length > 0 && held.length <= cap) {
    // Byte for byte what Spiderpool's Go writes: map keys sorted as strings (encoding/json), values
    // in the struct's field order (interface, pod, podUid).
    const map: Record<string, PoolIPAllocation> = {};
    for (const h of [...held].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))) map[h.ip] = { interface: h.entry.nic, pod: h.entry.pod, podUid: h.entry.uid };
    allocatedIPs = JSON.stringify(map);
  }

  let totalIPCount: number | null = null;
  let freeIPCount: number | null = null;
  let specError: string | undefined;
  try {
    const set = allocatableSet({
      subnet: pool.spec.subnet,
      ips: pool.spec.ips ?? [],
      excludeIPs: pool.spec.excludeIPs,
      reserved,
      gateway: pool.spec.gateway,
      family: pool.spec.ipVersion,
    });
    const total = set.count;
    let inSet = 0n;
    for (const h of held) if (h.family === set.family && set.has(h.value)) inSet++;
    totalIPCount = toCount(total);
    freeIPCount = toCount(total - inSet);
  } catch (e) {
    specError = e instanceof Error ? e.message : String(e);
  }
  return {
    status: { allocatedIPCount: held.length, totalIPCount, freeIPCount, allocatedIPs },
    ...(specError !== undefined ? { specError } : {}),
    blockErrors,
  };
}

/** The merge patch that turns `current` into `want`, or undefined when they already agree. */
export function statusPatch(current: SpiderIPPoolStatus | undefined, want: DerivedPoolStatus): Record<string, number | string | null> | undefined {
  const patch: Record<string, number | string | null> = {};
  for (const k of ['allocatedIPCount', 'totalIPCount', 'freeIPCount', 'allocatedIPs'] as const) {
    const have = current?.[k] ?? null;
    if (have !== want[k]) patch[k] = want[k];
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Writes a pool's status subresource; the integration tests count calls through it. */
export interface PoolStatusWriter {
  patchStatus(pool: string, patch: Record<string, unknown>): Promise<void>;
}

export class KubePoolStatusWriter implements PoolStatusWriter {
  private readonly api: CustomObjectsApi;
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async patchStatus(pool: string, patch: Record<string, unknown>): Promise<void> {
    try {
      await this.api.patchClusterCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: PLURALS.SpiderIPPool, name: pool, body: { status: patch } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e) {
      // Deleted meanwhile: nothing to show the status on.
      if (e instanceof ApiException && e.code === 404) return;
      const detail = e instanceof ApiException ? `HTTP ${e.code}: ${String(e.body).slice(0, 300)}` : e instanceof Error ? e.message : String(e);
      throw new Error(`SpiderIPPool ${pool}: status patch failed: ${detail}`, { cause: e });
    }
  }
}

export interface IPPoolStatusControllerOptions {
  pools: Informer<PoolObject>;
  blocks: Informer<BlockObject>;
  reservedIPs: Informer<ReservedIPObject>;
  writer: PoolStatusWriter;
  log: Logger;
  /** one call per reconcile (metrics, tests) */
  onResult?: ControllerOptions['onResult'];
  /** default {@link ALLOCATED_IPS_CAP} */
  allocatedIPsCap?: number;
  /**
   * At most one status write per pool per this interval (default 250 ms): during a rollout every group
   * commit changes a block, and the counts need not follow each one; the last change is always
   * written (the key is requeued for the rest of the interval). Status writes are pool update events
   * for every pool watcher, the allocator's included.
   */
  minWriteIntervalMs?: number;
  /** default 2 */
  workers?: number;
}

export function newIPPoolStatusController(opts: IPPoolStatusControllerOptions): Controller {
  const cap = opts.allocatedIPsCap ?? ALLOCATED_IPS_CAP;
  const minInterval = opts.minWriteIntervalMs ?? 250;
  const lastWrite = new Map<string, number>();
  // Log a spec or block problem once per distinct message, not on every reconcile of the pool.
  const reported = new Map<string, string>();
  const reportOnce = (pool: string, message: string, log: Logger, what: string) => {
    if (reported.get(pool) === message) return;
    reported.set(pool, message);
    log.warn(what, { pool, error: message });
  };

  const reconcile: Reconcile = async (key, { log }) => {
    const pool = opts.pools.get(key);
    if (pool === undefined) {
      reported.delete(key);
      lastWrite.delete(key);
      return;
    }
    const reserved = opts.reservedIPs.list().flatMap((r) => r.spec?.ips ?? []);
    const d = derivePoolStatus(pool, blocksOfPool(opts.blocks, key), reserved, cap);
    if (d.specError !== undefined) reportOnce(key, d.specError, log, 'pool spec is invalid: totalIPCount and freeIPCount left unset');
    else if (d.blockErrors.length > 0) reportOnce(key, d.blockErrors.join('; '), log, 'unreadable IPAMBlock skipped');
    else reported.delete(key);
    const counts = statusPatch(pool.status, d.status);
    // Ready / Exhausted with observedGeneration (pool-conditions.ts); unchanged conditions add nothing.
    const conditions = mergeConditions(pool.status?.conditions, wantedConditions(poolConditionFacts(pool, d)), new Date());
    if (counts === undefined && conditions === undefined) return;
    const patch = { ...counts, ...(conditions ? { conditions } : {}) };
    const since = performance.now() - (lastWrite.get(key) ?? -Infinity);
    if (since < minInterval) return { requeueAfterMs: Math.ceil(minInterval - since) };
    lastWrite.set(key, performance.now());
    await opts.writer.patchStatus(key, patch);
    log.debug('pool status written', { patch: { ...patch, ...(counts?.allocatedIPs ? { allocatedIPs: `(${d.status.allocatedIPCount} entries)` } : {}) } });
  };

  const reservedSource: Source = {
    subscribe(enqueue) {
      const each = (...objs: (ReservedIPObject | undefined)[]) => {
        const fams = new Set(objs.flatMap(reservedFamilies));
        for (const p of opts.pools.list()) if (fams.has(poolFamily(p))) enqueue(p.metadata.name ?? '');
      };
      return opts.reservedIPs.addEventHandler({
        add: (o) => each(o),
        update: (a, b) => (a === b ? undefined : each(a, b)),
        delete: (o) => each(o),
      });
    },
    keys: () => [],
    hasSynced: () => opts.reservedIPs.hasSynced(),
  };

  return new Controller({
    name: IPPOOL_STATUS_CONTROLLER,
    workers: opts.workers ?? 2,
    reconcile,
    log: opts.log,
    ...(opts.onResult ? { onResult: opts.onResult } : {}),
    sources: [
      informerSource(opts.pools),
      informerSource(opts.blocks, (b) => (b.spec?.pool ? [b.spec.pool] : [])),
      reservedSource,
    ],
  });
}
