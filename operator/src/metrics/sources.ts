// The operator's scrape-time sources: leadership, controller queues, the group committer's totals,
// and the leader's pool counts (the allocator's in-memory state, itself rebuilt from the IPAMBlocks).
import type { SpiderIPPool } from '../api/v2beta1/types.js';
import type { Manager } from '../framework/manager.js';
import { GC_CONTROLLER } from '../gc/gc-controller.js';
import type { AllocatorService } from '../service/allocator-service.js';
import type { BlockCommitter } from '../service/block-committer.js';
import type { ScrapeSources } from './operator-metrics.js';

export interface OperatorParts {
  manager: Manager;
  committer: BlockCommitter;
  service: AllocatorService;
  /** the SpiderIPPool cache: which pools exist (the state has counts only for those it loaded) */
  pools: { list(): SpiderIPPool[] };
}

export function operatorSources(p: OperatorParts): ScrapeSources {
  const elector = p.manager.leaderElector;
  return {
    leader: () => (elector ? elector.isLeader() : true),
    controllers: () => p.manager.controllerStats(),
    committer: () => p.committer.stats(),
    gcBacklog: () => {
      const gc = p.manager.controllerStats().find((c) => c.name === GC_CONTROLLER);
      return gc && gc.depth + gc.delayed;
    },
    pools: () => {
      const state = p.service.poolState;
      if (state === undefined) return undefined;
      return { names: p.pools.list().map((pool) => pool.metadata.name ?? ''), counts: (name) => state.counts(name), generation: state };
    },
  };
}
