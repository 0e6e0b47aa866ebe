// Everything the auto pools need, built once for createOperator: the workload and SpiderSubnet
// caches and the two leader-only controllers, over the operator's pool and reserved-IP caches and
// its allocator (for what pools hold, and to take addresses out before a shrink).
import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { SpiderReservedIP } from '../../api/v2beta1/types.js';
import type { Controller } from '../../framework/controller.js';
import type { Informer } from '../../framework/informer.js';
import type { Logger } from '../../framework/logger.js';
import type { AllocatorService } from '../../service/allocator-service.js';
import { reservedAddresses } from '../../service/pool-state.js';
import { manualPoolAddresses } from '../../core/subnet/index.js';
import { newSubnetInformer } from '../informers.js';
import { newAutoPoolController, newSubnetStatusController } from './controller.js';
import { autoPoolEventRecorder } from './events.js';
import { apiThirdPartyReader } from './third-party.js';
import { KubeAutoPoolIO, type PoolObject, type SubnetObject } from './kube-io.js';
import { allocatorPoolUsage } from './pool-usage.js';
import { SubnetLedger } from './subnet-ledger.js';
import { WORKLOAD_KINDS, newWorkloadInformers } from './workloads.js';

export interface AutoPools {
  caches: Informer<KubernetesObject>[];
  controllers: Controller[];
  subnets: Informer<SubnetObject>;
}

export function createAutoPools(o: {
  kc: KubeConfig;
  pools: Informer<PoolObject>;
  reservedIPs: Informer<SpiderReservedIP & KubernetesObject>;
  service: AllocatorService;
  defaultFlexibleIPNumber: number;
  log: Logger;
  /** The operator's pod cache: pods of third-party controllers (custom kinds) queue them. */
  pods?: Informer<V1Pod>;
  /** An existing SpiderSubnet cache to share; default a new one. */
  subnets?: Informer<SubnetObject>;
  retryMs?: number;
}): AutoPools {
  const log = o.log.child({ component: 'auto-pool' });
  const workloads = newWorkloadInformers(o.kc, log);
  const subnets = o.subnets ?? newSubnetInformer(o.kc, log);
  const io = new KubeAutoPoolIO(o.kc);
  // Carving leaves out reserved IPs and the addresses of hand-made pools inside a subnet (manual-pools.ts).
  const unavailable = () => [...reservedAddresses(o.reservedIPs.list()), ...manualPoolAddresses(o.pools.list())];
  const ledger = new SubnetLedger(io, unavailable);
  const usage = allocatorPoolUsage(o.service, () => o.reservedIPs.list());
  const autoPool = newAutoPoolController({
    workloads,
    pools: o.pools,
    subnets,
    reservedIPs: o.reservedIPs,
    io,
    ledger,
    usage,
    defaultFlexibleIPNumber: o.defaultFlexibleIPNumber,
    log,
    ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}),
    events: autoPoolEventRecorder(o.kc.makeApiClient(CoreV1Api), log),
    ...(o.pods ? { pods: o.pods, thirdPartyReader: apiThirdPartyReader(o.kc) } : {}),
  });
  const subnetStatus = newSubnetStatusController({ subnets, pools: o.pools, ledger, reserved: unavailable, log });
  const caches = [...WORKLOAD_KINDS.map((k) => workloads[k]), ...(o.subnets ? [] : [subnets])] as Informer<KubernetesObject>[];
  return { caches, controllers: [autoPool, subnetStatus], subnets };
}
