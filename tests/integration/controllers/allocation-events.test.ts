// Warning Events for failed allocations on the real apiserver: an allocator service wired as the
// operator wires it (informers, group committer, onAllocationFailure → allocationEventRecorder), a
// one-address pool: the second pod's Allocate fails with pool-exhausted and the pod gets an
// IPPoolExhausted Event naming the pool, its counts and the fix; a pod naming a pool that does not
// exist gets NoCandidateIPPool with the selection's reason; a retry within the interval posts no
// second Event.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubernetesListObject, type KubernetesObject, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool, SpiderReservedIP } from '../../../operator/src/api/v2beta1/types.js';
import { EVENT_NO_CANDIDATE_POOL, EVENT_POOL_EXHAUSTED, allocationEventRecorder } from '../../../operator/src/controllers/allocation-events.js';
import { Informer } from '../../../operator/src/framework/informer.js';
import { AllocatorService } from '../../../operator/src/service/allocator-service.js';
import { KubeBlockIO } from '../../../operator/src/service/block-client.js';
import { BlockCommitter } from '../../../operator/src/service/block-committer.js';
import { informerClusterView } from '../../../operator/src/service/cluster-view.js';
import { rebuildState } from '../../../operator/src/service/rebuild.js';
import type { AllocateRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { kubectl } from '../../support/cluster.js';
import { type Env, createPods, createPool, setUp, tearDown } from '../allocator/harness.js';
import { waitFor } from '../helpers/wait.js';

jest.setTimeout(180_000);

const id = randomBytes(3).toString('hex');
const pool = `ev-one-${id}`;
let env: Env;
let service: AllocatorService;
let stop: () => Promise<void>;

const req = (name: string, uid: string): AllocateRequest => ({
  containerId: `cid-${name}`,
  netns: '/var/run/netns/x',
  ifname: 'eth0',
  pod: { namespace: env.ns, name, uid },
  nodeName: env.node,
  defaultIpv4Ippool: [],
  defaultIpv6Ippool: [],
  requestId: `r-${name}`,
  networkName: 'macvlan',
});

interface Ev {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject: { name?: string; uid?: string };
}

async function eventsOf(pod: string, reason: string): Promise<Ev[]> {
  const list = JSON.parse(await kubectl(['get', 'events', '-n', env.ns, '--field-selector', `involvedObject.name=${pod},reason=${reason}`, '-o', 'json'])) as { items: Ev[] };
  return list.items;
}

beforeAll(async () => {
  env = await setUp('ev');
  await createPool(pool, '10.252.7.0/24', '10.252.7.10');
  const { kc, ns } = env;
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const listCustom = <T extends KubernetesObject>(plural: string) => (o: object) => custom.listClusterCustomObject({ group: 'spiderpool.spidernet.io', version: 'v2beta1', plural, ...o }) as Promise<KubernetesListObject<T>>;
  const pods = new Informer<V1Pod>({ name: 'pods', kubeConfig: kc, path: `/api/v1/namespaces/${ns}/pods`, list: (o) => core.listNamespacedPod({ namespace: ns, ...o }), log: env.log });
  const namespaces = new Informer<V1Namespace>({ name: 'namespaces', kubeConfig: kc, path: '/api/v1/namespaces', list: (o) => core.listNamespace(o), log: env.log });
  const nodes = new Informer<V1Node>({ name: 'nodes', kubeConfig: kc, path: '/api/v1/nodes', list: (o) => core.listNode(o), log: env.log });
  const pools = new Informer<SpiderIPPool & KubernetesObject>({ name: 'spiderippools', kubeConfig: kc, path: '/apis/spiderpool.spidernet.io/v2beta1/spiderippools', list: listCustom('spiderippools'), log: env.log });
  const reservedIPs = new Informer<SpiderReservedIP & KubernetesObject>({ name: 'spiderreservedips', kubeConfig: kc, path: '/apis/spiderpool.spidernet.io/v2beta1/spiderreservedips', list: listCustom('spiderreservedips'), log: env.log });
  const informers = [pods, namespaces, nodes, pools, reservedIPs];
  for (const i of informers) i.start();
  for (const i of informers) if (!(await i.waitForSync(30_000))) throw new Error('informer did not sync');
  const io = new KubeBlockIO(kc);
  const committer = new BlockCommitter(io);
  service = new AllocatorService({
    committer,
    cluster: informerClusterView({ pods, namespaces, nodes, pools, reservedIPs }, core, kc.makeApiClient(AppsV1Api)),
    selection: { enableIPv4: true, enableIPv6: true, multusNamespace: 'kube-system' },
    onAllocationFailure: allocationEventRecorder(core, env.log),
    log: env.log,
  });
  // Only this run's pool in the allocator: the cluster is shared.
  await waitFor('pool cached', async () => ({ ok: pools.get(pool) !== undefined, detail: '' }), 20_000, 100);
  service.setState(await rebuildState(io, committer, pools.list().filter((p) => p.metadata?.name === pool), [], env.log));
  stop = async () => void (await Promise.all(informers.map((i) => i.stop())));
}, 10 * 60_000);

afterAll(async () => {
  await stop?.();
  if (env) await tearDown(env, [pool]);
});

it('an exhausted pool: IPPoolExhausted on the pod with the counts and the fix, once per interval', async () => {
  const pods = await createPods(env, 'ex', 2, pool);
  const [[a, ua], [b, ub]] = [...pods] as [[string, string], [string, string]];
  await service.allocate(req(a!, ua!));
  await expect(service.allocate(req(b!, ub!))).rejects.toMatchObject({ reason: 'pool-exhausted' });
  const events = await waitFor(`IPPoolExhausted event on ${b}`, async () => {
    const evs = await eventsOf(b!, EVENT_POOL_EXHAUSTED);
    return { ok: evs.length > 0, value: evs, detail: JSON.stringify(evs) };
  }, 30_000, 250);
  expect(events[0]).toMatchObject({ type: 'Warning', involvedObject: { name: b, uid: ub } });
  expect(events[0]!.message).toBe(`pool ${pool} has no free IP (1/1 allocated); add IPs to spec.ips or scale down`);
  // The runtime retries: no second Event within the interval.
  await expect(service.allocate(req(b!, ub!))).rejects.toMatchObject({ reason: 'pool-exhausted' });
  await new Promise((r) => setTimeout(r, 1500));
  expect(await eventsOf(b!, EVENT_POOL_EXHAUSTED)).toHaveLength(1);
  // The pod that got the address has none.
  expect(await eventsOf(a!, EVENT_POOL_EXHAUSTED)).toHaveLength(0);
});

it('no candidate pool: NoCandidateIPPool with the selection reason and what to fix', async () => {
  const pods = await createPods(env, 'nc', 1, `ev-missing-${id}`);
  const [name, uid] = [...pods][0]!;
  await expect(service.allocate(req(name!, uid!))).rejects.toMatchObject({ reason: 'no-candidate-pool' });
  const events = await waitFor(`NoCandidateIPPool event on ${name}`, async () => {
    const evs = await eventsOf(name!, EVENT_NO_CANDIDATE_POOL);
    return { ok: evs.length > 0, value: evs, detail: JSON.stringify(evs) };
  }, 30_000, 250);
  expect(events[0]!.message).toContain(`ev-missing-${id}`);
  expect(events[0]!.message).toContain("fix the pod's ipam.spidernet.io/ippool(s) annotation");
});
