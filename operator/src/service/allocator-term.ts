// The allocator's leadership term as a leader-only controller: when a term starts the controller
// queues "term", whose reconcile rebuilds the pool state from the IPAMBlocks and starts serving;
// when the term ends (lost Lease, shutdown) the context signal aborts and serving stops at once, so a
// later term can never answer from the memory of an earlier one. Pool and reserved-IP changes
// during the term resize the allocators.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { SpiderIPPool, SpiderReservedIP } from '../api/v2beta1/types.js';
import { Controller, type Source, informerSource } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import type { Logger } from '../framework/logger.js';
import type { AllocatorService } from './allocator-service.js';
import type { BlockIO } from './block-client.js';
import type { BlockCommitter } from './block-committer.js';
import { type PoolState, reservedAddresses } from './pool-state.js';
import { rebuildState } from './rebuild.js';

const TERM = 'term';
const POOL_PREFIX = 'pool:';

export interface AllocatorTermOptions {
  service: AllocatorService;
  io: BlockIO;
  committer: BlockCommitter;
  pools: Informer<SpiderIPPool & KubernetesObject>;
  reservedIPs: Informer<SpiderReservedIP & KubernetesObject>;
  /** Called once the term's state is served, e.g. to sweep records of pods deleted meanwhile. */
  afterRebuild?: (state: PoolState) => void;
  log: Logger;
}

export function allocatorTermController(opts: AllocatorTermOptions): Controller {
  const { service, pools, reservedIPs } = opts;
  const term: Source = { subscribe: () => () => {}, keys: () => [TERM], hasSynced: () => true };
  return new Controller({
    name: 'allocator-term',
    sources: [
      term,
      informerSource(pools, (p) => [`${POOL_PREFIX}${p.metadata?.name ?? ''}`]),
      // A reserved IP can touch any pool: recompute them all.
      informerSource(reservedIPs, () => pools.list().map((p) => `${POOL_PREFIX}${p.metadata?.name ?? ''}`)),
    ],
    log: opts.log,
    reconcile: async (key, ctx) => {
      if (key === TERM) {
        service.setState(undefined, 'rebuilding allocation state from IPAMBlocks');
        const state = await rebuildState(opts.io, opts.committer, pools.list(), reservedIPs.list(), ctx.log);
        if (ctx.signal.aborted) return;
        service.setState(state);
        ctx.signal.addEventListener('abort', () => service.setState(undefined, 'not leading'), { once: true });
        opts.afterRebuild?.(state);
        return;
      }
      const state = service.poolState;
      // Before the rebuild finished: the rebuild reads the pools itself; look again shortly.
      if (state === undefined) return { requeueAfterMs: 500 };
      const name = key.slice(POOL_PREFIX.length);
      const pool = pools.get(name);
      if (pool === undefined) {
        state.removePool(name);
        return;
      }
      const problem = state.upsertPool(pool, reservedAddresses(reservedIPs.list()));
      if (problem !== undefined) ctx.log.warn('pool spec not applied', { problem });
    },
  });
}
