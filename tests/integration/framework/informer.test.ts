// The informer against the real kube-apiserver: cache and events, and each way a watch ends in
// production (server timeout, client-node's 30 s idle abort, 410 Gone, a stall, a failing list).
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Informer } from '../../../operator/src/framework/informer.js';
import type { InformerOptions, ListFn } from '../../../operator/src/framework/informer.js';
import { createLogger } from '../../../operator/src/framework/logger.js';
import { ensureCluster, kubectl, kubeconfigPath } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';

// Real API round-trips and lease timings: jest's 5 s default is too short (a project-level
// testTimeout is not applied by jest 30).
jest.setTimeout(60_000);

const ns = `fw-test-${randomBytes(4).toString('hex')}`;
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', defaultMeta: { test: 'informer' } });
let kc: KubeConfig;
let core: CoreV1Api;
const running: Informer<V1ConfigMap>[] = [];

beforeAll(async () => {
  await ensureCluster();
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  await kubectl(['create', 'namespace', ns]);
}, 60 * 60_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
});

// Only our ConfigMaps: the namespace also holds kube-root-ca.crt.
const selector = 'fw-test=informer';
const listCMs: ListFn<V1ConfigMap> = (o) => core.listNamespacedConfigMap({ namespace: ns, ...o });

function informer(opts: Partial<InformerOptions<V1ConfigMap>> = {}): Informer<V1ConfigMap> {
  const inf = new Informer<V1ConfigMap>({
    name: 'configmaps',
    kubeConfig: kc,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: listCMs,
    labelSelector: selector,
    log,
    ...opts,
  });
  running.push(inf);
  return inf;
}

interface Seen {
  type: 'add' | 'update' | 'delete' | 'resync';
  name: string;
  data?: Record<string, string>;
}

function record(inf: Informer<V1ConfigMap>): Seen[] {
  const seen: Seen[] = [];
  const name = (o: V1ConfigMap) => o.metadata?.name ?? '?';
  inf.addEventHandler({
    add: (o) => seen.push({ type: 'add', name: name(o), ...(o.data ? { data: o.data } : {}) }),
    update: (a, b) => seen.push({ type: a === b ? 'resync' : 'update', name: name(b), ...(b.data ? { data: b.data } : {}) }),
    delete: (o) => seen.push({ type: 'delete', name: name(o) }),
  });
  return seen;
}

const sawEvent = (seen: Seen[], type: Seen['type'], name: string, timeoutMs = 10_000) =>
  waitFor(
    `${type} ${name}`,
    async () => ({ ok: seen.some((s) => s.type === type && s.name === name), detail: JSON.stringify(seen.slice(-5)) }),
    timeoutMs,
    50,
  );

const createCM = (name: string, labels: Record<string, string> = {}) =>
  core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { 'fw-test': 'informer', ...labels } }, data: { v: '1' } } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Informer on the real apiserver', () => {
  test('lists existing objects, then sees add, update and delete; cache and indexes follow', async () => {
    await createCM('pre-existing', { team: 'a' });
    const inf = informer({ indexers: { team: (o) => (o.metadata?.labels?.team ? [o.metadata.labels.team] : []) } });
    const seen = record(inf);
    inf.start();
    expect(await inf.waitForSync(10_000)).toBe(true);
    expect(inf.hasSynced()).toBe(true);
    expect(seen).toContainEqual({ type: 'add', name: 'pre-existing', data: { v: '1' } });

    await createCM('cm-a', { team: 'b' });
    await sawEvent(seen, 'add', 'cm-a');
    await core.replaceNamespacedConfigMap({
      name: 'cm-a',
      namespace: ns,
      body: { metadata: { name: 'cm-a', labels: { 'fw-test': 'informer', team: 'a' } }, data: { v: '2' } },
    });
    await sawEvent(seen, 'update', 'cm-a');
    expect(seen.find((s) => s.type === 'update' && s.name === 'cm-a')?.data).toEqual({ v: '2' });
    expect(inf.get(`${ns}/cm-a`)?.data).toEqual({ v: '2' });
    expect(inf.byIndex('namespace', ns).map((o) => o.metadata?.name).sort()).toEqual(['cm-a', 'pre-existing']);
    expect(inf.byIndex('team', 'a').map((o) => o.metadata?.name).sort()).toEqual(['cm-a', 'pre-existing']);
    expect(inf.byIndex('team', 'b')).toEqual([]); // re-indexed on update

    await core.deleteNamespacedConfigMap({ name: 'cm-a', namespace: ns });
    await sawEvent(seen, 'delete', 'cm-a');
    expect(inf.get(`${ns}/cm-a`)).toBeUndefined();
    expect(inf.byIndex('team', 'a').map((o) => o.metadata?.name)).toEqual(['pre-existing']);
    expect(inf.stats()).toMatchObject({ lists: 1, expired: 0, failures: 0 });
    await core.deleteNamespacedConfigMap({ name: 'pre-existing', namespace: ns });
  });

  test('a watch the server ends (timeoutSeconds=1) is resumed from the last resourceVersion, no relist', async () => {
    const inf = informer({ watchTimeoutSeconds: 1 });
    const seen = record(inf);
    inf.start();
    await inf.waitForSync(10_000);
    await waitFor('3 watch requests', async () => ({ ok: inf.stats().watches >= 3, detail: JSON.stringify(inf.stats()) }), 15_000, 100);
    await createCM('after-timeouts');
    await sawEvent(seen, 'add', 'after-timeouts');
    expect(inf.stats()).toMatchObject({ lists: 1, expired: 0, failures: 0 });
    await core.deleteNamespacedConfigMap({ name: 'after-timeouts', namespace: ns });
    await sawEvent(seen, 'delete', 'after-timeouts');
  });

  test("client-node's 30 s idle abort (TimeoutError) is survived by reconnecting, no relist", async () => {
    const inf = informer(); // server timeout 300-600 s: only the client-side idle abort ends the first watch
    const seen = record(inf);
    inf.start();
    await inf.waitForSync(10_000);
    await waitFor('a second watch after the idle abort', async () => ({ ok: inf.stats().watches >= 2, detail: JSON.stringify(inf.stats()) }), 45_000, 250);
    await createCM('after-idle');
    await sawEvent(seen, 'add', 'after-idle');
    expect(inf.stats()).toMatchObject({ lists: 1, expired: 0, stalls: 0, failures: 0 });
    await core.deleteNamespacedConfigMap({ name: 'after-idle', namespace: ns });
  }, 90_000);

  test('410 Gone: a watch from a too-old resourceVersion is answered 410 and the informer relists', async () => {
    await createCM('exists-before');
    // The first list reports resourceVersion "1", as a list served from a lagging cache would; the
    // watch from it is older than the apiserver's watch window, so the server must answer 410.
    let calls = 0;
    const inf = informer({
      list: async (o) => {
        const l = await listCMs(o);
        if (calls++ === 0) l.metadata = { ...l.metadata, resourceVersion: '1' };
        return l;
      },
    });
    const seen = record(inf);
    inf.start();
    await inf.waitForSync(10_000);
    await waitFor('relist after 410', async () => ({ ok: inf.stats().lists >= 2, detail: JSON.stringify(inf.stats()) }), 15_000, 50);
    const s = inf.stats();
    expect(s.expired).toBe(1);
    expect(s.lists).toBe(2);
    expect(s.failures).toBe(0);
    expect(Number(s.resourceVersion)).toBeGreaterThan(1);
    // The relist found nothing new: no duplicate add for the object already cached.
    expect(seen.filter((e) => e.name === 'exists-before')).toEqual([{ type: 'add', name: 'exists-before', data: { v: '1' } }]);
    await createCM('after-410');
    await sawEvent(seen, 'add', 'after-410');
    await core.deleteNamespacedConfigMap({ name: 'exists-before', namespace: ns });
    await core.deleteNamespacedConfigMap({ name: 'after-410', namespace: ns });
  });

  test('a relist delivers deletes that happened while the informer was not watching', async () => {
    await createCM('gone-later');
    let calls = 0;
    // The second list (after the forced 410) runs after gone-later is deleted behind the watch's back.
    const inf = informer({
      list: async (o) => {
        if (calls === 1) await core.deleteNamespacedConfigMap({ name: 'gone-later', namespace: ns });
        const l = await listCMs(o);
        if (calls++ === 0) l.metadata = { ...l.metadata, resourceVersion: '1' };
        return l;
      },
    });
    const seen = record(inf);
    inf.start();
    await sawEvent(seen, 'delete', 'gone-later');
    expect(inf.get(`${ns}/gone-later`)).toBeUndefined();
  });

  test('stall detection: no event and no renewal within stallTimeoutMs abandons the watch and relists', async () => {
    const inf = informer({ stallTimeoutMs: 1_500 }); // shorter than client-node's 30 s idle abort
    const seen = record(inf);
    inf.start();
    await inf.waitForSync(10_000);
    await waitFor('a stall', async () => ({ ok: inf.stats().stalls >= 1, detail: JSON.stringify(inf.stats()) }), 10_000, 100);
    // The relist follows the stall asynchronously (a list request): bounded wait, not an instant check.
    await waitFor('a relist after the stall', async () => ({ ok: inf.stats().lists >= 2, detail: JSON.stringify(inf.stats()) }), 10_000, 50);
    await createCM('after-stall');
    await sawEvent(seen, 'add', 'after-stall');
    await core.deleteNamespacedConfigMap({ name: 'after-stall', namespace: ns });
  });

  test('failed lists are retried with backoff until one succeeds', async () => {
    let calls = 0;
    const inf = informer({
      backoff: { initialMs: 50, maxMs: 200 },
      list: async (o) => {
        if (calls++ < 3) throw new Error(`injected list failure ${calls}`);
        return listCMs(o);
      },
    });
    inf.start();
    expect(await inf.waitForSync(10_000)).toBe(true);
    expect(inf.stats()).toMatchObject({ lists: 1, failures: 3 });
  });

  test('a watch that fails (HTTP 404 on the path) is retried with backoff and never kills the loop', async () => {
    const inf = informer({ path: `/api/v1/namespaces/${ns}/no-such-resource`, backoff: { initialMs: 50, maxMs: 100 } });
    inf.start();
    await inf.waitForSync(10_000);
    await waitFor('3 failed watches', async () => ({ ok: inf.stats().failures >= 3, detail: JSON.stringify(inf.stats()) }), 10_000, 50);
    expect(inf.stats().lists).toBe(1);
  });

  test('periodic resync re-delivers every cached object as update(o, o); a throwing handler does not stop it', async () => {
    await createCM('resync-me');
    const inf = informer({ resyncPeriodMs: 300 });
    inf.addEventHandler({
      update: () => {
        throw new Error('handler bug');
      },
    });
    const seen = record(inf);
    inf.start();
    await inf.waitForSync(10_000);
    await waitFor('2 resyncs', async () => ({ ok: seen.filter((s) => s.type === 'resync').length >= 2, detail: JSON.stringify(inf.stats()) }), 5_000, 50);
    expect(inf.stats().resyncs).toBeGreaterThanOrEqual(2);
    expect(new Set(seen.filter((s) => s.type === 'resync').map((s) => s.name))).toEqual(new Set(['resync-me']));
    await core.deleteNamespacedConfigMap({ name: 'resync-me', namespace: ns });
    await sawEvent(seen, 'delete', 'resync-me');
  });

  test('stop() ends the loop promptly, even in the middle of a backoff', async () => {
    const inf = informer({ backoff: { initialMs: 60_000, maxMs: 60_000 }, list: () => Promise.reject(new Error('down')) });
    inf.start();
    await sleep(200);
    const t0 = Date.now();
    await inf.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});
