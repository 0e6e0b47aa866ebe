// The operator assembled: caches for pods, namespaces, nodes, pools and reserved IPs; Lease leader
// election; while leading, the allocator term (state rebuilt from the IPAMBlocks before serving) and
// release on pod deletion; the TLS gRPC endpoint, which followers answer with the leader's address.
// main.ts builds one from the environment; tests build several in one process.
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool, SpiderReservedIP } from './api/v2beta1/types.js';
import { type OperatorConfig, leaderAddress, leaseIdentity } from './config.js';
import { Informer } from './framework/informer.js';
import type { LeaderElectorOptions } from './framework/leader-election.js';
import type { Logger } from './framework/logger.js';
import { Manager } from './framework/manager.js';
import { AllocatorService } from './service/allocator-service.js';
import { allocatorTermController } from './service/allocator-term.js';
import { KubeBlockIO } from './service/block-client.js';
import { BlockCommitter } from './service/block-committer.js';
import { informerClusterView } from './service/cluster-view.js';
import { type GrpcServerOptions, IpamGrpcServer } from './service/grpc-server.js';
import { podReleaseController } from './service/pod-release.js';

/** Lease timings; defaults are client-go's (15 s / 10 s / 2 s). */
export type LeaseTimings = Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;

export interface Operator {
  manager: Manager;
  service: AllocatorService;
  /** Starts caches, election and the gRPC endpoint; resolves with the bound gRPC port. */
  start(): Promise<number>;
  /** Stops taking calls (running ones finish, up to graceMs), then hands the Lease over and stops. */
  stop(graceMs?: number): Promise<void>;
}

export interface OperatorOptions {
  lease?: LeaseTimings;
  /** Who a gRPC caller is (its node); default the certificate's CN. main.ts passes the strict check. */
  authenticate?: GrpcServerOptions['authenticate'];
}

export function createOperator(config: OperatorConfig, kc: KubeConfig, log: Logger, opts: OperatorOptions = {}): Operator {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const spider = <T extends KubernetesObject>(plural: string) => ({
    kubeConfig: kc,
    path: `/apis/spiderpool.spidernet.io/v2beta1/${plural}`,
    list: (o: object) => custom.listClusterCustomObject({ group: 'spiderpool.spidernet.io', version: 'v2beta1', plural, ...o }) as Promise<KubernetesListObject<T>>,
    log,
  });
  const pods = new Informer<V1Pod>({ name: 'pods', kubeConfig: kc, path: '/api/v1/pods', list: (o) => core.listPodForAllNamespaces(o), log });
  const namespaces = new Informer<V1Namespace>({ name: 'namespaces', kubeConfig: kc, path: '/api/v1/namespaces', list: (o) => core.listNamespace(o), log });
  const nodes = new Informer<V1Node>({ name: 'nodes', kubeConfig: kc, path: '/api/v1/nodes', list: (o) => core.listNode(o), log });
  const pools = new Informer<SpiderIPPool & KubernetesObject>({ name: 'spiderippools', ...spider('spiderippools') });
  const reservedIPs = new Informer<SpiderReservedIP & KubernetesObject>({ name: 'spiderreservedips', ...spider('spiderreservedips') });

  const io = new KubeBlockIO(kc);
  const committer = new BlockCommitter(io);
  const service = new AllocatorService({
    committer,
    cluster: informerClusterView({ pods, namespaces, nodes, pools, reservedIPs }, core, kc.makeApiClient(AppsV1Api)),
    selection: { enableIPv4: config.enableIPv4, enableIPv6: config.enableIPv6, multusNamespace: config.namespace },
    statefulSetKeepsIPs: config.statefulSetKeepsIPs,
    gcGraceMs: config.gcGraceMs,
    log: log.child({ component: 'allocator' }),
  });

  const podRelease = podReleaseController({ service, pods, log });
  const term = allocatorTermController({ service, io, committer, pools, reservedIPs, log, afterRebuild: (state) => state.podKeys().forEach((k) => podRelease.enqueue(k)) });
  const manager = new Manager({
    log,
    caches: [pods, namespaces, nodes, pools, reservedIPs],
    controllers: [
      { controller: term, leaderOnly: true },
      { controller: podRelease, leaderOnly: true },
    ],
    leaderElection: { coordination: kc.makeApiClient(CoordinationV1Api), namespace: config.namespace, name: config.leaseName, identity: leaseIdentity(config), ...opts.lease },
    healthPort: config.healthPort,
  });
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
    async start() {
      await manager.start();
      const port = await grpc.listen(config.grpcHost, config.grpcPort);
      log.info('operator started', { grpc: `${config.grpcHost}:${port}`, advertise: config.advertiseAddress, lease: `${config.namespace}/${config.leaseName}` });
      return port;
    },
    async stop(graceMs = 10_000) {
      await grpc.stop(graceMs);
      await manager.stop();
    },
  };
}
