// Set-up shared by the GC integration tests: an allocator instance from the allocator harness (real
// informers, IPAMBlocks on the local control plane), a nodes informer, and the garbage collector wired
// as the operator wires it (operator.ts), with the policy the test asks for.
import { AppsV1Api, CoreV1Api, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { AllocateRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { Informer } from '../../../operator/src/framework/informer.js';
import { type GarbageCollector, newGarbageCollector } from '../../../operator/src/gc/gc-controller.js';
import type { GcPolicy } from '../../../operator/src/gc/decide.js';
import { apiGcLookup } from '../../../operator/src/gc/lookup.js';
import { KubeBlockIO } from '../../../operator/src/service/block-client.js';
import { kubectl } from '../../support/cluster.js';
import { type Env, type Instance, startInstance } from '../allocator/harness.js';

export const defaultPolicy: GcPolicy = { statefulSetKeepsIPs: true, terminatingOnReadyNode: true, terminatingOnNotReadyNode: true, additionalGraceDelayMs: 0 };

export interface GcStack {
  inst: Instance;
  nodes: Informer<V1Node>;
  gc: GarbageCollector;
  stop(): Promise<void>;
}

export async function startGc(env: Env, name: string, opts: { policy?: Partial<GcPolicy>; dryRun?: boolean; runController?: boolean; resyncMarginMs?: number } = {}): Promise<GcStack> {
  const inst = await startInstance(env, name);
  const core = env.kc.makeApiClient(CoreV1Api);
  const nodes = new Informer<V1Node>({ name: 'nodes', kubeConfig: env.kc, path: '/api/v1/nodes', list: (o) => core.listNode(o), log: env.log });
  nodes.start();
  if (!(await nodes.waitForSync(30_000))) throw new Error('nodes informer did not sync');
  const gc = newGarbageCollector({
    service: inst.service,
    pods: inst.pods,
    nodes,
    lookup: apiGcLookup(core, env.kc.makeApiClient(AppsV1Api)),
    io: new KubeBlockIO(env.kc),
    committer: inst.committer,
    policy: { ...defaultPolicy, ...opts.policy },
    dryRun: opts.dryRun ?? false,
    scanIntervalMs: 0,
    // the state holds every record of the cluster: judge only this test's pods
    namespaces: [env.ns],
    ...(opts.resyncMarginMs !== undefined ? { resyncMarginMs: opts.resyncMarginMs } : {}),
    log: env.log.child({ gc: name }),
  });
  if (opts.runController ?? true) {
    gc.controller.start();
    gc.enqueueAll();
  }
  return {
    inst,
    nodes,
    gc,
    async stop() {
      await gc.controller.stop();
      await nodes.stop();
      await inst.stop();
    },
  };
}

export const allocateReq = (env: Env, name: string, uid: string): AllocateRequest => ({
  containerId: `c-${name}-${uid.slice(0, 8)}`,
  netns: '',
  ifname: 'eth0',
  pod: { namespace: env.ns, name, uid },
  nodeName: env.node,
  defaultIpv4Ippool: [],
  defaultIpv6Ippool: [],
  requestId: '',
  networkName: '',
});

export async function podUid(env: Env, name: string): Promise<string | undefined> {
  const out = await kubectl(['get', 'pod', '-n', env.ns, name, '--ignore-not-found', '-o', 'jsonpath={.metadata.uid}']);
  return out.trim() || undefined;
}

export async function getPod(env: Env, name: string): Promise<V1Pod | undefined> {
  const out = await kubectl(['get', 'pod', '-n', env.ns, name, '--ignore-not-found', '-o', 'json']);
  return out.trim() ? (JSON.parse(out) as V1Pod) : undefined;
}

/** A pod on `node`, annotated for `pool`, tolerating everything (no kubelet runs it). */
export async function createPod(env: Env, name: string, node: string, pool: string): Promise<string> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: env.ns, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool] }) } },
    spec: { nodeName: node, tolerations: [{ operator: 'Exists' }], automountServiceAccountToken: false, containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const uid = await podUid(env, name);
  if (!uid) throw new Error(`pod ${name} not created`);
  return uid;
}

/** Sets the Node's Ready condition (no kubelet: the test plays it). */
export async function setNodeReady(node: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'GcTest', message: 'set by the GC test', lastHeartbeatTime: now, lastTransitionTime: now }] };
  await kubectl(['patch', 'node', node, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}
