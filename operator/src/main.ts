// The operator process: configuration from the environment, caches for pods, namespaces, pools and
// reserved IPs, Lease leader election, and while leading the allocator (rebuilt from the IPAMBlocks
// before it answers) behind the TLS gRPC endpoint. SIGTERM: stop taking calls and let running ones
// finish while still leading, then hand the Lease over and stop.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool, SpiderReservedIP } from './api/v2beta1/types.js';
import { ConfigError, leaderAddress, leaseIdentity, loadConfig } from './config.js';
import { Informer } from './framework/informer.js';
import { createLogger } from './framework/logger.js';
import { Manager } from './framework/manager.js';
import { AllocatorService } from './service/allocator-service.js';
import { allocatorTermController } from './service/allocator-term.js';
import { KubeBlockIO } from './service/block-client.js';
import { BlockCommitter } from './service/block-committer.js';
import { informerClusterView } from './service/cluster-view.js';
import { IpamGrpcServer } from './service/grpc-server.js';
import { podReleaseController } from './service/pod-release.js';

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  for (const p of e.problems) process.stderr.write(`spiderpool-ts-operator: ${p}\n`);
  process.exit(2);
}
const log = createLogger({ level: config.logLevel, defaultMeta: { pod: config.podName } });

const kc = new KubeConfig();
if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
else kc.loadFromDefault();
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
const pools = new Informer<SpiderIPPool & KubernetesObject>({ name: 'spiderippools', ...spider('spiderippools') });
const reservedIPs = new Informer<SpiderReservedIP & KubernetesObject>({ name: 'spiderreservedips', ...spider('spiderreservedips') });

const io = new KubeBlockIO(kc);
const committer = new BlockCommitter(io);
const service = new AllocatorService({
  committer,
  cluster: informerClusterView({ pods, namespaces, pools, reservedIPs }, core),
  selection: { enableIPv4: config.enableIPv4, enableIPv6: config.enableIPv6, multusNamespace: config.namespace },
  statefulSetKeepsIPs: config.statefulSetKeepsIPs,
  gcGraceMs: config.gcGraceMs,
  log: log.child({ component: 'allocator' }),
});

const podRelease = podReleaseController({ service, pods, log });
const term = allocatorTermController({ service, io, committer, pools, reservedIPs, log, afterRebuild: (state) => state.podKeys().forEach((k) => podRelease.enqueue(k)) });
const manager = new Manager({
  log,
  caches: [pods, namespaces, pools, reservedIPs],
  controllers: [
    { controller: term, leaderOnly: true },
    { controller: podRelease, leaderOnly: true },
  ],
  leaderElection: { coordination: kc.makeApiClient(CoordinationV1Api), namespace: config.namespace, name: config.leaseName, identity: leaseIdentity(config) },
  healthPort: config.healthPort,
});
const elector = manager.leaderElector!;
const grpc = new IpamGrpcServer({
  service,
  tls: config.tls,
  leadership: () => ({ leading: elector.isLeader(), leader: leaderAddress(elector.leader()) }),
  log: log.child({ component: 'grpc' }),
});

await manager.start();
const port = await grpc.listen(config.grpcHost, config.grpcPort);
log.info('operator started', { grpc: `${config.grpcHost}:${port}`, advertise: config.advertiseAddress, lease: `${config.namespace}/${config.leaseName}` });

let stopping = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (stopping) {
    log.warn('second signal: exiting without draining', { signal });
    process.exit(1);
  }
  stopping = true;
  log.info('signal received: draining', { signal });
  grpc
    .stop(10_000)
    .then(() => manager.stop())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
