// Deletion of a pool that still holds allocations waits (issue #5 item 5): the mutating webhook puts
// Spiderpool's finalizer `spiderpool.spidernet.io` on every new pool, and this leader-only controller
// removes it once the pool is being deleted and no IPAMBlock records an address of it. Until then the
// pool stays (terminating: the allocator's selection skips it, releases still work), so pods that
// hold its addresses keep valid records and their DEL finds them.
//
// The decision reads the blocks fresh from the API (an informer may lag behind the last release) and
// waits until the deletion is a few seconds old, so the allocator's cache has seen the pool as
// terminating and no new allocation into it can still be on its way to a block.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { SPIDER_FINALIZER } from '../api/v2beta1/constants.js';
import { GROUP, PLURALS, VERSION, type SpiderIPPool } from '../api/v2beta1/types.js';
import type { BlockObject, PoolObject } from '../controllers/informers.js';
import { Controller, informerSource } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import type { Logger } from '../framework/logger.js';
import type { HeldAddress } from './footprint.js';

export interface PoolFinalizerOptions {
  pools: Informer<PoolObject>;
  /** Block events re-queue their pool (a release that empties it). */
  blocks: Informer<BlockObject>;
  heldInPool(pool: string): Promise<HeldAddress[]>;
  removeFinalizer(pool: SpiderIPPool): Promise<void>;
  log: Logger;
  /** Minimum age of the deletion before the finalizer goes; default 3 s. */
  settleMs?: number;
  /** Re-check interval while allocations remain; default 30 s (block events usually come first). */
  recheckMs?: number;
  now?: () => number;
}

export function poolFinalizerController(opts: PoolFinalizerOptions): Controller {
  const now = opts.now ?? Date.now;
  return new Controller({
    name: 'pool-finalizer',
    sources: [informerSource(opts.pools), informerSource(opts.blocks, (b) => (b.spec?.pool ? [b.spec.pool] : []))],
    workers: 2,
    log: opts.log,
    reconcile: async (key, ctx) => {
      const pool = opts.pools.get(key);
      if (pool?.metadata?.deletionTimestamp === undefined || !(pool.metadata.finalizers ?? []).includes(SPIDER_FINALIZER)) return;
      const age = now() - new Date(pool.metadata.deletionTimestamp).getTime();
      const settle = opts.settleMs ?? 3_000;
      if (age < settle) return { requeueAfterMs: settle - age };
      const held = await opts.heldInPool(key);
      if (held.length > 0) {
        ctx.log.info('pool deletion waits for its allocations', { allocated: held.length, first: `${held[0]!.ip} (pod ${held[0]!.pod})` });
        return { requeueAfterMs: opts.recheckMs ?? 30_000 };
      }
      await opts.removeFinalizer(pool);
      ctx.log.info('pool has no allocations left: finalizer removed');
    },
  });
}

/** Removes our finalizer with a JSON patch guarded by a test of the list (no lost concurrent edit). */
export function kubeFinalizerRemover(kc: KubeConfig): (pool: SpiderIPPool) => Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async (pool) => {
    const finalizers = pool.metadata.finalizers ?? [];
    const i = finalizers.indexOf(SPIDER_FINALIZER);
    if (i < 0) return;
    const body = [
      { op: 'test', path: `/metadata/finalizers/${i}`, value: SPIDER_FINALIZER },
      { op: 'remove', path: `/metadata/finalizers/${i}` },
    ];
    try {
      await api.patchClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURALS.SpiderIPPool, name: pool.metadata.name ?? '', body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    } catch (e) {
      // Gone already: nothing to hold.
      if ((e as { code?: number }).code === 404) return;
      throw e;
    }
  };
}
