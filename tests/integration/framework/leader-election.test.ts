// Two electors (two identities, one process) on one real Lease: exactly one leads; the other takes
// over within leaseDuration after the leader "crashes" (stops renewing without releasing), and at once
// after a graceful release.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../../operator/src/framework/leader-election.js';
import type { LeaderElectorOptions } from '../../../operator/src/framework/leader-election.js';
import { createLogger } from '../../../operator/src/framework/logger.js';
import { ensureCluster, kubectl, kubeconfigPath } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';

// Real API round-trips and lease timings: jest's 5 s default is too short (a project-level
// testTimeout is not applied by jest 30).
jest.setTimeout(60_000);

const ns = `fw-test-${randomBytes(4).toString('hex')}`;
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', defaultMeta: { test: 'leader-election' } });
let coordination: CoordinationV1Api;
const electors: LeaderElector[] = [];

// Short periods keep the test quick; the ratios are client-go's defaults (15 / 10 / 2).
const LEASE_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_MS = 400;

beforeAll(async () => {
  await ensureCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  coordination = kc.makeApiClient(CoordinationV1Api);
  await kubectl(['create', 'namespace', ns]);
}, 60 * 60_000);

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop({ release: true })));
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
});

interface Tracked {
  elector: LeaderElector;
  events: string[];
  signal?: AbortSignal;
}

function elector(lease: string, identity: string, extra: Partial<LeaderElectorOptions> = {}): Tracked {
  const t: Partial<Tracked> & { events: string[] } = { events: [] };
  t.elector = new LeaderElector({
    coordination,
    namespace: ns,
    name: lease,
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_DEADLINE_MS,
    retryPeriodMs: RETRY_MS,
    log,
    onStartedLeading: (signal) => {
      t.events.push('started');
      t.signal = signal;
    },
    onStoppedLeading: () => t.events.push('stopped'),
    onNewLeader: (id) => t.events.push(`leader=${id ?? ''}`),
    ...extra,
  });
  electors.push(t.elector);
  return t as Tracked;
}

const readLease = (name: string) => coordination.readNamespacedLease({ name, namespace: ns });

const untilLeader = (who: () => LeaderElector | undefined, what: string, timeoutMs: number) =>
  waitFor(what, async () => ({ ok: who()?.isLeader() ?? false, detail: electors.map((e) => `${e.identity}:${e.isLeader()}`).join(' ') }), timeoutMs, 25);

describe('LeaderElector on a real Lease', () => {
  test('exactly one of two leads; the Lease records holder, duration, times and transitions', async () => {
    const a = elector('one-leads', 'replica-a');
    const b = elector('one-leads', 'replica-b');
    a.elector.start();
    b.elector.start();
    await waitFor('a leader', async () => ({ ok: a.elector.isLeader() || b.elector.isLeader(), detail: '' }), 10_000, 25);
    // Hold for several renew periods: never two leaders, never a change of leader.
    const first = a.elector.isLeader() ? a : b;
    const other = first === a ? b : a;
    for (let i = 0; i < 20; i++) {
      expect(a.elector.isLeader() && b.elector.isLeader()).toBe(false);
      expect(first.elector.isLeader()).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lease = await readLease('one-leads');
    expect(lease.spec?.holderIdentity).toBe(first.elector.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(lease.spec?.leaseTransitions).toBe(0);
    expect(lease.spec?.acquireTime).toBeDefined();
    expect(new Date(String(lease.spec?.renewTime)).getTime()).toBeGreaterThan(new Date(String(lease.spec?.acquireTime)).getTime());
    expect(first.events).toEqual([`leader=${first.elector.identity}`, 'started']);
    expect(other.events).toEqual([`leader=${first.elector.identity}`]);
    expect(other.elector.leader()).toBe(first.elector.identity);
    expect(other.elector.followerProblem()).toBeUndefined(); // a healthy follower
    expect(first.elector.leaderProblem()).toBeUndefined();
  });

  test('crash (stop renewing, no release): the follower takes over within leaseDuration, not before it', async () => {
    const a = elector('crash', 'replica-a');
    a.elector.start();
    await untilLeader(() => a.elector, 'a leads', 10_000);
    const b = elector('crash', 'replica-b');
    b.elector.start();
    await new Promise((r) => setTimeout(r, 3 * RETRY_MS)); // b has observed a's renewals
    expect(b.elector.isLeader()).toBe(false);

    const crashedAt = Date.now();
    await a.elector.stop({ release: false });
    expect((await readLease('crash')).spec?.holderIdentity).toBe('replica-a'); // not released
    await untilLeader(() => b.elector, 'b takes over', LEASE_MS + 3 * RETRY_MS + 2_000);
    const tookMs = Date.now() - crashedAt;
    // b must wait out the lease (measured from its last observed renewal) and poll within ~1.2 retry periods.
    expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS - 2 * RETRY_MS);
    expect(tookMs).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS + 500);
    const lease = await readLease('crash');
    expect(lease.spec?.holderIdentity).toBe('replica-b');
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  test('graceful stop releases the Lease and the follower takes over at its next poll', async () => {
    const a = elector('release', 'replica-a');
    a.elector.start();
    await untilLeader(() => a.elector, 'a leads', 10_000);
    const b = elector('release', 'replica-b');
    b.elector.start();
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));

    const stoppedAt = Date.now();
    await a.elector.stop();
    expect(a.events).toContain('stopped');
    expect(a.signal?.aborted).toBe(true);
    await untilLeader(() => b.elector, 'b takes over', 5_000);
    // One jittered retry period, far below the lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(1.2 * RETRY_MS + 500);
    expect(b.events).toContain('leader=');
    expect((await readLease('release')).spec?.holderIdentity).toBe('replica-b');
  });

  test('a leader that cannot renew steps down within renewDeadline: callback fires, signal aborts, isLeader() false', async () => {
    // The leader's client starts failing every request once we flip the switch (an apiserver it
    // cannot reach); the follower keeps a working client.
    let broken = false;
    const failing = new Proxy(coordination, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (broken ? Promise.reject(new Error('connect ECONNREFUSED (injected)')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const a = elector('partition', 'replica-a', { coordination: failing });
    a.elector.start();
    await untilLeader(() => a.elector, 'a leads', 10_000);
    const b = elector('partition', 'replica-b');
    b.elector.start();
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));

    broken = true;
    const brokeAt = Date.now();
    await waitFor('a steps down', async () => ({ ok: a.events.includes('stopped'), detail: a.events.join(',') }), RENEW_DEADLINE_MS + 2 * RETRY_MS + 1_000, 10);
    const stepDownMs = Date.now() - brokeAt;
    // Scheduling slack for a shared, noisy CI machine; still below LEASE_MS, so a step-down that waited
    // for lease expiry instead of renewDeadline fails.
    expect(stepDownMs).toBeLessThanOrEqual(RENEW_DEADLINE_MS + RETRY_MS + 500);
    expect(a.signal?.aborted).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    // b takes over only after the Lease expired, i.e. after a stepped down: no overlap.
    await untilLeader(() => b.elector, 'b takes over', LEASE_MS + 3 * RETRY_MS + 2_000);
    expect(Date.now() - brokeAt).toBeGreaterThan(stepDownMs);
    // a's last contact was its last successful renew, whose response can arrive a little after b
    // observed that renew; so a's own "unreachable for leaseDuration" can lag b's takeover by the
    // request latency. Bounded wait, not an instant check.
    await waitFor('a reports the lease unreachable', async () => ({ ok: /lease not reachable/.test(a.elector.followerProblem() ?? ''), detail: String(a.elector.followerProblem()) }), RETRY_MS + 500, 10);
    await a.elector.stop({ release: false });
  });

  test('isLeader() turns false at renewDeadline even while a renew request hangs', async () => {
    let hang = false;
    const hanging = new Proxy(coordination, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (hang ? new Promise(() => {}) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const a = elector('hang', 'replica-a', { coordination: hanging });
    a.elector.start();
    await untilLeader(() => a.elector, 'a leads', 10_000);
    hang = true;
    const t0 = Date.now();
    await waitFor('isLeader() false', async () => ({ ok: !a.elector.isLeader(), detail: '' }), RENEW_DEADLINE_MS + RETRY_MS + 1_000, 10);
    expect(Date.now() - t0).toBeLessThanOrEqual(RENEW_DEADLINE_MS + 400); // slack for a noisy machine, still < LEASE_MS
    await waitFor('a steps down', async () => ({ ok: a.events.includes('stopped'), detail: a.events.join(',') }), RENEW_DEADLINE_MS + 2 * RETRY_MS, 10);
    await a.elector.stop({ release: false });
  });

  test('rejects timings that break the safety margin', () => {
    expect(() => elector('x', 'y', { leaseDurationMs: 1_000, renewDeadlineMs: 1_000 })).toThrow(/must exceed renewDeadline/);
    expect(() => elector('x', 'y', { renewDeadlineMs: 1_000, retryPeriodMs: 900 })).toThrow(/retryPeriod/);
  });
});
