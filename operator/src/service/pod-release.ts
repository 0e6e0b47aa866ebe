// Release on pod deletion (DESIGN.md: "Release on DEL, on pod deletion events, and by the GC"): a
// leader-only controller keyed by pod namespace/name, queued by pod delete events and, at the start
// of each term, by every pod that holds a record (pods deleted while no replica led).
import type { V1Pod } from '@kubernetes/client-node';
import { Controller, type Source } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import { objectKey, splitKey } from '../framework/keys.js';
import type { Logger } from '../framework/logger.js';
import type { AllocatorService } from './allocator-service.js';

export function podReleaseController(opts: { service: AllocatorService; pods: Informer<V1Pod>; log: Logger }): Controller {
  const deletions: Source = {
    subscribe: (enqueue) => opts.pods.addEventHandler({ delete: (pod) => enqueue(objectKey(pod)) }),
    // Only deletions matter here; the term's sweep comes through afterRebuild.
    keys: () => [],
    hasSynced: () => opts.pods.hasSynced(),
  };
  return new Controller({
    name: 'pod-release',
    sources: [deletions],
    workers: 4,
    log: opts.log,
    reconcile: async (key) => {
      // Not serving yet (rebuilding): the rebuild's sweep queues every pod with records anyway.
      if (opts.service.poolState === undefined) return { requeueAfterMs: 1000 };
      const { namespace = '', name } = splitKey(key);
      await opts.service.releaseDeletedPod(namespace, name);
    },
  });
}
