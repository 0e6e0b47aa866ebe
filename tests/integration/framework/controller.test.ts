// Controllers and the manager on the real apiserver: a failing key is retried with backoff while the
// others keep flowing; one key is never reconciled concurrently; requeueAfter; two managers with
// leader election run leader-only controllers on exactly one replica, hand over on graceful stop, and
// answer /healthz and /readyz.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Controller, informerSource } from '../../../operator/src/framework/controller.js';
import type { Reconcile } from '../../../operator/src/framework/controller.js';
import { Informer } from '../../../operator/src/framework/informer.js';
import { createLogger } from '../../../operator/src/framework/logger.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { ExponentialBackoff } from '../../../operator/src/framework/workqueue.js';
import { ensureCluster, kubectl, kubeconfigPath } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';

// Real API round-trips and lease timings: jest's 5 s default is too short (a project-level
// testTimeout is not applied by jest 30).
jest.setTimeout(60_000);

const ns = `fw-test-${randomBytes(4).toString('hex')}`;
const logLines: Record<string, unknown>[] = [];
// Capture the JSON log lines: the test checks the failing key is logged with its identity.
const log = createLogger({
  level: 'info',
  defaultMeta: { test: 'controller' },
  stream: new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  }),
});
let kc: KubeConfig;
let core: CoreV1Api;
let coordination: CoordinationV1Api;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  await ensureCluster();
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  coordination = kc.makeApiClient(CoordinationV1Api);
  await kubectl(['create', 'namespace', ns]);
}, 60 * 60_000);

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
});

function cmInformer(selector: string): Informer<V1ConfigMap> {
  const inf = new Informer<V1ConfigMap>({
    name: 'configmaps',
    kubeConfig: kc,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: (o) => core.listNamespacedConfigMap({ namespace: ns, ...o }),
    labelSelector: `fw-test=${selector}`,
    log,
  });
  cleanups.push(() => inf.stop());
  return inf;
}

const createCM = (name: string, selector: string, data: Record<string, string> = { v: '1' }) =>
  core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { 'fw-test': selector } }, data } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Controller on the real apiserver', () => {
  test('a key whose reconcile throws is retried with growing backoff; the others keep being reconciled', async () => {
    const inf = cmInformer('errors');
    inf.start();
    await inf.waitForSync(10_000);
    const attempts = new Map<string, number[]>();
    let badFixed = false;
    const reconcile: Reconcile = async (key) => {
      const t = performance.now();
      attempts.set(key, [...(attempts.get(key) ?? []), t]);
      if (key.endsWith('/bad') && !badFixed) throw new Error('cannot reconcile bad (injected)');
    };
    const ctl = new Controller({
      name: 'errors',
      reconcile,
      sources: [informerSource(inf)],
      workers: 2,
      rateLimiter: () => new ExponentialBackoff({ baseDelayMs: 50, maxDelayMs: 2_000 }),
      log,
    });
    ctl.start();
    cleanups.push(() => ctl.stop(5_000));
    await createCM('bad', 'errors');
    for (let i = 0; i < 5; i++) await createCM(`good-${i}`, 'errors');
    await waitFor('5 attempts on bad', async () => ({ ok: (attempts.get(`${ns}/bad`)?.length ?? 0) >= 5, detail: `${attempts.get(`${ns}/bad`)?.length}` }), 10_000, 20);
    for (let i = 0; i < 5; i++) expect(attempts.get(`${ns}/good-${i}`)?.length).toBe(1);

    // The gaps between retries grow: each is at least its nominal backoff (50, 100, 200, 400 ms; a
    // timer never fires early, 5 ms slack for clock granularity). Only lower bounds: on a loaded
    // machine any gap can be stretched, so "each gap > 1.5 × the previous" flaked; a constant or
    // non-growing backoff still fails here (the 4th gap would be ~50 ms, not ≥ 395).
    const times = attempts.get(`${ns}/bad`) ?? [];
    const gaps = times.slice(1, 5).map((t, i) => t - (times[i] ?? 0));
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i - 5));

    // While bad keeps failing, an update to a good object is reconciled promptly.
    await core.patchNamespacedConfigMap(
      { name: 'good-0', namespace: ns, body: [{ op: 'replace', path: '/data/v', value: '2' }] },
    );
    await waitFor('good-0 reconciled again', async () => ({ ok: attempts.get(`${ns}/good-0`)?.length === 2, detail: `${attempts.get(`${ns}/good-0`)?.length} ${JSON.stringify(inf.get(`${ns}/good-0`)?.data)}` }), 5_000, 20);

    // Every failure is logged with the object's identity, the retry count and the chosen delay.
    const failures = logLines.filter((l) => l.message === 'reconcile failed; retrying with backoff' && l.controller === 'errors');
    expect(failures.length).toBeGreaterThanOrEqual(5);
    expect(failures[0]).toMatchObject({ namespace: ns, name: 'bad', retries: 1, retryInMs: 50, level: 'error' });
    expect((failures[0]?.error as { message?: string }).message).toBe('cannot reconcile bad (injected)');

    // Once the cause is fixed the next retry succeeds and the key's backoff is reset.
    badFixed = true;
    const before = attempts.get(`${ns}/bad`)?.length ?? 0;
    await waitFor('bad succeeds', async () => ({ ok: (attempts.get(`${ns}/bad`)?.length ?? 0) > before, detail: '' }), 10_000, 20);
    await sleep(300);
    expect(attempts.get(`${ns}/bad`)?.length).toBe(before + 1);
  });

  test('one key is never reconciled concurrently; updates during a slow reconcile lead to one more pass that sees the latest data', async () => {
    const inf = cmInformer('serial');
    inf.start();
    await inf.waitForSync(10_000);
    let inFlight = 0;
    let maxInFlight = 0;
    const seenValues: string[] = [];
    const ctl = new Controller({
      name: 'serial',
      workers: 4,
      sources: [informerSource(inf)],
      log,
      reconcile: async (key) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        seenValues.push(inf.get(key)?.data?.v ?? '');
        await sleep(300);
        inFlight--;
      },
    });
    ctl.start();
    cleanups.push(() => ctl.stop(5_000));
    await createCM('hot', 'serial', { v: '0' });
    await waitFor('first pass', async () => ({ ok: seenValues.length >= 1, detail: '' }), 5_000, 10);
    for (let i = 1; i <= 5; i++) {
      await core.replaceNamespacedConfigMap({ name: 'hot', namespace: ns, body: { metadata: { name: 'hot', labels: { 'fw-test': 'serial' } }, data: { v: String(i) } } });
    }
    await waitFor('a pass that sees v=5', async () => ({ ok: seenValues.includes('5'), detail: seenValues.join(',') }), 5_000, 20);
    await sleep(500);
    expect(maxInFlight).toBe(1);
    // Dedup: five updates during one slow pass collapse into few passes, the last one with v=5.
    expect(seenValues.length).toBeLessThanOrEqual(3);
    expect(seenValues.at(-1)).toBe('5');
  });

  test('requeueAfter brings a key back without any change', async () => {
    const inf = cmInformer('requeue');
    inf.start();
    await inf.waitForSync(10_000);
    let passes = 0;
    const ctl = new Controller({
      name: 'requeue',
      sources: [informerSource(inf)],
      log,
      reconcile: async () => {
        passes++;
        return { requeueAfterMs: 100 };
      },
    });
    ctl.start();
    cleanups.push(() => ctl.stop(5_000));
    await createCM('periodic', 'requeue');
    await waitFor('5 passes', async () => ({ ok: passes >= 5, detail: String(passes) }), 5_000, 20);
  });

  test('stop() drains: the in-flight reconcile finishes, its signal is aborted, nothing starts after', async () => {
    const inf = cmInformer('drain');
    await createCM('slow', 'drain');
    inf.start();
    await inf.waitForSync(10_000);
    let finished = false;
    let abortedDuring = false;
    let started = 0;
    const ctl = new Controller({
      name: 'drain',
      sources: [informerSource(inf)],
      log,
      reconcile: async (_key, { signal }) => {
        started++;
        await sleep(400);
        abortedDuring = signal.aborted;
        finished = true;
      },
    });
    ctl.start();
    await waitFor('reconcile started', async () => ({ ok: started === 1, detail: '' }), 5_000, 10);
    expect(await ctl.stop(5_000)).toBe(true);
    expect(finished).toBe(true);
    expect(abortedDuring).toBe(true);
    await createCM('after-stop', 'drain');
    await sleep(300);
    expect(started).toBe(1);
  });
});

describe('Manager with leader election', () => {
  async function replica(identity: string, lease: string) {
    const inf = cmInformer('managed');
    const reconciled: string[] = [];
    const ctl = new Controller({
      name: `leader-only-${identity}`,
      sources: [informerSource(inf)],
      log,
      reconcile: async (key) => {
        reconciled.push(key);
      },
    });
    const always: string[] = [];
    const alwaysCtl = new Controller({
      name: `always-${identity}`,
      sources: [informerSource(inf)],
      log,
      reconcile: async (key) => {
        always.push(key);
      },
    });
    const mgr = new Manager({
      log,
      caches: [inf],
      controllers: [{ controller: ctl }, { controller: alwaysCtl, leaderOnly: false }],
      leaderElection: { coordination, namespace: ns, name: lease, identity, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 },
      healthPort: 0,
      healthHost: '127.0.0.1',
      drainTimeoutMs: 5_000,
    });
    await mgr.start();
    cleanups.push(() => mgr.stop());
    const probe = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${mgr.healthPort()}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    return { mgr, ctl, reconciled, always, probe };
  }

  test('only the leader runs leader-only controllers; both are ready; graceful stop hands over at once', async () => {
    await createCM('m-1', 'managed');
    const a = await replica('mgr-a', 'managers');
    await waitFor('a leads', async () => ({ ok: a.mgr.leaderElector?.isLeader() ?? false, detail: '' }), 10_000, 20);
    const b = await replica('mgr-b', 'managers');
    await waitFor('a reconciled m-1', async () => ({ ok: a.reconciled.includes(`${ns}/m-1`), detail: '' }), 5_000, 20);
    await sleep(1_000);
    expect(b.ctl.isRunning()).toBe(false);
    expect(b.reconciled).toEqual([]);
    // leaderOnly: false runs on every replica.
    expect(a.always).toContain(`${ns}/m-1`);
    expect(b.always).toContain(`${ns}/m-1`);

    expect(await a.probe('/readyz')).toEqual({ status: 200, body: { ready: true, reasons: [], leader: 'mgr-a' } });
    expect(await b.probe('/readyz')).toEqual({ status: 200, body: { ready: true, reasons: [], leader: 'mgr-a' } });
    expect(await a.probe('/healthz')).toEqual({ status: 200, body: { ok: true } });
    expect((await a.probe('/nope')).status).toBe(404);

    const stoppedAt = Date.now();
    await a.mgr.stop();
    expect(a.ctl.isRunning()).toBe(false);
    await waitFor('b takes over and reconciles everything', async () => ({ ok: b.reconciled.includes(`${ns}/m-1`), detail: '' }), 5_000, 20);
    expect(Date.now() - stoppedAt).toBeLessThan(1_500); // a released the Lease: no wait for expiry
    expect((await b.probe('/readyz')).body.leader).toBe('mgr-b');
  });

  test('not ready until caches sync; start() fails (and cleans up) when they do not sync in time', async () => {
    let stopped = false;
    const neverSyncs = {
      start: () => undefined,
      stop: async () => void (stopped = true),
      hasSynced: () => false,
      waitForSync: (ms?: number) => new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
    };
    const mgr = new Manager({ log, caches: [neverSyncs], controllers: [], healthPort: 0, healthHost: '127.0.0.1', syncTimeoutMs: 500 });
    const starting = mgr.start();
    await waitFor('health server up', async () => ({ ok: mgr.healthPort() !== undefined, detail: '' }), 2_000, 10);
    const res = await fetch(`http://127.0.0.1:${mgr.healthPort()}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, reasons: ['manager starting', '1 caches not synced'] });
    await expect(starting).rejects.toThrow('manager: 1 of 1 caches not synced within 500 ms');
    expect(stopped).toBe(true);
  });

  test('SIGTERM drains and stops the manager; readiness turns 503 while stopping', async () => {
    const before = process.listenerCount('SIGTERM');
    const a = await replica('sig-a', 'signals');
    await waitFor('a leads', async () => ({ ok: a.mgr.leaderElector?.isLeader() ?? false, detail: '' }), 10_000, 20);
    const done = a.mgr.stopOnSignals();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(a.mgr.readiness()).toMatchObject({ ready: false, reasons: ['manager stopping'] });
    expect(await done).toBe('SIGTERM');
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(a.ctl.isRunning()).toBe(false);
    expect(a.mgr.leaderElector?.isLeader()).toBe(false);
    const lease = await coordination.readNamespacedLease({ name: 'signals', namespace: ns });
    expect(lease.spec?.holderIdentity).toBeUndefined(); // released
  });
});
