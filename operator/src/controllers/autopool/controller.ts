// The auto-pool controllers, leader-only: one controller whose sources are the six workload
// informers and the pool informer (a deleted or edited auto pool is put back), all feeding one
// reconciler keyed by application; and the SpiderSubnet status controller (counts follow spec
// changes; ledger entries of pools that stayed gone are given back to the subnet).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { SpiderReservedIP } from '../../api/v2beta1/types.js';
import { Controller, type ControllerOptions, informerSource } from '../../framework/controller.js';
import type { Informer } from '../../framework/informer.js';
import type { Logger } from '../../framework/logger.js';
import type { AutoPoolIO, PoolObject, SubnetObject } from './kube-io.js';
import type { PoolUsage } from './pool-usage.js';
import { AutoPoolReconciler, applicationKeysOfPool } from './reconciler.js';
import type { SubnetLedger } from './subnet-ledger.js';
import { WORKLOAD_KINDS, type WorkloadInformers, workloadKey } from './workloads.js';

export interface AutoPoolControllerOptions {
  workloads: WorkloadInformers;
  pools: Informer<PoolObject>;
  subnets: Informer<SubnetObject>;
  reservedIPs: Informer<SpiderReservedIP & KubernetesObject>;
  io: AutoPoolIO;
  ledger: SubnetLedger;
  usage: PoolUsage;
  defaultFlexibleIPNumber: number;
  log: Logger;
  workers?: number;
  retryMs?: number;
  onResult?: ControllerOptions['onResult'];
}

export function newAutoPoolController(o: AutoPoolControllerOptions): Controller {
  const reconciler = new AutoPoolReconciler(o);
  return new Controller({
    name: 'auto-pool',
    sources: [
      ...WORKLOAD_KINDS.map((kind) => informerSource(o.workloads[kind], (w) => [workloadKey(kind, w.metadata?.namespace ?? '', w.metadata?.name ?? '')])),
      informerSource(o.pools, applicationKeysOfPool),
    ],
    // Carving is serialised per subnet by the ledger; different applications proceed in parallel.
    workers: o.workers ?? 4,
    log: o.log,
    reconcile: (key, ctx) => reconciler.reconcile(key, ctx),
    ...(o.onResult ? { onResult: o.onResult } : {}),
  });
}

export interface SubnetStatusControllerOptions {
  subnets: Informer<SubnetObject>;
  pools: Informer<PoolObject>;
  ledger: SubnetLedger;
  log: Logger;
  /** A ledger entry whose pool has been absent this long is given back (default 60 s). */
  orphanGraceMs?: number;
  now?: () => number;
}

export function newSubnetStatusController(o: SubnetStatusControllerOptions): Controller {
  const grace = o.orphanGraceMs ?? 60_000;
  const now = o.now ?? Date.now;
  // When each ledger entry was first seen without its pool. The auto-pool reconciler writes the
  // ledger just before creating the pool, so an entry is only an orphan after a grace period.
  const missingSince = new Map<string, number>();
  return new Controller({
    name: 'subnet-status',
    sources: [informerSource(o.subnets), informerSource(o.pools, (p) => (p.metadata?.labels?.['ipam.spidernet.io/owner-spider-subnet'] ? [p.metadata.labels['ipam.spidernet.io/owner-spider-subnet']] : []))],
    log: o.log,
    reconcile: async (name) => {
      if (o.subnets.get(name) === undefined) return;
      let wait: number | undefined;
      await o.ledger.update(name, (_s, ledger) => {
        const next = { ...ledger };
        for (const pool of Object.keys(ledger)) {
          const k = `${name}/${pool}`;
          if (o.pools.get(pool) !== undefined) {
            missingSince.delete(k);
            continue;
          }
          const since = missingSince.get(k) ?? now();
          missingSince.set(k, since);
          if (now() - since >= grace) {
            delete next[pool];
            missingSince.delete(k);
            o.log.info('ledger entry of a pool that no longer exists given back to the subnet', { subnet: name, pool });
          } else {
            wait = Math.min(wait ?? Infinity, grace - (now() - since));
          }
        }
        return { ledger: next, result: undefined };
      });
      return wait !== undefined ? { requeueAfterMs: wait } : undefined;
    },
  });
}
