// Auto pools end to end on the local control plane: a real operator (createOperator, auto pools on)
// in this process; the real controller-manager turns workloads into pods (bound to this test's Node
// by the template's nodeName; no kubelet, so pods that are deleted are force-deleted here), and the
// allocator service is called in-process for each pod as the CNI shim would. Checks per kind: pool
// created before any pod asks, sized N / replicas+N, grows and shrinks with replicas (shrink only
// through free addresses), recorded in the SpiderSubnet's controlledIPPools, excludeIPs and
// SpiderReservedIP never carved, deleted with the workload or kept and adopted (reclaim=false);
// StatefulSet pods get their addresses back when recreated.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { makePki, type Pki } from '../../../ipam-plugin/test/support/pki.js';
import type { SpiderIPPool, SpiderSubnet } from '../../../operator/src/api/v2beta1/types.js';
import { DEFAULT_GC_CONFIG, type OperatorConfig } from '../../../operator/src/config.js';
import { IPSet } from '../../../operator/src/core/ip/index.js';
import { parseControlledIPPools } from '../../../operator/src/core/subnet/index.js';
import { createOperator, type Operator } from '../../../operator/src/operator.js';
import { kubectl } from '../../support/cluster.js';
import { type Env, setUp } from '../allocator/harness.js';
import { waitFor } from '../helpers/wait.js';

jest.setTimeout(600_000);

const hex = randomBytes(3).toString('hex');
const subnetName = `ap-subnet-${hex}`;
const reservedName = `ap-reserved-${hex}`;
const octet = 100 + (parseInt(hex.slice(0, 2), 16) % 100);
const net = `10.${octet}.${parseInt(hex.slice(2, 4), 16)}`;
const SUBNET_CIDR = `${net}.0/24`;

let env: Env;
let op: Operator;
let pki: Pki | undefined;

const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
const apply = (obj: object) => kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });

beforeAll(async () => {
  env = await setUp('autopool');
  await apply({
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderSubnet',
    metadata: { name: subnetName },
    spec: { subnet: SUBNET_CIDR, ips: [`${net}.1-${net}.200`], excludeIPs: [`${net}.2-${net}.9`], gateway: `${net}.1` },
  });
  await apply({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderReservedIP', metadata: { name: reservedName }, spec: { ips: [`${net}.10`] } });
  pki = makePki(env.node);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config: OperatorConfig = {
    kubeconfig: '',
    podName: 'op-autopool',
    namespace: env.ns,
    leaseName: 'allocator',
    // One replica: no failover to speed up; client-go's timings ride out a loaded machine.
    lease: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 },
    grpcHost: '127.0.0.1',
    grpcPort: port,
    advertiseAddress: `127.0.0.1:${port}`,
    tls: { certChain: pki.serverCert, privateKey: pki.serverKey, clientCA: pki.ca },
    healthPort: 0,
    enableIPv4: true,
    enableIPv6: true,
    statefulSetKeepsIPs: true,
    autoPool: { enabled: true, defaultFlexibleIPNumber: 1 },
    gcGraceMs: 60_000,
    // Release on pod deletion only: the GC's Terminating-pod rules would act on other tests' pods.
    gc: { ...DEFAULT_GC_CONFIG, enabled: false },
    logLevel: 'error',
  };
  op = createOperator(config, env.kc, env.log.child({ op: 'autopool' }));
  await op.start();
  await waitFor('the operator leading and serving', async () => ({ ok: op.service.status().ready, detail: JSON.stringify(op.service.status()) }), 60_000, 200);
}, 10 * 60_000);

afterAll(async () => {
  if (env) {
    for (const kind of ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'replicasets']) {
      await kubectl(['delete', kind, '--all', '-n', env.ns, '--wait=false', '--ignore-not-found']).catch(() => '');
    }
    await forceDeletePods(() => true).catch(() => undefined);
  }
  if (op) await op.stop(1000);
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
  if (env) {
    const pools = await json<{ items: SpiderIPPool[] }>(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${subnetName}`]).catch(() => ({ items: [] }));
    for (const p of pools.items) {
      await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `ipam.spiderpool-ts.io/pool=${p.metadata.name}`, '--ignore-not-found']).catch(() => '');
      await kubectl(['delete', 'spiderippool', p.metadata.name!, '--ignore-not-found', '--wait=false']);
    }
    await kubectl(['delete', 'spidersubnet', subnetName, '--ignore-not-found', '--wait=false']);
    await kubectl(['delete', 'spiderreservedip', reservedName, '--ignore-not-found']);
    await kubectl(['delete', 'namespace', env.ns, '--wait=false', '--ignore-not-found']);
    await kubectl(['delete', 'node', env.node, '--ignore-not-found']);
  }
});

// ---- helpers -------------------------------------------------------------------------------------

const SUBNET_ANNO = () => JSON.stringify({ interface: 'eth0', ipv4: [subnetName] });

function podTemplate(app: string, extra: Record<string, string> = {}) {
  return {
    metadata: { labels: { app }, annotations: { 'ipam.spidernet.io/subnet': SUBNET_ANNO(), ...extra } },
    spec: {
      nodeName: env.node,
      tolerations: [{ operator: 'Exists' }],
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'registry.invalid/pause:1' }],
    },
  };
}

async function podsOf(app: string): Promise<V1Pod[]> {
  const list = await json<{ items: V1Pod[] }>(['get', 'pods', '-n', env.ns, '-l', `app=${app}`]);
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Pods being deleted never finish without a kubelet: finish them. */
async function forceDeletePods(which: (p: V1Pod) => boolean): Promise<void> {
  const list = await json<{ items: V1Pod[] }>(['get', 'pods', '-n', env.ns]);
  const names = list.items.filter((p) => p.metadata?.deletionTimestamp && which(p)).map((p) => p.metadata!.name!);
  if (names.length > 0) await kubectl(['delete', 'pods', '-n', env.ns, '--force', '--grace-period=0', '--ignore-not-found', ...names]);
}

/** What the CNI shim would do for each live pod of the app: ADD on eth0. Returns name → ip. */
async function allocateAll(app: string, count: number): Promise<Map<string, string>> {
  const pods = await waitFor(`${count} pods of ${app}`, async () => {
    const ps = await podsOf(app);
    return { ok: ps.length === count, value: ps, detail: `${ps.length} pods` };
  }, 60_000, 250);
  const out = new Map<string, string>();
  for (const p of pods) {
    // As a kubelet does: "try again" (UNAVAILABLE, e.g. the Lease renewed late) is retried.
    const r = await waitFor(`an address for ${p.metadata!.name}`, async () => {
      try {
        const v = await op.service.allocate({
          containerId: `c-${p.metadata!.uid}`,
          netns: '',
          ifname: 'eth0',
          pod: { namespace: env.ns, name: p.metadata!.name!, uid: p.metadata!.uid! },
          nodeName: env.node,
          defaultIpv4Ippool: [],
          defaultIpv6Ippool: [],
          requestId: '',
          networkName: '',
        });
        return { ok: true, value: v, detail: '' };
      } catch (e) {
        if ((e as { code?: number }).code !== 14) throw e;
        return { ok: false, detail: (e as Error).message };
      }
    }, 60_000, 500);
    out.set(p.metadata!.name!, r.ips[0]!.address.split('/')[0]!);
  }
  return out;
}

async function poolsOf(kind: string, app: string): Promise<SpiderIPPool[]> {
  const list = await json<{ items: SpiderIPPool[] }>([
    'get',
    'spiderippools',
    '-l',
    `ipam.spidernet.io/owner-application-kind=${kind},ipam.spidernet.io/owner-application-namespace=${env.ns},ipam.spidernet.io/owner-application-name=${app}`,
  ]);
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

const poolSet = (p: SpiderIPPool) => IPSet.parse(4, p.spec.ips ?? []);

/** The app's one pool once it holds exactly `size` addresses. */
async function poolOfSize(kind: string, app: string, size: number): Promise<SpiderIPPool> {
  return waitFor(`${kind} ${app}'s auto pool with ${size} addresses`, async () => {
    const ps = await poolsOf(kind, app);
    const p = ps[0];
    return { ok: ps.length === 1 && poolSet(p!).count === BigInt(size), value: p!, detail: ps.map((x) => `${x.metadata.name}: ${JSON.stringify(x.spec.ips)}`).join('; ') || 'no pool' };
  }, 60_000, 250);
}

async function ledger(): Promise<{ entries: Record<string, { ips: string[]; application?: string }>; status: SpiderSubnet['status'] }> {
  const s = await json<SpiderSubnet>(['get', 'spidersubnet', subnetName]);
  const parsed = parseControlledIPPools(s.status?.controlledIPPools);
  if (!parsed.ok) throw new Error(parsed.message);
  return { entries: parsed.value, status: s.status };
}

/** Every ledger entry is disjoint from the others, inside the carvable part of the subnet. */
async function expectLedgerSound(): Promise<void> {
  const { entries, status } = await ledger();
  let union = IPSet.empty(4);
  let total = 0n;
  for (const e of Object.values(entries)) {
    const s = IPSet.parse(4, e.ips);
    total += s.count;
    union = union.union(s);
  }
  expect(union.count).toBe(total); // no address in two pools
  const forbidden = IPSet.parse(4, [`${net}.1-${net}.10`]); // gateway, excludeIPs, reserved
  expect(union.intersect(forbidden).isEmpty).toBe(true);
  expect(status?.allocatedIPCount).toBe(Number(total));
  expect(status?.totalIPCount).toBe(190); // .1-.200 minus gateway .1, excluded .2-.9, reserved .10
  expect(status?.freeIPCount).toBe(190 - Number(total));
}

const scale = (kind: string, name: string, replicas: number) => kubectl(['scale', kind, name, '-n', env.ns, `--replicas=${replicas}`]);

// ---- tests ---------------------------------------------------------------------------------------

it('Deployment: pool before pods, replicas+1, grows, shrinks through free addresses, deleted with the workload', async () => {
  const app = 'web';
  await apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: env.ns }, spec: { replicas: 2, selector: { matchLabels: { app } }, template: podTemplate(app) } });
  let pool = await poolOfSize('Deployment', app, 3);
  const dep = await json<{ metadata: { uid: string } }>(['get', 'deployment', app, '-n', env.ns]);
  expect(pool.metadata.name).toBe(`auto4-${app}-eth0-${dep.metadata.uid.split('-').pop()!.slice(0, 5)}`);
  expect(pool.metadata.labels).toMatchObject({
    'ipam.spidernet.io/owner-application-kind': 'Deployment',
    'ipam.spidernet.io/owner-application-name': app,
    'ipam.spidernet.io/owner-application-uid': dep.metadata.uid,
    'ipam.spidernet.io/owner-spider-subnet': subnetName,
    'ipam.spidernet.io/ippool-reclaim': 'true',
  });
  expect(pool.spec.podAffinity?.matchLabels).toMatchObject({ 'ipam.spidernet.io/app-kind': 'Deployment', 'ipam.spidernet.io/app-name': app });
  expect(pool.spec.gateway).toBe(`${net}.1`);
  expect((await ledger()).entries[pool.metadata.name!]).toEqual({ ips: pool.spec.ips, application: `apps/v1:Deployment:${env.ns}:${app}` });
  await expectLedgerSound();

  const first = await allocateAll(app, 2);
  for (const ip of first.values()) expect(poolSet(pool).hasIP(ip)).toBe(true);

  await scale('deployment', app, 5);
  pool = await poolOfSize('Deployment', app, 6);
  const grown = await allocateAll(app, 5);
  expect(new Set(grown.values()).size).toBe(5);
  for (const ip of grown.values()) expect(poolSet(pool).hasIP(ip)).toBe(true);
  await expectLedgerSound();

  await scale('deployment', app, 1);
  await waitFor('scaled-down pods marked for deletion', async () => ({ ok: (await podsOf(app)).length === 1, detail: '' }), 60_000, 250);
  await forceDeletePods((p) => p.metadata?.labels?.app === app);
  pool = await poolOfSize('Deployment', app, 2);
  const survivor = [...(await allocateAll(app, 1)).values()][0]!;
  expect(poolSet(pool).hasIP(survivor)).toBe(true); // the held address stayed in the pool
  await expectLedgerSound();

  await kubectl(['delete', 'deployment', app, '-n', env.ns, '--wait=false']);
  await waitFor('the Deployment gone', async () => ({ ok: (await kubectl(['get', 'deployment', app, '-n', env.ns, '--ignore-not-found', '-o', 'name'])).trim() === '', detail: '' }), 60_000, 250);
  await waitFor('pods marked for deletion', async () => ({ ok: (await podsOf(app)).length === 0, detail: '' }), 60_000, 250);
  await forceDeletePods((p) => p.metadata?.labels?.app === app);
  await waitFor('the auto pool deleted and its addresses back in the subnet', async () => {
    const ps = await poolsOf('Deployment', app);
    const l = await ledger();
    return { ok: ps.length === 0 && !(pool.metadata.name! in l.entries), detail: `${ps.length} pools, ledger ${Object.keys(l.entries).join(',')}` };
  }, 60_000, 250);
  await expectLedgerSound();
});

it('Deployment with ippool-reclaim "false" and a fixed size: pool kept, adopted by the next Deployment of that name', async () => {
  const app = 'keep';
  const make = () =>
    apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: app, namespace: env.ns },
      spec: { replicas: 1, selector: { matchLabels: { app } }, template: podTemplate(app, { 'ipam.spidernet.io/ippool-ip-number': '3', 'ipam.spidernet.io/ippool-reclaim': 'false' }) },
    });
  await make();
  const before = await poolOfSize('Deployment', app, 3);
  expect(before.metadata.labels?.['ipam.spidernet.io/ippool-reclaim']).toBe('false');
  await allocateAll(app, 1);
  await kubectl(['delete', 'deployment', app, '-n', env.ns, '--wait=false']);
  await waitFor('pods marked for deletion', async () => ({ ok: (await podsOf(app)).length === 0, detail: '' }), 60_000, 250);
  await forceDeletePods((p) => p.metadata?.labels?.app === app);
  await waitFor('the Deployment gone', async () => ({ ok: (await kubectl(['get', 'deployment', app, '-n', env.ns, '--ignore-not-found', '-o', 'name'])).trim() === '', detail: '' }), 60_000, 250);
  await new Promise((r) => setTimeout(r, 3000));
  const kept = await poolsOf('Deployment', app);
  expect(kept.map((p) => p.metadata.uid)).toEqual([before.metadata.uid]);
  expect((await ledger()).entries[before.metadata.name!]?.ips).toEqual(before.spec.ips);

  await make();
  const dep = await json<{ metadata: { uid: string } }>(['get', 'deployment', app, '-n', env.ns]);
  const adopted = await waitFor('the kept pool adopted', async () => {
    const ps = await poolsOf('Deployment', app);
    return { ok: ps.length === 1 && ps[0]!.metadata.labels?.['ipam.spidernet.io/owner-application-uid'] === dep.metadata.uid, value: ps[0]!, detail: JSON.stringify(ps.map((p) => p.metadata.labels)) };
  }, 60_000, 250);
  expect(adopted.metadata.uid).toBe(before.metadata.uid);
  expect(adopted.spec.ips).toEqual(before.spec.ips);
  const ip = [...(await allocateAll(app, 1)).values()][0]!;
  expect(poolSet(adopted).hasIP(ip)).toBe(true);
  await expectLedgerSound();
});

it('StatefulSet of 5: pods deleted one by one get their addresses back; 5 → 2 → 5 frees and re-carves', async () => {
  const app = 'db';
  await apply({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: app, namespace: env.ns },
    spec: { replicas: 5, podManagementPolicy: 'Parallel', serviceName: app, selector: { matchLabels: { app } }, template: podTemplate(app) },
  });
  let pool = await poolOfSize('StatefulSet', app, 6);
  const ips = await allocateAll(app, 5);
  expect(new Set(ips.values()).size).toBe(5);
  for (let i = 0; i < 5; i++) {
    const name = `${app}-${i}`;
    const old = (await podsOf(app)).find((p) => p.metadata?.name === name)!.metadata!.uid!;
    await kubectl(['delete', 'pod', name, '-n', env.ns, '--force', '--grace-period=0']);
    await waitFor(`${name} recreated`, async () => {
      const p = (await podsOf(app)).find((x) => x.metadata?.name === name);
      return { ok: p !== undefined && p.metadata?.uid !== old, detail: p?.metadata?.uid ?? 'absent' };
    }, 60_000, 250);
    const again = await allocateAll(app, 5);
    expect(again.get(name)).toBe(ips.get(name));
  }

  await scale('statefulset', app, 2);
  await waitFor('scaled-down pods marked for deletion', async () => ({ ok: (await podsOf(app)).length === 2, detail: '' }), 60_000, 250);
  await forceDeletePods((p) => p.metadata?.labels?.app === app);
  pool = await poolOfSize('StatefulSet', app, 3);
  const kept = await allocateAll(app, 2);
  expect(kept.get(`${app}-0`)).toBe(ips.get(`${app}-0`));
  expect(kept.get(`${app}-1`)).toBe(ips.get(`${app}-1`));
  for (const ip of kept.values()) expect(poolSet(pool).hasIP(ip)).toBe(true);

  await scale('statefulset', app, 5);
  pool = await poolOfSize('StatefulSet', app, 6);
  const back = await allocateAll(app, 5);
  expect(new Set(back.values()).size).toBe(5);
  for (const ip of back.values()) expect(poolSet(pool).hasIP(ip)).toBe(true);
  await expectLedgerSound();
});

it('Job and CronJob pools are sized to their pod count (+1); DaemonSet to its scheduled pods', async () => {
  await apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'batch', namespace: env.ns },
    spec: { parallelism: 3, completions: 3, template: { ...podTemplate('batch'), spec: { ...podTemplate('batch').spec, restartPolicy: 'Never' } } },
  });
  await apply({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: env.ns },
    spec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { parallelism: 2, completions: 2, template: { ...podTemplate('nightly'), spec: { ...podTemplate('nightly').spec, restartPolicy: 'Never' } } } } },
  });
  await apply({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: env.ns },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { ...podTemplate('agent'), spec: { ...podTemplate('agent').spec, nodeName: undefined, nodeSelector: { 'kubernetes.io/hostname': env.node } } } },
  });
  await kubectl(['label', 'node', env.node, `kubernetes.io/hostname=${env.node}`, '--overwrite']);
  await poolOfSize('Job', 'batch', 4);
  await poolOfSize('CronJob', 'nightly', 3);
  await poolOfSize('DaemonSet', 'agent', 2);
  const jobIPs = await allocateAll('batch', 3);
  expect(new Set(jobIPs.values()).size).toBe(3);
  await expectLedgerSound();
});

it('12 Deployments created at once get disjoint pools (carving serialised per subnet, CAS on its status)', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: names.map((app) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: env.ns },
        spec: { replicas: 1, selector: { matchLabels: { app } }, template: podTemplate(app, { 'ipam.spidernet.io/ippool-ip-number': '5' }) },
      })),
    }),
  });
  const pools = await Promise.all(names.map((app) => poolOfSize('Deployment', app, 5)));
  let union = IPSet.empty(4);
  for (const p of pools) {
    expect(union.intersect(poolSet(p)).isEmpty).toBe(true);
    union = union.union(poolSet(p));
  }
  expect(union.count).toBe(60n);
  await expectLedgerSound();
});

it('StatefulSet with spec.ordinals.start: the pod of ordinal 3 keeps its address across recreation', async () => {
  const app = 'ord';
  await apply({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: app, namespace: env.ns },
    spec: { replicas: 2, ordinals: { start: 3 }, podManagementPolicy: 'Parallel', serviceName: app, selector: { matchLabels: { app } }, template: podTemplate(app) },
  });
  await poolOfSize('StatefulSet', app, 3);
  const ips = await allocateAll(app, 2);
  expect([...ips.keys()].sort()).toEqual([`${app}-3`, `${app}-4`]);
  const old = (await podsOf(app)).find((p) => p.metadata?.name === `${app}-3`)!.metadata!.uid!;
  await kubectl(['delete', 'pod', `${app}-3`, '-n', env.ns, '--force', '--grace-period=0']);
  await waitFor(`${app}-3 recreated`, async () => {
    const p = (await podsOf(app)).find((x) => x.metadata?.name === `${app}-3`);
    return { ok: p !== undefined && p.metadata?.uid !== old, detail: p?.metadata?.uid ?? 'absent' };
  }, 60_000, 250);
  expect((await allocateAll(app, 2)).get(`${app}-3`)).toBe(ips.get(`${app}-3`));
});

it('a Deployment naming a SpiderSubnet that does not exist gets a Warning event saying so', async () => {
  const app = 'nosubnet';
  const missing = `missing-${hex}`;
  await apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace: env.ns },
    spec: { replicas: 0, selector: { matchLabels: { app } }, template: { ...podTemplate(app), metadata: { labels: { app }, annotations: { 'ipam.spidernet.io/subnet': JSON.stringify({ ipv4: [missing] }) } } } },
  });
  const ev = await waitFor('an AutoPoolFailed event on the Deployment', async () => {
    const list = await json<{ items: Array<{ reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }> }>(['get', 'events', '-n', env.ns]);
    const e = list.items.find((x) => x.reason === 'AutoPoolFailed' && x.involvedObject?.kind === 'Deployment' && x.involvedObject.name === app);
    return { ok: e !== undefined, value: e!, detail: `${list.items.length} events` };
  }, 60_000, 500);
  expect(ev.message).toContain(`SpiderSubnet ${missing}`);
  expect(await poolsOf('Deployment', app)).toEqual([]);
});

it('a third-party controller with a scale subresource: pool sized replicas + N from its scale, grown with it, deleted with it', async () => {
  const group = `h4-${hex}.test.spiderpool-ts.io`;
  const crd = `widgets.${group}`;
  await apply({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crd },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } } }, status: { type: 'object', properties: { replicas: { type: 'integer' } } } } } },
          subresources: { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
        },
      ],
    },
  });
  try {
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd}`]);
    await waitFor('Widget served', async () => ({ ok: (await kubectl(['api-resources', `--api-group=${group}`, '-o', 'name'])).includes('widgets'), detail: '' }), 60_000, 500);
    await apply({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'gadget', namespace: env.ns }, spec: { replicas: 2 } });
    const widget = await json<{ metadata: { uid: string } }>(['get', `widgets.${group}`, 'gadget', '-n', env.ns]);
    const owned = (i: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `gadget-${i}`,
        namespace: env.ns,
        labels: { app: 'gadget' },
        annotations: { 'ipam.spidernet.io/subnet': SUBNET_ANNO(), 'ipam.spidernet.io/ippool-ip-number': '+1' },
        ownerReferences: [{ apiVersion: `${group}/v1`, kind: 'Widget', name: 'gadget', uid: widget.metadata.uid, controller: true }],
      },
      spec: podTemplate('gadget').spec,
    });
    await apply({ apiVersion: 'v1', kind: 'List', items: [owned(0), owned(1)] });
    let pool = await poolOfSize('Widget', 'gadget', 3);
    expect(pool.metadata.labels?.['ipam.spidernet.io/owner-application-gv']).toBe(`${group}_v1`);
    const ips = await allocateAll('gadget', 2);
    for (const ip of ips.values()) expect(poolSet(pool).hasIP(ip)).toBe(true);

    await kubectl(['scale', `widgets.${group}`, 'gadget', '-n', env.ns, '--replicas=4']);
    await apply({ apiVersion: 'v1', kind: 'List', items: [owned(2), owned(3)] });
    pool = await poolOfSize('Widget', 'gadget', 5);
    await allocateAll('gadget', 4);

    await kubectl(['delete', `widgets.${group}`, 'gadget', '-n', env.ns, '--wait=false']);
    await waitFor('the Widget pods marked for deletion', async () => ({ ok: (await podsOf('gadget')).length === 0, detail: '' }), 60_000, 250);
    await forceDeletePods((p) => p.metadata?.labels?.app === 'gadget');
    await waitFor('the Widget auto pool deleted', async () => {
      const ps = await poolsOf('Widget', 'gadget');
      return { ok: ps.length === 0, detail: `${ps.length} pools` };
    }, 60_000, 250);
    await expectLedgerSound();
  } finally {
    await kubectl(['delete', 'crd', crd, '--ignore-not-found', '--wait=false']);
  }
});
