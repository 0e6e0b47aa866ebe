// The registry as Prometheus sees it: every catalog metric present with its type, RPC hooks counting
// requests / failures by reason / durations, bounded labels, scrape-time sources (committer totals,
// queues, leadership, pool counts with the exhaustion estimate), and /metrics on the manager's port.
import { get } from 'node:http';
import { Writable } from 'node:stream';
import { METRICS, type MetricSpec } from '../../src/metrics/catalog.js';
import { OperatorMetrics, type PoolCounts } from '../../src/metrics/operator-metrics.js';
import { Manager } from '../../src/framework/manager.js';
import { Controller } from '../../src/framework/controller.js';
import { createLogger } from '../../src/framework/logger.js';
import { IpamError } from '../../src/service/errors.js';
import { ErrorReason, GrpcCode } from '../../src/rpc/errors.js';
import { GC_REASONS, RPC_FAILURE_REASONS } from '../../src/metrics/reasons.js';

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

/** name{labels} → value, parsed from the text exposition (what Prometheus reads). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    const v = line.slice(i + 1);
    out.set(line.slice(0, i), v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
  }
  return out;
}

async function scrape(m: OperatorMetrics): Promise<{ text: string; values: Map<string, number> }> {
  const text = await m.render();
  return { text, values: parse(text) };
}

const exhausted = () => new IpamError(GrpcCode.RESOURCE_EXHAUSTED, ErrorReason.PoolExhausted, 'no free address');

describe('OperatorMetrics', () => {
  test('every catalog metric is exposed with its type; default process metrics are on', async () => {
    const { text } = await scrape(new OperatorMetrics());
    for (const spec of Object.values(METRICS) as MetricSpec[]) expect(text).toContain(`# TYPE ${spec.name} ${spec.type}\n`);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(await new OperatorMetrics({ defaultMetrics: false }).render()).not.toContain('process_cpu');
  });

  test('allocation: requests counted, successes timed, failures by bounded reason, all reasons at 0 from the start', async () => {
    const m = new OperatorMetrics({ defaultMetrics: false });
    let v = (await scrape(m)).values;
    for (const r of RPC_FAILURE_REASONS) expect(v.get(`spiderpool_ipam_allocation_failure_counts{reason="${r}"}`)).toBe(0);

    await m.allocation.measure(async () => 'ok');
    await m.allocation.measure(() => new Promise((r) => setTimeout(() => r('ok'), 20)));
    await expect(m.allocation.measure(async () => Promise.reject(exhausted()))).rejects.toThrow('no free address');
    await expect(m.allocation.measure(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    // A reason outside the list (a future error path) is exported as internal, not as a new series.
    await expect(m.allocation.measure(async () => Promise.reject(new IpamError(13, 'made-up' as ErrorReason, 'x')))).rejects.toThrow();
    await m.release.measure(async () => 'ok');

    v = (await scrape(m)).values;
    expect(v.get('spiderpool_ipam_allocation_counts')).toBe(5);
    expect(v.get('spiderpool_ipam_allocation_duration_seconds_count')).toBe(2);
    expect(v.get('spiderpool_ipam_allocation_duration_seconds_sum')).toBeGreaterThanOrEqual(0.015);
    expect(v.get('spiderpool_ipam_allocation_duration_seconds_bucket{le="0.001"}')).toBeLessThanOrEqual(1);
    expect(v.get('spiderpool_ipam_allocation_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(v.get('spiderpool_ipam_allocation_failure_counts{reason="pool-exhausted"}')).toBe(1);
    expect(v.get('spiderpool_ipam_allocation_failure_counts{reason="internal"}')).toBe(2);
    expect([...v.keys()].some((k) => k.includes('made-up'))).toBe(false);
    expect(v.get('spiderpool_ipam_release_counts')).toBe(1);
    expect(v.get('spiderpool_ipam_release_duration_seconds_count')).toBe(1);
    expect(v.get('spiderpool_ipam_allocation_duration_seconds_bucket{le="0.001"}')).toBeDefined();
  });

  test('gc: releases and failures by reason (unknown reasons fold into other), backlog from the GC queue', async () => {
    const m = new OperatorMetrics({ defaultMetrics: false });
    m.gc.released(GC_REASONS.PodDeleted, 3);
    m.gc.released(GC_REASONS.CniGc);
    m.gc.released('free text' as never);
    m.gc.failed(GC_REASONS.UidMismatch);
    let backlog: number | undefined = 7;
    m.watch({ gcBacklog: () => backlog });
    const v = (await scrape(m)).values;
    expect(v.get('spiderpool_ip_gc_counts{reason="pod-deleted"}')).toBe(3);
    expect(v.get('spiderpool_ip_gc_counts{reason="cni-gc"}')).toBe(1);
    expect(v.get('spiderpool_ip_gc_counts{reason="other"}')).toBe(1);
    expect(v.get('spiderpool_ip_gc_failure_counts{reason="uid-mismatch"}')).toBe(1);
    expect(v.get('spiderpool_ts_gc_backlog_pods')).toBe(7);
    backlog = undefined;
    expect((await scrape(m)).values.get('spiderpool_ts_gc_backlog_pods')).toBe(0);
  });

  test('committer: totals read at scrape become counters (a new committer counts from its zero); batch sizes observed', async () => {
    const m = new OperatorMetrics({ defaultMetrics: false });
    let totals = { writes: 10, conflicts: 2, failedBatches: 0 };
    m.watch({ committer: () => totals });
    m.committer.written(40, 0.004);
    m.committer.written(1, 0.002);
    let v = (await scrape(m)).values;
    expect(v.get('spiderpool_ts_ipamblock_writes_total')).toBe(10);
    expect(v.get('spiderpool_ts_ipamblock_conflicts_total')).toBe(2);
    expect(v.get('spiderpool_ts_group_commit_batch_size_count')).toBe(2);
    expect(v.get('spiderpool_ts_group_commit_batch_size_sum')).toBe(41);
    expect(v.get('spiderpool_ts_group_commit_batch_size_bucket{le="32"}')).toBe(1);
    expect(v.get('spiderpool_ts_ipamblock_write_duration_seconds_count')).toBe(2);
    totals = { writes: 15, conflicts: 2, failedBatches: 1 };
    v = (await scrape(m)).values;
    expect(v.get('spiderpool_ts_ipamblock_writes_total')).toBe(15);
    expect(v.get('spiderpool_ts_ipamblock_commit_failures_total')).toBe(1);
    totals = { writes: 3, conflicts: 0, failedBatches: 0 };
    v = (await scrape(m)).values;
    expect(v.get('spiderpool_ts_ipamblock_writes_total')).toBe(18);
  });

  test('pools: counts per pool, drain rate and time to exhaustion; a pool gone or a follower drops the series; a new term restarts the rate', async () => {
    let now = 0;
    const m = new OperatorMetrics({ defaultMetrics: false, now: () => now, drainTauSeconds: 60 });
    const counts = new Map<string, PoolCounts>([
      ['a', { allocated: 0, total: 100n, free: 100n }],
      ['b', { allocated: 5, total: 10n, free: 5n }],
    ]);
    let generation = {};
    let serving = true;
    m.watch({ pools: () => (serving ? { names: ['a', 'b', 'not-loaded'], counts: (n) => counts.get(n), generation } : undefined), leader: () => serving });

    let v = (await scrape(m)).values;
    expect(v.get('spiderpool_total_ippool_counts')).toBe(2);
    expect(v.get('spiderpool_ippool_total_ip_counts{pool="a"}')).toBe(100);
    expect(v.get('spiderpool_ippool_available_ip_counts{pool="b"}')).toBe(5);
    expect(v.get('spiderpool_ts_ippool_exhaustion_seconds{pool="a"}')).toBe(Infinity);
    expect(v.get('spiderpool_ts_leader')).toBe(1);
    expect(v.has('spiderpool_ippool_total_ip_counts{pool="not-loaded"}')).toBe(false);

    // a drains by 1 IP/s for a minute; b stays put.
    for (let t = 1; t <= 60; t++) {
      now = t * 1000;
      counts.set('a', { allocated: t, total: 100n, free: BigInt(100 - t) });
      v = (await scrape(m)).values;
    }
    const rate = v.get('spiderpool_ts_ippool_drain_rate_ips_per_second{pool="a"}')!;
    expect(rate).toBeCloseTo(1 - Math.exp(-1), 2);
    expect(v.get('spiderpool_ts_ippool_exhaustion_seconds{pool="a"}')).toBeCloseTo(40 / rate, 3);
    expect(v.get('spiderpool_ippool_allocated_ip_counts{pool="a"}')).toBe(60);
    expect(v.get('spiderpool_ts_ippool_exhaustion_seconds{pool="b"}')).toBe(Infinity);
    counts.set('b', { allocated: 10, total: 10n, free: 0n });
    counts.delete('a');
    now += 1000;
    v = (await scrape(m)).values;
    expect(v.get('spiderpool_ts_ippool_exhaustion_seconds{pool="b"}')).toBe(0);
    expect(v.has('spiderpool_ippool_total_ip_counts{pool="a"}')).toBe(false);
    expect(v.get('spiderpool_total_ippool_counts')).toBe(1);

    // A rebuilt state (new term): b's jump from its last sample is not a drain.
    generation = {};
    counts.set('b', { allocated: 2, total: 10n, free: 8n });
    now += 1000;
    v = (await scrape(m)).values;
    expect(v.get('spiderpool_ts_ippool_drain_rate_ips_per_second{pool="b"}')).toBe(0);

    serving = false;
    v = (await scrape(m)).values;
    expect([...v.keys()].filter((k) => k.startsWith('spiderpool_ippool_') || k.startsWith('spiderpool_ts_ippool_'))).toEqual([]);
    expect(v.get('spiderpool_ts_leader')).toBe(0);
  });

  test('the manager serves /metrics and reports every reconcile and queue depth per controller', async () => {
    const m = new OperatorMetrics({ defaultMetrics: false });
    let fail = true;
    const controller = new Controller({
      name: 'demo',
      log,
      sources: [{ subscribe: () => () => {}, keys: () => ['ns/a', 'ns/b'], hasSynced: () => true }],
      reconcile: async (key) => {
        if (key === 'ns/b' && fail) {
          fail = false;
          throw new Error('once');
        }
      },
    });
    const manager = new Manager({ log, caches: [], controllers: [{ controller, leaderOnly: false }], healthPort: 0, healthHost: '127.0.0.1', metrics: m, onReconcile: m.observeReconcile });
    m.watch({ controllers: () => manager.controllerStats() });
    await manager.start();
    try {
      const port = manager.healthPort()!;
      const deadline = Date.now() + 5000;
      let text = '';
      let res = { status: 0, type: '' };
      while (Date.now() < deadline) {
        ({ text, ...res } = await fetchText(port, '/metrics'));
        if (/spiderpool_ts_reconcile_duration_seconds_count\{controller="demo",result="success"\} 2/.test(text)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(res.status).toBe(200);
      expect(res.type).toContain('text/plain');
      const v = parse(text);
      expect(v.get('spiderpool_ts_reconcile_duration_seconds_count{controller="demo",result="error"}')).toBe(1);
      expect(v.get('spiderpool_ts_reconcile_duration_seconds_count{controller="demo",result="success"}')).toBe(2);
      expect(v.get('spiderpool_ts_workqueue_depth{controller="demo"}')).toBe(0);
      expect((await fetchText(port, '/healthz')).status).toBe(200);
    } finally {
      await manager.stop();
    }
  });
});

function fetchText(port: number, path: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
    }).on('error', reject);
  });
}
