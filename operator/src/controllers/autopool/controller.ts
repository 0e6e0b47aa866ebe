// The auto-pool controllers, leader-only: one controller whose sources are the six workload
// informers and the pool informer (a deleted or edited auto pool is put back), all feeding one
// reconciler keyed by application; and the SpiderSubnet status controller (counts follow spec
// changes; ledger entries of pools that stayed gone are given back to the subnet).
import type { V1Pod } from '@kubernetes/client-node';
import { Controller, type ControllerOptions, informerSource } from '../../framework/controller.js';
import { type Informer, NAMESPACE_INDEX } from '../../framework/informer.js';
import type { KeyFields, Logger } from '../../framework/logger.js';
import type { PoolObject, SubnetObject } from './kube-io.js';
import { carvableSet, subnetCounts } from '../../core/subnet/index.js';
import { conditionsCurrent, subnetConditionFacts } from '../pool-conditions.js';
import { AutoPoolReconciler, type AutoPoolReconcilerOptions, applicationKeysOfPool, cachedLedger } from './reconciler.js';
import { type ThirdPartyReader, parseThirdPartyKey, thirdPartyKeysOfPod } from './third-party.js';
import { byIndexOrScan } from '../informers.js';
import type { SubnetLedger } from './subnet-ledger.js';
import { WORKLOAD_KINDS, parseWorkloadKey, workloadKey } from './workloads.js';

/** The reconciler's options (its third-party view is built here from pods and thirdPartyReader), and the controller's. */
export interface AutoPoolControllerOptions extends Omit<AutoPoolReconcilerOptions, 'thirdParty'> {
  log: Logger;
  workers?: number;
  /** Pods (all namespaces): a pod asking for auto pools queues its third-party controller. */
  pods?: Informer<V1Pod>;
  thirdPartyReader?: ThirdPartyReader;
  onResult?: ControllerOptions['onResult'];
}

/**
 * The log fields of an application key. Keys are `Kind/namespace/name` (or a third-party
 * controller's key), not client-go's `namespace/name`: read as that, every line said
 * namespace "Deployment" and name "ns/web".
 */
export function applicationKeyFields(key: string): KeyFields {
  const app = parseWorkloadKey(key) ?? parseThirdPartyKey(key);
  return app === undefined ? { name: key } : { kind: app.kind, namespace: app.namespace, name: app.name };
}

export function newAutoPoolController(o: AutoPoolControllerOptions): Controller {
  const { pods, thirdPartyReader } = o;
  const reconciler = new AutoPoolReconciler({
    ...o,
    ...(pods && thirdPartyReader ? { thirdParty: { read: thirdPartyReader, pods: (ns: string) => byIndexOrScan(pods, NAMESPACE_INDEX, ns, (p) => [p.metadata?.namespace ?? '']) } } : {}),
  });
  return new Controller({
    name: 'auto-pool',
    sources: [
      ...WORKLOAD_KINDS.map((kind) => informerSource(o.workloads[kind], (w) => [workloadKey(kind, w.metadata?.namespace ?? '', w.metadata?.name ?? '')])),
      informerSource(o.pools, applicationKeysOfPool),
      ...(pods && thirdPartyReader ? [informerSource(pods, thirdPartyKeysOfPod)] : []),
    ],
    // Carving is serialised per subnet by the ledger; different applications proceed in parallel.
    workers: o.workers ?? 4,
    log: o.log,
    keyFields: applicationKeyFields,
    reconcile: (key, ctx) => reconciler.reconcile(key, ctx),
    ...(o.onResult ? { onResult: o.onResult } : {}),
  });
}

export interface SubnetStatusControllerOptions {
  subnets: Informer<SubnetObject>;
  pools: Informer<PoolObject>;
  ledger: SubnetLedger;
  /** Every SpiderReservedIP address (counts leave them out). */
  reserved: () => string[];
  log: Logger;
  /** A ledger entry whose pool has been absent this long is given back (default 60 s). */
  orphanGraceMs?: number;
  now?: () => number;
}

/** Whether the cached status shows the counts and conditions of the cached spec and ledger (a spec edit changes them). */
function countsCurrent(subnet: SubnetObject, reserved: string[]): boolean {
  const st = subnet.status;
  if (st?.totalIPCount === undefined) return false;
  try {
    const c = subnetCounts(carvableSet(subnet.spec, reserved), cachedLedger(subnet));
    return (
      c.totalIPCount === st.totalIPCount &&
      c.allocatedIPCount === st.allocatedIPCount &&
      c.freeIPCount === st.freeIPCount &&
      // a spec edit that keeps the counts still moves the conditions' observedGeneration
      conditionsCurrent(st.conditions, subnetConditionFacts(subnet, c))
    );
  } catch {
    return true; // an invalid spec: nothing to count (the ledger update would fail the same way)
  }
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
      const cached = o.subnets.get(name);
      if (cached === undefined) return;
      // From the cache first: only take the subnet's lock (and read it from the API) when an entry
      // names a missing pool or the counts were never written.
      const entries = Object.keys(cachedLedger(cached));
      if (countsCurrent(cached, o.reserved()) && entries.every((pool) => o.pools.get(pool) !== undefined)) {
        for (const pool of entries) missingSince.delete(`${name}/${pool}`);
        return;
      }
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
