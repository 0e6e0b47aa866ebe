// Shared set-up for the allocator's integration tests and benchmark: the IPAMBlock CRD installed, a
// throwaway namespace with real Pod objects bound to a Node object that no kubelet serves (nothing runs
// the pods; the scheduler skips pods that already have spec.nodeName; the Node must exist, or the
// controller-manager's pod GC deletes them as orphans after 40 s), SpiderIPPools, and allocator service
// instances wired exactly as the operator wires them (informers, KubeBlockIO, group committer).
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ServiceError, makeGenericClientConstructor } from '@grpc/grpc-js';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { IPAM_GROUP, IPAMBLOCK_PLURAL, IPAM_VERSION, LABEL_BLOCK_POOL, decodeEntry, type IPAMBlock } from '../../../operator/src/api/internal/ipamblock.js';
import type { SpiderIPPool, SpiderReservedIP } from '../../../operator/src/api/v2beta1/types.js';
import { Informer } from '../../../operator/src/framework/informer.js';
import { createLogger, type Logger } from '../../../operator/src/framework/logger.js';
import { AllocatorService } from '../../../operator/src/service/allocator-service.js';
import { KubeBlockIO } from '../../../operator/src/service/block-client.js';
import { BlockCommitter } from '../../../operator/src/service/block-committer.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { informerClusterView } from '../../../operator/src/service/cluster-view.js';
import { rebuildState } from '../../../operator/src/service/rebuild.js';
import { decodeStatusDetails, type ErrorDetail, STATUS_DETAILS_TRAILER } from '../../../operator/src/rpc/errors.js';
import { ipamServiceDefinition } from '../../../operator/src/rpc/grpc-service.js';
import type { Pki } from '../../../ipam-plugin/test/support/pki.js';
import { kubectl } from '../../support/cluster.js';
import { createTestNamespace } from '../../support/test-namespace.js';


export interface Env {
  kc: KubeConfig;
  ns: string;
  /** The fake node every test pod is bound to. */
  node: string;
  log: Logger;
}

export async function setUp(prefix: string): Promise<Env> {
  const { kc, ns, node } = await createTestNamespace(prefix);
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', defaultMeta: { test: prefix } });
  return { kc, ns, node, log };
}

export async function tearDown(env: Env, pools: readonly string[]): Promise<void> {
  await kubectl(['delete', 'namespace', env.ns, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'node', env.node, '--ignore-not-found']);
  for (const p of pools) {
    await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(p)}`, '--ignore-not-found']);
    await kubectl(['delete', 'spiderippool', p, '--ignore-not-found']);
  }
}

/** A v4 pool of `count` addresses starting at `first` (inside `subnet`). */
export async function createPool(name: string, subnet: string, ips: string, gateway?: string): Promise<void> {
  const pool = {
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderIPPool',
    metadata: { name },
    spec: { subnet, ips: [ips], ...(gateway ? { gateway } : {}) },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pool) });
}

/**
 * `count` pods named `<prefix>-<i>` on env.node, annotated for `pool`; returns name → uid. They
 * tolerate everything: the node never becomes Ready, and its NoExecute taints would evict them.
 */
export async function createPods(env: Env, prefix: string, count: number, pool: string): Promise<Map<string, string>> {
  // Through the API, 16 at a time: `kubectl apply` of a List creates them one by one and took minutes
  // for thousands of pods on a busy machine.
  const core = env.kc.makeApiClient(CoreV1Api);
  const uids = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const body: V1Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${prefix}-${i}`, namespace: env.ns, labels: { app: prefix }, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool] }) } },
        spec: { nodeName: env.node, tolerations: [{ operator: 'Exists' }], automountServiceAccountToken: false, containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
      };
      const created = await core.createNamespacedPod({ namespace: env.ns, body });
      uids.set(created.metadata!.name!, created.metadata!.uid!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, count) }, worker));
  // In creation order (pod i at index i), as callers slice them.
  return new Map(Array.from({ length: count }, (_, i) => [`${prefix}-${i}`, uids.get(`${prefix}-${i}`)!]));
}

export interface Instance {
  service: AllocatorService;
  committer: BlockCommitter;
  pods: Informer<V1Pod>;
  stop(): Promise<void>;
}

/** One allocator service as the operator builds it for a leadership term (caches, rebuild, serve). */
export async function startInstance(env: Env, name: string): Promise<Instance> {
  const { kc, ns } = env;
  const log = env.log.child({ instance: name });
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const listCustom =
    <T extends KubernetesObject>(group: string, version: string, plural: string) =>
    (o: object) =>
      custom.listClusterCustomObject({ group, version, plural, ...o }) as Promise<KubernetesListObject<T>>;
  const pods = new Informer<V1Pod>({ name: 'pods', kubeConfig: kc, path: `/api/v1/namespaces/${ns}/pods`, list: (o) => core.listNamespacedPod({ namespace: ns, ...o }), log });
  const namespaces = new Informer<V1Namespace>({ name: 'namespaces', kubeConfig: kc, path: '/api/v1/namespaces', list: (o) => core.listNamespace(o), log });
  const nodes = new Informer<V1Node>({ name: 'nodes', kubeConfig: kc, path: '/api/v1/nodes', list: (o) => core.listNode(o), log });
  const pools = new Informer<SpiderIPPool & KubernetesObject>({
    name: 'spiderippools',
    kubeConfig: kc,
    path: '/apis/spiderpool.spidernet.io/v2beta1/spiderippools',
    list: listCustom('spiderpool.spidernet.io', 'v2beta1', 'spiderippools'),
    log,
  });
  const reservedIPs = new Informer<SpiderReservedIP & KubernetesObject>({
    name: 'spiderreservedips',
    kubeConfig: kc,
    path: '/apis/spiderpool.spidernet.io/v2beta1/spiderreservedips',
    list: listCustom('spiderpool.spidernet.io', 'v2beta1', 'spiderreservedips'),
    log,
  });
  const informers = [pods, namespaces, nodes, pools, reservedIPs];
  for (const i of informers) i.start();
  for (const i of informers) if (!(await i.waitForSync(30_000))) throw new Error(`informer did not sync for instance ${name}`);

  const io = new KubeBlockIO(kc);
  const committer = new BlockCommitter(io);
  const service = new AllocatorService({
    committer,
    cluster: informerClusterView({ pods, namespaces, nodes, pools, reservedIPs }, core, kc.makeApiClient(AppsV1Api)),
    selection: { enableIPv4: true, enableIPv6: true, multusNamespace: 'kube-system' },
    log,
  });
  service.setState(await rebuildState(io, committer, pools.list(), reservedIPs.list(), log));
  return { service, committer, pods, stop: async () => void (await Promise.all(informers.map((i) => i.stop()))) };
}

/** Every recorded (ip → pod uid) of `pool`, read straight from the IPAMBlocks. */
export async function recordedAddresses(env: Env, pool: string): Promise<Map<string, string>> {
  const custom = env.kc.makeApiClient(CustomObjectsApi);
  const list = (await custom.listClusterCustomObject({ group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL, labelSelector: `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}` })) as { items: IPAMBlock[] };
  const out = new Map<string, string>();
  for (const b of list.items) {
    if (b.spec.pool !== pool) continue;
    const base = b.spec.cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
    for (const [k, text] of Object.entries(b.spec.allocations)) {
      const e = decodeEntry(text);
      if (e instanceof Error) throw e;
      out.set(`${base}.${k}`, e.uid);
    }
  }
  return out;
}

const IPAMClient = makeGenericClientConstructor(ipamServiceDefinition, 'IPAM');

export interface GrpcCaller {
  call(method: 'allocate' | 'release' | 'check' | 'gC' | 'status', req: object): Promise<unknown>;
  close(): void;
}

/** A grpc-js client of the IPAM service with the PKI's node certificate. */
export function grpcClient(pki: Pki, port: number): GrpcCaller {
  const c = new IPAMClient(`127.0.0.1:${port}`, credentials.createSsl(pki.ca, readFileSync(pki.clientKeyFile), readFileSync(pki.clientCertFile)));
  const methods = c as unknown as Record<string, (r: object, m: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => void>;
  return {
    call: (method, req) => new Promise((resolve, reject) => methods[method]!.call(c, req, new Metadata(), (e, r) => (e ? reject(e) : resolve(r)))),
    close: () => c.close(),
  };
}

/** The status code and our ErrorInfo of a failed call. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; detail: ErrorDetail | undefined }> {
  const e = (await p.then(
    () => {
      throw new Error('the call succeeded');
    },
    (x: unknown) => x,
  )) as ServiceError;
  const bin = e.metadata?.get(STATUS_DETAILS_TRAILER)[0];
  return { code: e.code, detail: bin instanceof Buffer ? decodeStatusDetails(bin) : undefined };
}
