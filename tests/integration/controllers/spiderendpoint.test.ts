// The SpiderEndpoint controller on the real apiserver: an endpoint appears for a pod whose addresses
// the IPAMBlocks record, with the right ips, pools, gateways and owner (the Deployment above the
// ReplicaSet; a StatefulSet pod gets no ownerReference), follows block changes, is not rewritten when
// nothing changed, is recreated without an owner when the garbage collector removes it with a pod whose
// addresses are still held, and is deleted when the entries go.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { AppsV1Api, type V1Pod } from '@kubernetes/client-node';
import type { SpiderEndpoint } from '../../../operator/src/api/v2beta1/types.js';
import { newBlockInformer, newEndpointInformer, newPodInformer, newPoolInformer } from '../../../operator/src/controllers/informers.js';
import { KubeEndpointWriter, apiParentLookup, newSpiderEndpointController } from '../../../operator/src/controllers/spiderendpoint.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { type Env, createPod, createPool, poolUID, scopes, setUp, tearDown, writeBlock } from './env.js';

jest.setTimeout(120_000);

const id = randomBytes(3).toString('hex');
const v4 = `ctl-se-v4-${id}`;
const v6 = `ctl-se-v6-${id}`;
let env: Env;
let mgr: Manager;
let v4UID: string;
let v6UID: string;
const writes: { op: string; key: string }[] = [];
const reconciles: string[] = [];

async function getEndpoint(name: string): Promise<SpiderEndpoint | undefined> {
  const out = await kubectl(['get', 'spiderendpoint', name, '-n', env.ns, '-o', 'json', '--ignore-not-found']);
  return out.trim() ? (JSON.parse(out) as SpiderEndpoint) : undefined;
}

function waitEndpoint(name: string, ok: (e: SpiderEndpoint | undefined) => boolean, what: string): Promise<SpiderEndpoint | undefined> {
  return waitFor(`endpoint ${name}: ${what}`, async () => {
    const e = await getEndpoint(name);
    return { ok: ok(e), value: e, detail: JSON.stringify({ status: e?.status, owners: e?.metadata.ownerReferences }) };
  }, 30_000, 100);
}

async function podByPrefix(prefix: string): Promise<V1Pod> {
  return waitFor(`a pod of ${prefix}`, async () => {
    const list = await env.core.listNamespacedPod({ namespace: env.ns });
    const p = list.items.find((x) => x.metadata?.name?.startsWith(prefix));
    return { ok: p !== undefined, value: p, detail: list.items.map((x) => x.metadata?.name).join(',') };
  }, 60_000, 200);
}

const podTemplate = (app: string) => ({
  metadata: { labels: { app } },
  spec: { nodeName: '', tolerations: [{ operator: 'Exists' }], automountServiceAccountToken: false, containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
});

beforeAll(async () => {
  env = await setUp('ctl-se');
  await createPool(v4, { subnet: '10.253.0.0/24', ips: ['10.253.0.10-10.253.0.50'], gateway: '10.253.0.1', routes: [{ dst: '10.254.0.0/16', gw: '10.253.0.254' }] }, id);
  await createPool(v6, { subnet: 'fd00:253::/64', ips: ['fd00:253::10-fd00:253::50'], gateway: 'fd00:253::1' }, id);
  v4UID = await poolUID(v4);
  v6UID = await poolUID(v6);
  const scope = scopes(env, id, [v4, v6]);
  const pods = newPodInformer(env.kc, env.log, scope.namespaced);
  const blocks = newBlockInformer(env.kc, env.log, scope.blocks);
  const pools = newPoolInformer(env.kc, env.log, scope.pools);
  const endpoints = newEndpointInformer(env.kc, env.log, scope.namespaced);
  const kube = new KubeEndpointWriter(env.kc);
  const controller = newSpiderEndpointController({
    pods,
    blocks,
    pools,
    endpoints,
    parents: apiParentLookup(env.kc),
    log: env.log,
    onResult: (r) => reconciles.push(r.key),
    writer: {
      create: async (ns, name, want) => {
        writes.push({ op: 'create', key: `${ns}/${name}` });
        await kube.create(ns, name, want);
      },
      update: async (existing, want) => {
        writes.push({ op: 'update', key: `${existing.metadata.namespace}/${existing.metadata.name}` });
        await kube.update(existing, want);
      },
      delete: async (existing) => {
        writes.push({ op: 'delete', key: `${existing.metadata.namespace}/${existing.metadata.name}` });
        await kube.delete(existing);
      },
    },
  });
  mgr = new Manager({ log: env.log, caches: [pods, blocks, pools, endpoints], controllers: [{ controller }] });
  await mgr.start();
}, 10 * 60_000);

afterAll(async () => {
  await mgr?.stop();
  if (env) await tearDown(env, [v4, v6]);
});

const writesFor = (key: string) => writes.filter((w) => w.key === key).length;

describe('SpiderEndpoint from IPAMBlocks', () => {
  let web: V1Pod;
  let webKey: string;

  test('a Deployment pod with dual-stack eth0: ips, pools, gateways, routes, node; owner Deployment; ownerReference to the Pod', async () => {
    const apps = env.kc.makeApiClient(AppsV1Api);
    const tpl = podTemplate('web');
    tpl.spec.nodeName = env.node;
    await apps.createNamespacedDeployment({ namespace: env.ns, body: { metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: tpl } } });
    web = await podByPrefix('web-');
    const name = web.metadata!.name!;
    webKey = `${env.ns}/${name}`;
    const uid = web.metadata!.uid!;
    await writeBlock(env, v4, v4UID, '10.253.0.0', [{ ip: '10.253.0.11', pod: webKey, uid, ok: `ReplicaSet/${web.metadata!.ownerReferences![0]!.name}` }], env.node);
    await writeBlock(env, v6, v6UID, 'fd00:253::', [{ ip: 'fd00:253::11', pod: webKey, uid }], env.node);
    const e = await waitEndpoint(name, (x) => x?.status?.current.ips[0]?.ipv6 !== undefined, 'dual-stack');
    expect(e?.status).toEqual({
      current: {
        uid,
        node: env.node,
        ips: [
          {
            interface: 'eth0',
            ipv4: '10.253.0.11/24',
            ipv4Pool: v4,
            ipv4Gateway: '10.253.0.1',
            ipv6: 'fd00:253::11/64',
            ipv6Pool: v6,
            ipv6Gateway: 'fd00:253::1',
            vlan: 0,
            routes: [{ dst: '10.254.0.0/16', gw: '10.253.0.254' }],
          },
        ],
      },
      ownerControllerType: 'Deployment',
      ownerControllerName: 'web',
    });
    expect(e?.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name, uid }]);
    // kubectl get se shows it through the CRD's printer columns
    expect(await kubectl(['get', 'se', name, '-n', env.ns, '--no-headers'])).toContain('10.253.0.11/24');
  });

  test('follows a change: a second interface is added, then the v4 address moves', async () => {
    const uid = web.metadata!.uid!;
    const name = web.metadata!.name!;
    await writeBlock(env, v4, v4UID, '10.253.0.0', [
      { ip: '10.253.0.11', pod: webKey, uid },
      { ip: '10.253.0.12', pod: webKey, uid, nic: 'net1' },
    ], env.node);
    await waitEndpoint(name, (x) => x?.status?.current.ips.map((i) => `${i.interface}=${i.ipv4}`).join(',') === 'eth0=10.253.0.11/24,net1=10.253.0.12/24', 'eth0 + net1');
    await writeBlock(env, v4, v4UID, '10.253.0.0', [{ ip: '10.253.0.13', pod: webKey, uid }], env.node);
    const e = await waitEndpoint(name, (x) => x?.status?.current.ips.length === 1 && x.status.current.ips[0]?.ipv4 === '10.253.0.13/24', 'moved to .13');
    expect(e?.status?.current.ips[0]?.ipv6).toBe('fd00:253::11/64');
  });

  test('no write when nothing changed: a pod edit reconciles the endpoint without writing it, a block edit that changes no entry does not even reconcile it', async () => {
    const name = web.metadata!.name!;
    const before = await getEndpoint(name);
    const n = writesFor(webKey);
    const r0 = reconciles.filter((k) => k === webKey).length;
    await kubectl(['label', 'pod', name, '-n', env.ns, `touched=${Date.now()}`]);
    const blockName = (await kubectl(['get', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `ipam.spiderpool-ts.io/pool=${v4}`, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    await kubectl(['label', 'ipamblocks.ipam.spiderpool-ts.io', blockName, `touched=${Date.now()}`]);
    await new Promise((r) => setTimeout(r, 2_000));
    // The pod edit reconciles it; the block edit does not (its entries did not change: only pods
    // whose entries changed are enqueued, controllers/block-changes.ts). Neither writes.
    expect(reconciles.filter((k) => k === webKey).length).toBeGreaterThanOrEqual(r0 + 1);
    expect(writesFor(webKey)).toBe(n);
    expect((await getEndpoint(name))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  test('a pool spec change (gateway) reaches the endpoints of its pods', async () => {
    const name = web.metadata!.name!;
    await kubectl(['patch', 'spiderippool', v4, '--type=merge', '-p', JSON.stringify({ spec: { gateway: '10.253.0.2' } })]);
    await waitEndpoint(name, (x) => x?.status?.current.ips[0]?.ipv4Gateway === '10.253.0.2', 'new gateway');
  });

  test('a hand-deleted endpoint is recreated; deleted for good when the entries go', async () => {
    const name = web.metadata!.name!;
    await kubectl(['delete', 'spiderendpoint', name, '-n', env.ns]);
    await waitEndpoint(name, (x) => x?.status?.current.ips[0]?.ipv4 === '10.253.0.13/24', 'recreated');
    await writeBlock(env, v4, v4UID, '10.253.0.0', [], env.node);
    await waitEndpoint(name, (x) => x !== undefined && x.status?.current.ips[0]?.ipv4 === undefined, 'v6 only');
    await writeBlock(env, v6, v6UID, 'fd00:253::', [], env.node);
    await waitEndpoint(name, (x) => x === undefined, 'deleted');
  });

  test('an endpoint Spiderpool left behind (with its finalizer) for a pod holding nothing is removed for good', async () => {
    await createPod(env, 'legacy');
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'spiderpool.spidernet.io/v2beta1',
        kind: 'SpiderEndpoint',
        metadata: { name: 'legacy', namespace: env.ns, finalizers: ['spiderpool.spidernet.io'] },
        status: { current: { uid: 'old', node: env.node, ips: [{ interface: 'eth0', ipv4: '10.253.0.99/24', ipv4Pool: v4 }] }, ownerControllerType: 'Pod', ownerControllerName: 'legacy' },
      }),
    });
    await waitEndpoint('legacy', (x) => x === undefined, 'deleted, finalizer and all');
  });

  test('a StatefulSet pod: owner StatefulSet, no ownerReference (the endpoint outlives the pod, as in Spiderpool)', async () => {
    const apps = env.kc.makeApiClient(AppsV1Api);
    const tpl = podTemplate('db');
    tpl.spec.nodeName = env.node;
    await apps.createNamespacedStatefulSet({ namespace: env.ns, body: { metadata: { name: 'db' }, spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: tpl } } });
    const pod = await podByPrefix('db-0');
    const key = `${env.ns}/db-0`;
    await writeBlock(env, v4, v4UID, '10.253.0.0', [{ ip: '10.253.0.20', pod: key, uid: pod.metadata!.uid!, ok: 'StatefulSet/db' }], env.node);
    const e = await waitEndpoint('db-0', (x) => x !== undefined, 'created');
    expect(e?.status).toMatchObject({ ownerControllerType: 'StatefulSet', ownerControllerName: 'db', current: { uid: pod.metadata!.uid } });
    expect(e?.metadata.ownerReferences ?? []).toEqual([]);
  });

  test('an orphan pod deleted while its address is still held: the endpoint stays, without the owner reference (dropped, or recreated after the collector)', async () => {
    const uid = await createPod(env, 'solo');
    const key = `${env.ns}/solo`;
    await writeBlock(env, v4, v4UID, '10.253.0.0', [
      { ip: '10.253.0.20', pod: `${env.ns}/db-0`, uid: (await podByPrefix('db-0')).metadata!.uid!, ok: 'StatefulSet/db' },
      { ip: '10.253.0.30', pod: key, uid },
    ], env.node);
    const e = await waitEndpoint('solo', (x) => x !== undefined, 'created');
    expect(e?.status).toMatchObject({ ownerControllerType: 'Pod', ownerControllerName: 'solo' });
    expect(e?.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'solo', uid }]);
    await kubectl(['delete', 'pod', 'solo', '-n', env.ns, '--grace-period=0', '--force']);
    // The view must match the blocks: while the entry is held, the endpoint stays without an owner
    // reference (the collector must not take it). A pod-release controller of another test on the
    // shared cluster may rightly release the gone pod's address meanwhile; then the endpoint goes.
    const held = async () => {
      const b = JSON.parse(await kubectl(['get', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `ipam.spiderpool-ts.io/pool=${v4}`, '-o', 'json'])) as { items: { spec: { allocations: Record<string, string> } }[] };
      return b.items.some((x) => Object.values(x.spec.allocations).some((e) => e.includes(` ${key} `)));
    };
    const consistent = async () => {
      const e = await getEndpoint('solo');
      if (await held()) return e !== undefined && (e.metadata.ownerReferences ?? []).length === 0 && e.status?.current.ips[0]?.ipv4 === '10.253.0.30/24' && e.status.current.uid === uid;
      return e === undefined;
    };
    await waitFor('endpoint solo matches the blocks', async () => ({ ok: await consistent(), detail: JSON.stringify(await getEndpoint('solo')) }), 30_000, 100);
    // Give the garbage collector time to act on the old owner reference; the view must still match.
    await new Promise((r) => setTimeout(r, 3_000));
    await waitFor('endpoint solo still matches the blocks', async () => ({ ok: await consistent(), detail: JSON.stringify(await getEndpoint('solo')) }), 5_000, 100);
    // and gone once the address is released
    await writeBlock(env, v4, v4UID, '10.253.0.0', [{ ip: '10.253.0.20', pod: `${env.ns}/db-0`, uid: (await podByPrefix('db-0')).metadata!.uid!, ok: 'StatefulSet/db' }], env.node);
    await waitEndpoint('solo', (x) => x === undefined, 'deleted');
  });
});

afterAll(() => {
  if (process.env.DUMP_CONTROLLER_LOGS) for (const l of env.logLines) if (l.level !== 'debug') process.stderr.write(`${JSON.stringify(l)}\n`);
});
