// The operator's metrics: one prom-client Registry per operator (tests run several in one process),
// built from the catalog, with the hooks the hot paths call and the sources read at scrape time.
//
// Hot paths get cheap calls only: a counter increment and a histogram observe on pre-bound,
// unlabelled or pre-labelled children; nothing is allocated per request for labels. Everything that
// is state rather than an event (pool counts, queue depths, leadership, the committer's counters) is
// read when /metrics is scraped, so it costs nothing between scrapes and can never drift.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { IpamError } from '../service/errors.js';
import { METRICS, type MetricKey, type MetricSpec } from './catalog.js';
import { DrainRateEstimator } from './drain-rate.js';
import type { CommitterMetrics, GcMetrics, RpcMetrics } from './hooks.js';
import { GC_REASONS, RPC_FAILURE_REASONS } from './reasons.js';

export interface ReconcileReport {
  controller: string;
  durationMs: number;
  error?: unknown;
}

/** The group committer's running totals (BlockCommitter.stats()). */
export interface CommitterTotals {
  writes: number;
  conflicts: number;
  failedBatches: number;
}

export interface PoolCounts {
  allocated: number;
  total: bigint | number;
  free: bigint | number;
}

/** What is read at scrape time. Every source is optional; a missing one exports nothing. */
export interface ScrapeSources {
  leader?: () => boolean;
  controllers?: () => readonly { name: string; depth: number }[];
  committer?: () => CommitterTotals;
  /** Pods the GC has queued or is retrying; undefined when no GC runs. */
  gcBacklog?: () => number | undefined;
  /**
   * The leader's allocator state: the pools it knows and their counts; undefined while this replica
   * does not serve (follower, rebuilding), which drops the per-pool series.
   */
  pools?: () => { names: readonly string[]; counts(name: string): PoolCounts | undefined; generation: object } | undefined;
}

export interface OperatorMetricsOptions {
  /** prom-client's process_* and nodejs_* metrics; default true. */
  defaultMetrics?: boolean;
  /** drain-rate time constant; default 300 s */
  drainTauSeconds?: number;
  /** clock for the drain rate, ms */
  now?: () => number;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly allocation: RpcMetrics;
  readonly release: RpcMetrics;
  readonly committer: CommitterMetrics;
  readonly gc: GcMetrics;
  private readonly m: Metrics;
  private sources: ScrapeSources = {};
  private readonly drain = new Map<string, DrainRateEstimator>();
  private drainGeneration: object | undefined;
  private committerSeen: CommitterTotals = { writes: 0, conflicts: 0, failedBatches: 0 };
  private readonly reconcileChildren = new Map<string, { success: Histogram.Internal<string>; error: Histogram.Internal<string> }>();
  private readonly now: () => number;

  constructor(private readonly opts: OperatorMetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.m = register(this.registry);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.allocation = rpcMetrics(this.m.allocationCounts, this.m.allocationFailureCounts, this.m.allocationDuration);
    this.release = rpcMetrics(this.m.releaseCounts, this.m.releaseFailureCounts, this.m.releaseDuration);
    const { blockWriteDuration, groupCommitBatchSize } = this.m;
    this.committer = {
      written(batchSize, seconds) {
        groupCommitBatchSize.observe(batchSize);
        blockWriteDuration.observe(seconds);
      },
    };
    this.gc = gcMetrics(this.m.gcCounts, this.m.gcFailureCounts);
  }

  /** Adds (or replaces) scrape-time sources. */
  watch(sources: ScrapeSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** For Controller/Manager: one call per reconcile. */
  readonly observeReconcile = (r: ReconcileReport): void => {
    let children = this.reconcileChildren.get(r.controller);
    if (children === undefined) {
      children = { success: this.m.reconcileDuration.labels(r.controller, 'success'), error: this.m.reconcileDuration.labels(r.controller, 'error') };
      this.reconcileChildren.set(r.controller, children);
    }
    (r.error === undefined ? children.success : children.error).observe(r.durationMs / 1000);
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition, after reading every scrape-time source. */
  async render(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  /** Reads the scrape-time sources into the gauges and counters (render() calls it). */
  refresh(): void {
    const s = this.sources;
    if (s.leader) this.m.leader.set(s.leader() ? 1 : 0);
    if (s.controllers) {
      this.m.workqueueDepth.reset();
      for (const c of s.controllers()) this.m.workqueueDepth.set({ controller: c.name }, c.depth);
    }
    if (s.committer) this.refreshCommitter(s.committer());
    if (s.gcBacklog) this.m.gcBacklog.set(s.gcBacklog() ?? 0);
    if (s.pools) this.refreshPools(s.pools());
  }

  private refreshCommitter(t: CommitterTotals): void {
    const seen = this.committerSeen;
    // A smaller total means a new committer: count from its zero.
    const delta = (now: number, before: number) => (now >= before ? now - before : now);
    this.m.blockWrites.inc(delta(t.writes, seen.writes));
    this.m.blockConflicts.inc(delta(t.conflicts, seen.conflicts));
    this.m.blockCommitFailures.inc(delta(t.failedBatches, seen.failedBatches));
    this.committerSeen = { writes: t.writes, conflicts: t.conflicts, failedBatches: t.failedBatches };
  }

  private refreshPools(view: ReturnType<NonNullable<ScrapeSources['pools']>>): void {
    const { ippoolCount, ippoolTotal, ippoolAllocated, ippoolAvailable, ippoolDrainRate, ippoolExhaustion } = this.m;
    for (const g of [ippoolTotal, ippoolAllocated, ippoolAvailable, ippoolDrainRate, ippoolExhaustion]) g.reset();
    if (view === undefined) {
      ippoolCount.reset();
      this.drain.clear();
      this.drainGeneration = undefined;
      return;
    }
    // A rebuilt state (new leadership term) starts every pool's rate afresh: its counts did not
    // move by allocation between the last term's sample and this one.
    if (view.generation !== this.drainGeneration) {
      this.drain.clear();
      this.drainGeneration = view.generation;
    }
    const at = this.now();
    const seen = new Set<string>();
    let loaded = 0;
    for (const pool of view.names) {
      const c = view.counts(pool);
      if (c === undefined) continue;
      loaded++;
      seen.add(pool);
      const total = Number(c.total);
      const free = Number(c.free);
      let est = this.drain.get(pool);
      if (est === undefined) this.drain.set(pool, (est = new DrainRateEstimator(this.opts.drainTauSeconds)));
      const d = est.sample(at, c.allocated, free);
      ippoolTotal.set({ pool }, total);
      ippoolAllocated.set({ pool }, c.allocated);
      ippoolAvailable.set({ pool }, free);
      ippoolDrainRate.set({ pool }, d.ratePerSecond);
      ippoolExhaustion.set({ pool }, d.secondsToExhaustion);
    }
    for (const pool of this.drain.keys()) if (!seen.has(pool)) this.drain.delete(pool);
    ippoolCount.set(loaded);
  }
}

type Metrics = {
  [K in MetricKey]: (typeof METRICS)[K]['type'] extends 'counter' ? Counter : (typeof METRICS)[K]['type'] extends 'gauge' ? Gauge : Histogram;
};

/** Every catalog entry registered in `registry`. */
function register(registry: Registry): Metrics {
  const out: Record<string, Counter | Gauge | Histogram> = {};
  for (const [key, spec] of Object.entries(METRICS) as [MetricKey, MetricSpec][]) {
    const base = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
    out[key] =
      spec.type === 'counter' ? new Counter(base) : spec.type === 'gauge' ? new Gauge(base) : new Histogram({ ...base, buckets: [...(spec.buckets ?? [])] });
  }
  return out as Metrics;
}

function rpcMetrics(requests: Counter, failures: Counter, duration: Histogram): RpcMetrics {
  const byReason = new Map(RPC_FAILURE_REASONS.map((r) => [r, zeroed(failures, r)]));
  const internal = byReason.get('internal')!;
  return {
    async measure(fn) {
      requests.inc();
      const started = performance.now();
      try {
        const result = await fn();
        duration.observe((performance.now() - started) / 1000);
        return result;
      } catch (e) {
        (e instanceof IpamError ? (byReason.get(e.reason) ?? internal) : internal).inc();
        throw e;
      }
    },
  };
}

function gcMetrics(released: Counter, failed: Counter): GcMetrics {
  const reasons = Object.values(GC_REASONS) as string[];
  const bound = (c: Counter) => {
    const m = new Map(reasons.map((r) => [r, zeroed(c, r)]));
    return (reason: string) => m.get(reason) ?? m.get(GC_REASONS.Other)!;
  };
  const rel = bound(released);
  const fail = bound(failed);
  return {
    released: (reason, count = 1) => rel(reason).inc(count),
    failed: (reason, count = 1) => fail(reason).inc(count),
  };
}

/**
 * The child for `label`, exported at 0 from the start: increase() and rate() then see the first
 * event, which they would miss on a series that appears with value 1.
 */
function zeroed(c: Counter, label: string): Counter.Internal {
  const child = c.labels(label);
  child.inc(0);
  return child;
}
