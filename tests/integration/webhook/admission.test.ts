// The admission webhook on the real apiserver: a ValidatingWebhookConfiguration and a
// MutatingWebhookConfiguration whose clientConfig.url is this process's HTTPS server on 127.0.0.1,
// trusted through the caBundle the webhook itself writes (the CA it keeps in a Secret of the test namespace), and
// scoped by an objectSelector on this run's label (pools are cluster-scoped and other tests create
// theirs beside us: the webhook never sees them, and they never see it). The configurations are
// deleted in afterAll whatever happened.
//
// Shown: 20 mutually overlapping pools created at once → exactly one exists, 19 refused naming
// spec.ips[0]; a pool outside its SpiderSubnet and an overlapping subnet are refused; removing or
// excluding an allocated address is refused naming the field and the pod, removing a free one is not;
// a pool's deletion is held by the finalizer until its IPAMBlocks are empty; the namespace IP quota
// refuses the allocation past the limit with an IPQuotaExceeded event on the pod.
import { randomBytes } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { AdmissionregistrationV1Api, ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, type KubernetesObject, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import { LABEL_IPPOOL_OWNER_SPIDER_SUBNET, SPIDER_FINALIZER } from '../../../operator/src/api/v2beta1/constants.js';
import { newBlockInformer, newPoolInformer, newReservedIPInformer, newSubnetInformer } from '../../../operator/src/controllers/informers.js';
import { Informer } from '../../../operator/src/framework/informer.js';
import { createLogger, type Logger } from '../../../operator/src/framework/logger.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { ErrorReason, GrpcCode } from '../../../operator/src/rpc/errors.js';
import type { AllocateRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { AllocatorService } from '../../../operator/src/service/allocator-service.js';
import { KubeBlockIO } from '../../../operator/src/service/block-client.js';
import { BlockCommitter } from '../../../operator/src/service/block-committer.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { informerClusterView } from '../../../operator/src/service/cluster-view.js';
import { ANNO_NS_IP_QUOTA, NamespaceQuota } from '../../../operator/src/service/namespace-quota.js';
import { QUOTA_EVENT_REASON, quotaEventRecorder } from '../../../operator/src/service/quota-events.js';
import { rebuildState } from '../../../operator/src/service/rebuild.js';
import { WEBHOOK_PATHS, type Webhook, createWebhook } from '../../../operator/src/webhook/index.js';
import { kubectl } from '../../support/cluster.js';
import { createTestNamespace } from '../../support/test-namespace.js';
import { createPod, writeBlock } from '../controllers/env.js';
import { freePort } from '../helpers/ipam-stack.js';
import { registerScopedWebhooks, removeScopedWebhooks } from '../helpers/webhook-stack.js';
import { waitFor } from '../helpers/wait.js';

jest.setTimeout(180_000);

const id = randomBytes(3).toString('hex');
const RUN_LABEL = 'spiderpool-ts.io/webhook-test';
const configName = `spiderpool-ts-webhook-test-${id}`;
const overlapping = Array.from({ length: 20 }, (_, i) => `wh-ov-${id}-${i}`);
const allocPool = `wh-alloc-${id}`;
const subnetName = `wh-sn-${id}`;
const subnetPool = `wh-snp-${id}`;
const quotaPool = `wh-quota-${id}`;
const allSubnets = [subnetName, `wh-sn2-${id}`];
/** Pools of the two-replica test: their own label, seen only by the two replicas' configuration. */
const REPLICA_LABEL = 'spiderpool-ts.io/webhook-replicas-test';
const replicaPools = Array.from({ length: 20 }, (_, i) => `wh-rep-${id}-${i}`);
const replicaConfig = `${configName}-replicas`;
const allPools = [...overlapping, allocPool, subnetPool, quotaPool, `wh-out-${id}`, ...replicaPools];

let kcNs: Awaited<ReturnType<typeof createTestNamespace>>;
let log: Logger;
const logLines: Record<string, unknown>[] = [];
let webhook: Webhook;
let mgr: Manager;
let custom: CustomObjectsApi;
let core: CoreV1Api;
const replicaStops: (() => Promise<void>)[] = [];

const api = { group: 'spiderpool.spidernet.io', version: 'v2beta1' };
const poolBody = (name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name, labels: { [RUN_LABEL]: id, ...labels } },
  spec,
});

/** The apiserver's message for a refused request (ApiException body), or the error's message. */
function refusal(e: unknown): string {
  if (e instanceof ApiException) {
    try {
      return (JSON.parse(String(e.body)) as { message?: string }).message ?? String(e.body);
    } catch {
      return String(e.body);
    }
  }
  return e instanceof Error ? e.message : String(e);
}

async function createPoolObj(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): Promise<void> {
  await custom.createClusterCustomObject({ ...api, plural: 'spiderippools', body: poolBody(name, spec, labels) });
}

async function getPool(name: string): Promise<(KubernetesObject & { spec: { ips?: string[] } }) | undefined> {
  try {
    return (await custom.getClusterCustomObject({ ...api, plural: 'spiderippools', name })) as KubernetesObject & { spec: { ips?: string[] } };
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw e;
  }
}

/** Without caBundle: the webhook writes it at start (certs.ts injectCABundle), as in a real install. */
const registerConfigurations = (port: number) => registerScopedWebhooks(kcNs.kc, { name: configName, tag: id, port, label: { key: RUN_LABEL, value: id } });
const deleteConfigurations = () => removeScopedWebhooks(kcNs.kc, configName);

beforeAll(async () => {
  kcNs = await createTestNamespace('wh');
  log = createLogger({
    level: process.env.TEST_LOG_LEVEL ?? 'info',
    defaultMeta: { test: 'webhook' },
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    }),
  });
  custom = kcNs.kc.makeApiClient(CustomObjectsApi);
  core = kcNs.kc.makeApiClient(CoreV1Api);
  const scope = { labelSelector: `${RUN_LABEL}=${id}` };
  const pools = newPoolInformer(kcNs.kc, log, scope);
  const subnets = newSubnetInformer(kcNs.kc, log, scope);
  const blocks = newBlockInformer(kcNs.kc, log, { labelSelector: `${LABEL_BLOCK_POOL} in (${allPools.map(poolLabelValue).join(',')})` });
  // CA Secret and range registry in the test namespace: nothing shared with other runs.
  webhook = createWebhook({
    kc: kcNs.kc,
    namespace: kcNs.ns,
    pools,
    subnets,
    blocks,
    san: { dnsNames: [], ipAddresses: ['127.0.0.1'] },
    configurations: { validating: [configName], mutating: [configName] },
    log,
    finalizerSettleMs: 500,
  });
  mgr = new Manager({ log, caches: [pools, subnets, blocks], controllers: [{ controller: webhook.finalizer }] });
  await mgr.start();
  const port = await freePort();
  await registerConfigurations(port);
  const { tls } = await webhook.start('127.0.0.1', port);
  const adm = kcNs.kc.makeApiClient(AdmissionregistrationV1Api);
  const bundle = Buffer.from(tls.ca.certPem).toString('base64');
  expect((await adm.readValidatingWebhookConfiguration({ name: configName })).webhooks?.map((w) => w.clientConfig.caBundle)).toEqual([bundle, bundle]);
  expect((await adm.readMutatingWebhookConfiguration({ name: configName })).webhooks?.map((w) => w.clientConfig.caBundle)).toEqual([bundle]);
  // The apiserver picks configurations up asynchronously: wait until a dry-run create comes back
  // mutated (finalizer added) and a dry-run of an invalid pool is refused by us.
  await waitFor(
    'the webhook configurations in effect',
    async () => {
      const out = JSON.parse(
        await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(poolBody(`wh-probe-${id}`, { subnet: '10.213.250.0/24', ips: ['10.213.250.1'] })) }),
      ) as { metadata: { finalizers?: string[] } };
      const mutated = out.metadata.finalizers?.includes(SPIDER_FINALIZER) ?? false;
      const bad = await kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], {
        input: JSON.stringify(poolBody(`wh-probe2-${id}`, { subnet: '10.213.250.0/24', ips: ['10.213.250.1'] }, { [LABEL_IPPOOL_OWNER_SPIDER_SUBNET]: `missing-${id}` })),
      }).then(
        () => 'accepted',
        (e: unknown) => String(e),
      );
      return { ok: mutated && bad.includes('missing-'), detail: `mutated=${mutated} validating=${bad.slice(0, 200)}` };
    },
    60_000,
    500,
  );
}, 10 * 60_000);

afterAll(async () => {
  // First of all: no configuration of ours may outlive the run (failurePolicy Fail on a dead URL).
  await deleteConfigurations();
  await kcNs.kc.makeApiClient(AdmissionregistrationV1Api).deleteValidatingWebhookConfiguration({ name: replicaConfig }).catch(() => undefined);
  await kubectl(['delete', 'spiderippool', '-l', `${REPLICA_LABEL}=${id}`, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  for (const stop of replicaStops.reverse()) await stop().catch(() => undefined);
  await webhook?.stop();
  await mgr?.stop();
  for (const p of allPools) {
    await kubectl(['patch', 'spiderippool', p, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
    await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(p)}`, '--ignore-not-found']).catch(() => undefined);
  }
  await kubectl(['delete', 'spiderippool', '-l', `${RUN_LABEL}=${id}`, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  await kubectl(['delete', 'spidersubnet', '-l', `${RUN_LABEL}=${id}`, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  await kubectl(['delete', 'namespace', kcNs.ns, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'pods', '--all', '-n', kcNs.ns, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'node', kcNs.node, '--ignore-not-found']).catch(() => undefined);
}, 120_000);

describe('admission webhook', () => {
  it('of 20 mutually overlapping pools created at once, exactly one is accepted', async () => {
    const started = performance.now();
    const results = await Promise.allSettled(
      overlapping.map((name, i) => createPoolObj(name, { subnet: '10.213.0.0/24', ips: [`10.213.0.${10 + i}-10.213.0.${100 + i}`] })),
    );
    const ms = Math.round(performance.now() - started);
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [refusal(r.reason)] : []));
    process.stdout.write(`20 concurrent overlapping creates: ${accepted.length} accepted, ${refused.length} refused in ${ms} ms\n`);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const m of refused) expect(m).toMatch(/spec\.ips\[0\]: 10\.213\.0\.\d+-10\.213\.0\.\d+ already belong\(s\) to SpiderIPPool wh-ov-/);
    const list = JSON.parse(await kubectl(['get', 'spiderippools', '-l', `${RUN_LABEL}=${id}`, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
    expect(list.items.filter((p) => overlapping.includes(p.metadata.name))).toHaveLength(1);
    // And the winner is really there, with the finalizer the mutating webhook added.
    const winner = overlapping[results.findIndex((r) => r.status === 'fulfilled')]!;
    expect((await getPool(winner))?.metadata?.finalizers).toContain(SPIDER_FINALIZER);
  });

  it('refuses a pool outside its SpiderSubnet and a subnet overlapping another', async () => {
    await custom.createClusterCustomObject({
      ...api,
      plural: 'spidersubnets',
      body: { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderSubnet', metadata: { name: subnetName, labels: { [RUN_LABEL]: id } }, spec: { subnet: '10.213.2.0/24', ips: ['10.213.2.1-10.213.2.100'] } },
    });
    await waitFor('subnet cached by the webhook', async () => {
      const e = await createPoolObj(`wh-out-${id}`, { subnet: '10.213.2.0/24', ips: ['10.213.2.90-10.213.2.110'] }, { [LABEL_IPPOOL_OWNER_SPIDER_SUBNET]: subnetName }).then(
        () => 'accepted',
        (x: unknown) => refusal(x),
      );
      return { ok: e !== 'accepted' && !e.includes('does not exist'), value: e, detail: e };
    }, 20_000, 300).then((m) => {
      expect(m).toContain(`spec.ips[0]: 10.213.2.101-10.213.2.110 not in SpiderSubnet ${subnetName}`);
    });
    await createPoolObj(subnetPool, { subnet: '10.213.2.0/24', ips: ['10.213.2.90-10.213.2.100'] }, { [LABEL_IPPOOL_OWNER_SPIDER_SUBNET]: subnetName });
    const e = await custom
      .createClusterCustomObject({
        ...api,
        plural: 'spidersubnets',
        body: { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderSubnet', metadata: { name: allSubnets[1], labels: { [RUN_LABEL]: id } }, spec: { subnet: '10.213.2.128/25', ips: ['10.213.2.130'] } },
      })
      .then(
        () => 'accepted',
        (x: unknown) => refusal(x),
      );
    expect(e).toContain(`spec.subnet: 10.213.2.128/25 overlaps SpiderSubnet ${subnetName}`);
  });

  it('refuses removing or excluding an allocated address, naming the field and the pod; a free one may go', async () => {
    await createPoolObj(allocPool, { subnet: '10.213.1.0/24', ips: ['10.213.1.10-10.213.1.20'] });
    const uid = (await getPool(allocPool))!.metadata!.uid!;
    const podUID = await createPod({ core, ns: kcNs.ns, node: kcNs.node } as never, 'holder');
    await writeBlock({ custom, ns: kcNs.ns } as never, allocPool, uid, '10.213.1.12', [{ ip: '10.213.1.12', pod: `${kcNs.ns}/holder`, uid: podUID }], kcNs.node);

    const removal = await kubectl(['patch', 'spiderippool', allocPool, '--type=merge', '-p', JSON.stringify({ spec: { ips: ['10.213.1.10-10.213.1.11', '10.213.1.13-10.213.1.20'] } })]).then(
      () => 'accepted',
      (e: unknown) => String(e),
    );
    expect(removal).toContain(`spec.ips[0] (was "10.213.1.10-10.213.1.20"): 10.213.1.12 is allocated to pod ${kcNs.ns}/holder; release it first`);
    const exclusion = await kubectl(['patch', 'spiderippool', allocPool, '--type=merge', '-p', JSON.stringify({ spec: { excludeIPs: ['10.213.1.12'] } })]).then(
      () => 'accepted',
      (e: unknown) => String(e),
    );
    expect(exclusion).toContain(`spec.excludeIPs[0]: 10.213.1.12 is allocated to pod ${kcNs.ns}/holder; release it first`);
    expect((await getPool(allocPool))!.spec.ips).toEqual(['10.213.1.10-10.213.1.20']);

    await kubectl(['patch', 'spiderippool', allocPool, '--type=merge', '-p', JSON.stringify({ spec: { ips: ['10.213.1.10-10.213.1.19'] } })]);
    expect((await getPool(allocPool))!.spec.ips).toEqual(['10.213.1.10-10.213.1.19']);
  });

  it('holds the deletion of a pool with allocations until they are released', async () => {
    // allocPool still holds 10.213.1.12 (previous test).
    await kubectl(['delete', 'spiderippool', allocPool, '--wait=false']);
    // Longer than the settle time and several reconciles: still there, terminating.
    await new Promise((r) => setTimeout(r, 4_000));
    const held = await getPool(allocPool);
    expect(held?.metadata?.deletionTimestamp).toBeDefined();
    expect(held?.metadata?.finalizers).toContain(SPIDER_FINALIZER);
    expect(logLines.some((l) => l.message === 'pool deletion waits for its allocations' && l.name === allocPool)).toBe(true);

    const uid = held!.metadata!.uid!;
    await writeBlock({ custom, ns: kcNs.ns } as never, allocPool, uid, '10.213.1.12', [], kcNs.node);
    await waitFor(`pool ${allocPool} gone once its block is empty`, async () => {
      const p = await getPool(allocPool);
      return { ok: p === undefined, detail: JSON.stringify(p?.metadata ?? null) };
    }, 60_000, 300);
  });

  it('enforces the namespace IP quota at allocation, with an IPQuotaExceeded event on the pod', async () => {
    // 3 addresses from the subnet's pool, quota 2 for the namespace.
    await createPoolObj(quotaPool, { subnet: '10.213.2.0/24', ips: ['10.213.2.10-10.213.2.12'] }, { [LABEL_IPPOOL_OWNER_SPIDER_SUBNET]: subnetName });
    await kubectl(['annotate', 'namespace', kcNs.ns, `${ANNO_NS_IP_QUOTA}={"${subnetName}": 2}`]);
    const { service, stop } = await startAllocator();
    try {
      const annotations = { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [quotaPool] }) };
      const uids: string[] = [];
      for (const n of [1, 2, 3]) uids.push(await createPod({ core, ns: kcNs.ns, node: kcNs.node } as never, `q-${n}`, { annotations }));
      const req = (n: number): AllocateRequest => ({
        containerId: `cid-q-${n}`,
        netns: '/var/run/netns/x',
        ifname: 'eth0',
        pod: { namespace: kcNs.ns, name: `q-${n}`, uid: uids[n - 1]! },
        nodeName: kcNs.node,
        defaultIpv4Ippool: [],
        defaultIpv6Ippool: [],
        requestId: `q-${n}`,
        networkName: 'macvlan',
      });
      // The allocator's caches may need a moment to show the new pods and the annotation.
      await waitFor('q-1 allocated', async () => ({ ok: (await service.allocate(req(1))).ips.length === 1, detail: '' }), 20_000, 300);
      await service.allocate(req(2));
      const err = (await service.allocate(req(3)).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: number; reason?: string; message?: string } | undefined;
      expect(err).toMatchObject({ code: GrpcCode.RESOURCE_EXHAUSTED, reason: ErrorReason.QuotaExceeded });
      expect(err?.message).toBe(`namespace ${kcNs.ns} holds 2 of its quota of 2 IPs from SpiderSubnet ${subnetName} (Namespace annotation ${ANNO_NS_IP_QUOTA}); release addresses or raise the quota`);

      const event = await waitFor(
        'IPQuotaExceeded event on q-3',
        async () => {
          const list = await core.listNamespacedEvent({ namespace: kcNs.ns, fieldSelector: `involvedObject.name=q-3,reason=${QUOTA_EVENT_REASON}` });
          return { ok: list.items.length > 0, value: list.items[0], detail: `${list.items.length} events` };
        },
        20_000,
        300,
      );
      expect(event?.type).toBe('Warning');
      expect(event?.message).toContain(`quota of 2 IPs from SpiderSubnet ${subnetName}`);

      // One pod goes: its address is released and the third pod fits.
      await kubectl(['delete', 'pod', 'q-1', '-n', kcNs.ns, '--grace-period=0', '--force']);
      await waitFor('q-1 gone from the allocator cache', async () => ({ ok: (await service.releaseDeletedPod(kcNs.ns, 'q-1').catch(() => [])).length > 0 || service.poolState!.forPod(kcNs.ns, 'q-1').length === 0, detail: '' }), 20_000, 300);
      expect((await service.allocate(req(3))).ips).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});

describe('two webhook replicas', () => {
  it('behind a round-robin proxy, of 20 mutually overlapping pools exactly one is accepted', async () => {
    // Two webhooks as two operator replicas: own caches, one CA Secret and one range registry (the
    // same namespace). A TCP proxy hands each new connection from the apiserver to the next replica,
    // so concurrent admissions are decided by different processes' code paths at once.
    const scope = { labelSelector: `${REPLICA_LABEL}=${id}` };
    const ports: number[] = [];
    for (const r of [0, 1]) {
      const rlog = log.child({ replica: r });
      const pools = newPoolInformer(kcNs.kc, rlog, scope);
      const subnets = newSubnetInformer(kcNs.kc, rlog, scope);
      const blocks = newBlockInformer(kcNs.kc, rlog, { labelSelector: `${LABEL_BLOCK_POOL} in (${replicaPools.map(poolLabelValue).join(',')})` });
      const m = new Manager({ log: rlog, caches: [pools, subnets, blocks], controllers: [] });
      await m.start();
      const w = createWebhook({ kc: kcNs.kc, namespace: kcNs.ns, pools, subnets, blocks, san: { dnsNames: [], ipAddresses: ['127.0.0.1'] }, log: rlog });
      const { port } = await w.start('127.0.0.1', 0);
      ports.push(port);
      replicaStops.push(async () => {
        await w.stop();
        await m.stop();
      });
    }
    const served = [0, 0];
    let next = 0;
    const open = new Set<Socket>();
    const proxy: Server = createServer((client: Socket) => {
      const r = next++ % 2;
      served[r]!++;
      const upstream = connect(ports[r]!, '127.0.0.1');
      open.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', () => res()));
    // The apiserver keeps its connections alive: close them, or close() waits for them forever.
    replicaStops.push(
      () =>
        new Promise<void>((res) => {
          proxy.close(() => res());
          for (const sock of open) sock.destroy();
        }),
    );
    const proxyPort = (proxy.address() as { port: number }).port;

    const caPem = (await core.readNamespacedSecret({ namespace: kcNs.ns, name: 'spiderpool-ts-ca' })).data?.['ca.crt'] ?? '';
    await kcNs.kc.makeApiClient(AdmissionregistrationV1Api).createValidatingWebhookConfiguration({
      body: {
        metadata: { name: replicaConfig },
        webhooks: [
          {
            name: `pools.${id}.replicas.spiderpool-ts.io`,
            clientConfig: { url: `https://127.0.0.1:${proxyPort}${WEBHOOK_PATHS.validatePool}`, caBundle: caPem },
            rules: [{ apiGroups: [api.group], apiVersions: [api.version], resources: ['spiderippools'], operations: ['CREATE', 'UPDATE'], scope: 'Cluster' }],
            objectSelector: { matchLabels: { [REPLICA_LABEL]: id } },
            sideEffects: 'NoneOnDryRun',
            admissionReviewVersions: ['v1'],
            failurePolicy: 'Fail',
            timeoutSeconds: 15,
          },
        ],
      },
    });
    const body = (name: string, ips: string[]) => ({
      apiVersion: 'spiderpool.spidernet.io/v2beta1',
      kind: 'SpiderIPPool',
      metadata: { name, labels: { [REPLICA_LABEL]: id } as Record<string, string> },
      spec: { subnet: '10.213.3.0/24', ips },
    });
    await waitFor(
      'the replicas configuration in effect',
      async () => {
        // Refused only by our webhook: it names a SpiderSubnet that does not exist.
        const probe = body(`wh-rep-probe-${id}`, ['10.213.3.1']);
        probe.metadata.labels[LABEL_IPPOOL_OWNER_SPIDER_SUBNET] = `missing-${id}`;
        const out = await kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], { input: JSON.stringify(probe) }).then(
          () => 'accepted',
          (e: unknown) => String(e),
        );
        return { ok: out.includes(`SpiderSubnet missing-${id}, which does not exist`), detail: out.slice(0, 300) };
      },
      60_000,
      500,
    );

    const results = await Promise.allSettled(replicaPools.map((name, i) => custom.createClusterCustomObject({ ...api, plural: 'spiderippools', body: body(name, [`10.213.3.${10 + i}-10.213.3.${100 + i}`]) })));
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [refusal(r.reason)] : []));
    process.stdout.write(`two replicas: ${accepted} accepted, ${refused.length} refused; proxy connections per replica: ${served.join(', ')}\n`);
    expect(accepted).toBe(1);
    for (const m of refused) expect(m).toMatch(/spec\.ips\[0\]: .* already belong\(s\) to SpiderIPPool wh-rep-/);
    expect(served.every((n) => n > 0)).toBe(true);
    const names = (await kubectl(['get', 'spiderippools', '-l', `${REPLICA_LABEL}=${id}`, '-o', 'name'])).trim().split('\n').filter(Boolean);
    expect(names).toHaveLength(1);
  });
});

/** An allocator service over this namespace's pods and this run's pools, with the namespace quota. */
async function startAllocator(): Promise<{ service: AllocatorService; stop(): Promise<void> }> {
  const { kc, ns } = kcNs;
  const scope = { labelSelector: `${RUN_LABEL}=${id}` };
  const pods = new Informer<V1Pod>({ name: 'pods', kubeConfig: kc, path: `/api/v1/namespaces/${ns}/pods`, list: (o) => core.listNamespacedPod({ namespace: ns, ...o }), log });
  const namespaces = new Informer<V1Namespace>({ name: 'namespaces', kubeConfig: kc, path: '/api/v1/namespaces', list: (o) => core.listNamespace(o), log });
  const nodes = new Informer<V1Node>({ name: 'nodes', kubeConfig: kc, path: '/api/v1/nodes', list: (o) => core.listNode(o), log });
  const pools = newPoolInformer(kc, log, scope);
  const reservedIPs = newReservedIPInformer(kc, log, scope);
  const subnets = newSubnetInformer(kc, log, scope);
  const informers = [pods, namespaces, nodes, pools, reservedIPs, subnets];
  for (const i of informers) i.start();
  for (const i of informers) if (!(await i.waitForSync(30_000))) throw new Error('allocator informer did not sync');
  const io = new KubeBlockIO(kc);
  const committer = new BlockCommitter(io);
  const service = new AllocatorService({
    committer,
    cluster: informerClusterView({ pods, namespaces, nodes, pools, reservedIPs }, core, kc.makeApiClient(AppsV1Api)),
    selection: { enableIPv4: true, enableIPv6: false, multusNamespace: 'kube-system' },
    quota: new NamespaceQuota({ namespace: (n) => namespaces.get(n), subnets: () => subnets.list(), onExceeded: quotaEventRecorder(core, log) }),
    log,
  });
  service.setState(await rebuildState(io, committer, pools.list(), reservedIPs.list(), log));
  // New pools reach the allocator through the term controller in the operator; here the state is
  // rebuilt once, after the quota pool exists.
  return { service, stop: async () => void (await Promise.all(informers.map((i) => i.stop()))) };
}
