// The operator assembled: caches for pods, namespaces, nodes, pools, reserved IPs, IPAMBlocks and
// SpiderEndpoints; Lease leader election; while leading, the allocator term (state rebuilt from the
// IPAMBlocks before serving), release on pod deletion, and the derived views (SpiderIPPool status,
// SpiderEndpoints); the TLS gRPC endpoint, which followers answer with the leader's address.
// main.ts builds one from the environment; tests build several in one process.
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Namespace, type V1Node } from '@kubernetes/client-node';
import { DEFAULT_GC_CONFIG, type OperatorConfig, leaderAddress, leaseIdentity } from './config.js';
import { newBlockInformer, newEndpointInformer, newPodInformer, newPoolInformer, newReservedIPInformer, newSubnetInformer } from './controllers/informers.js';
import { allocationEventRecorder } from './controllers/allocation-events.js';
import { createAutoPools } from './controllers/autopool/index.js';
import { KubePoolStatusWriter, newIPPoolStatusController } from './controllers/ippool-status.js';
import { KubeEndpointWriter, apiParentLookup, newSpiderEndpointController } from './controllers/spiderendpoint.js';
import { Informer } from './framework/informer.js';
import { leaseApi } from './framework/leader-election-client.js';
import type { Logger } from './framework/logger.js';
import { Manager } from './framework/manager.js';
import { newHistoryController } from './history/controller.js';
import { KubeHistoryIO } from './history/kube-io.js';
import { newGarbageCollector } from './gc/gc-controller.js';
import { apiGcLookup } from './gc/lookup.js';
import { OperatorMetrics } from './metrics/operator-metrics.js';
import { operatorSources } from './metrics/sources.js';
import { AllocatorService } from './service/allocator-service.js';
import { allocatorTermController } from './service/allocator-term.js';
import { KubeBlockIO } from './service/block-client.js';
import { BlockCommitter } from './service/block-committer.js';
import { informerClusterView } from './service/cluster-view.js';
import { type GrpcServerOptions, IpamGrpcServer } from './service/grpc-server.js';
import { podReleaseController } from './service/pod-release.js';
import { NamespaceQuota } from './service/namespace-quota.js';
import { quotaEventRecorder } from './service/quota-events.js';
import { createWebhook } from './webhook/index.js';

export interface Operator {
  manager: Manager;
  service: AllocatorService;
  /** Served as /metrics on the health port. */
  metrics: OperatorMetrics;
  /** Starts caches, election and the gRPC endpoint; resolves with the bound gRPC port. */
  start(): Promise<number>;
  /** Stops taking calls (running ones finish, up to graceMs), then hands the Lease over and stops. */
  stop(graceMs?: number): Promise<void>;
}

export interface OperatorOptions {
  /** Who a gRPC caller is (its node); default the certificate's CN. main.ts passes the strict check. */
  authenticate?: GrpcServerOptions['authenticate'];
}

export function createOperator(config: OperatorConfig, kc: KubeConfig, log: Logger, opts: OperatorOptions = {}): Operator {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = newPodInformer(kc, log);
  const namespaces = new Informer<V1Namespace>({ name: 'namespaces', kubeConfig: kc, path: '/api/v1/namespaces', list: (o) => core.listNamespace(o), log });
  const nodes = new Informer<V1Node>({ name: 'nodes', kubeConfig: kc, path: '/api/v1/nodes', list: (o) => core.listNode(o), log });
  const pools = newPoolInformer(kc, log);
  const reservedIPs = newReservedIPInformer(kc, log);
  // Only the derived views read these caches; the allocator rebuilds from a fresh list of blocks.
  const blocks = newBlockInformer(kc, log);
  const endpoints = newEndpointInformer(kc, log);
  // Namespace IP quota (pools belong to subnets), admission (subnet overlap) and auto pools read SpiderSubnets: one cache.
  const subnets = newSubnetInformer(kc, log);

  const io = new KubeBlockIO(kc);
  const metrics = new OperatorMetrics();
  const committer = new BlockCommitter(io, { metrics: metrics.committer });
  const service = new AllocatorService({
    committer,
    cluster: informerClusterView({ pods, namespaces, nodes, pools, reservedIPs }, core, kc.makeApiClient(AppsV1Api), apiParentLookup(kc)),
    selection: { enableIPv4: config.enableIPv4, enableIPv6: config.enableIPv6, multusNamespace: config.namespace, enableAutoPool: config.autoPool?.enabled === true },
    statefulSetKeepsIPs: config.statefulSetKeepsIPs,
    statefulSetKeepScaledDown: config.statefulSetKeepScaledDownIPs === true,
    gcGraceMs: config.gcGraceMs,
    quota: new NamespaceQuota({ namespace: (n) => namespaces.get(n), subnets: () => subnets.list(), onExceeded: quotaEventRecorder(core, log) }),
    // Warning Events on pods for an exhausted pool / no candidate pool, naming the fix.
    onAllocationFailure: allocationEventRecorder(core, log),
    metrics: { allocation: metrics.allocation, release: metrics.release, gc: metrics.gc },
    log: log.child({ component: 'allocator' }),
  });

  // What pods that are gone (or finished, or stuck Terminating) still hold: the garbage collector when
  // enabled (it covers pod deletion too; docs/design/gc.md), else release on pod deletion only.
  const gcConfig = config.gc ?? DEFAULT_GC_CONFIG;
  const gc = gcConfig.enabled
    ? newGarbageCollector({
        service,
        pods,
        nodes,
        lookup: apiGcLookup(core, kc.makeApiClient(AppsV1Api), { keepScaledDown: config.statefulSetKeepScaledDownIPs === true }),
        io,
        committer,
        policy: { statefulSetKeepsIPs: config.statefulSetKeepsIPs, ...gcConfig },
        dryRun: gcConfig.dryRun,
        scanIntervalMs: gcConfig.scanIntervalMs,
        onRelease: (reason) => metrics.gc.released(reason),
        onReleaseError: (reason) => metrics.gc.failed(reason),
        log,
      })
    : undefined;
  const podRelease = gc?.controller ?? podReleaseController({ service, pods, log });
  const term = allocatorTermController({ service, io, committer, pools, reservedIPs, log, afterRebuild: (state) => state.podKeys().forEach((k) => podRelease.enqueue(k)) });
  // Workloads annotated with ipam.spidernet.io/subnet(s) get auto pools carved from SpiderSubnets.
  const autoPools = createAutoPools({ kc, pools, pods, reservedIPs, subnets, service, defaultFlexibleIPNumber: config.autoPool?.defaultFlexibleIPNumber ?? 1, log });
  // Off unless the config turns it on (loadConfig does by default; configs built in code opt in).
  const autoPoolControllers = config.autoPool?.enabled === true ? autoPools.controllers : [];
  const poolStatus = newIPPoolStatusController({ pools, blocks, reservedIPs, writer: new KubePoolStatusWriter(kc), log });
  // Who held each address, since/until when (ADR 0011): follows the block cache, off the allocation path.
  const history = newHistoryController({ blocks, io: new KubeHistoryIO(kc), log });
  const spiderEndpoints = newSpiderEndpointController({ pods, blocks, pools, endpoints, writer: new KubeEndpointWriter(kc), parents: apiParentLookup(kc), log });
  // The pool finalizer controller runs whether or not this replica serves admission: pools that got
  // the finalizer while the webhook was on must still be released from it.
  const webhook = createWebhook({
    kc,
    namespace: config.namespace,
    pools,
    subnets,
    blocks,
    san: { dnsNames: config.webhook?.dnsNames ?? [], ipAddresses: config.webhook?.ipAddresses ?? [] },
    configurations: { validating: config.webhook?.validatingConfigurations ?? [], mutating: config.webhook?.mutatingConfigurations ?? [] },
    log,
  });
  const manager = new Manager({
    log,
    caches: [pods, namespaces, nodes, pools, reservedIPs, blocks, endpoints, subnets, ...(config.autoPool?.enabled === true ? autoPools.caches : [])],
    controllers: [
      { controller: term, leaderOnly: true },
      { controller: podRelease, leaderOnly: true },
      // Pure derivations of the blocks: a second replica running them would write the same result.
      { controller: poolStatus, leaderOnly: true },
      { controller: spiderEndpoints, leaderOnly: true },
      { controller: history, leaderOnly: true },
      ...autoPoolControllers.map((controller) => ({ controller, leaderOnly: true })),
      { controller: webhook.finalizer, leaderOnly: true },
    ],
    // The Lease on connections of its own: a renew never waits for a handshake or behind a list.
    leaderElection: { coordination: leaseApi(kc), namespace: config.namespace, name: config.leaseName, identity: leaseIdentity(config), ...config.lease },
    healthPort: config.healthPort,
    metrics,
    onReconcile: metrics.observeReconcile,
  });
  metrics.watch(operatorSources({ manager, committer, service, pools }));
  const elector = manager.leaderElector!;
  const grpc = new IpamGrpcServer({
    service,
    tls: config.tls,
    leadership: () => ({ leading: elector.isLeader(), leader: leaderAddress(elector.leader()) }),
    ...(opts.authenticate ? { authenticate: opts.authenticate } : {}),
    log: log.child({ component: 'grpc' }),
  });

  return {
    manager,
    service,
    metrics,
    async start() {
      await manager.start();
      const port = await grpc.listen(config.grpcHost, config.grpcPort);
      // Every replica serves admission (the range registry arbitrates between them, ADR 0007).
      if (config.webhook) await webhook.start(config.webhook.host, config.webhook.port);
      log.info('operator started', { grpc: `${config.grpcHost}:${port}`, advertise: config.advertiseAddress, lease: `${config.namespace}/${config.leaseName}` });
      return port;
    },
    async stop(graceMs = 10_000) {
      await grpc.stop(graceMs);
      await webhook.stop();
      await manager.stop();
    },
  };
}
