// Every metric the operator exports, in one table: the registry is built from it, docs/metrics.md is
// generated from it (npm run metrics:docs; a unit test fails when the doc drifts), and the alert
// rules and the Grafana dashboard are checked against it.
//
// Names: where Spiderpool documents a metric for the same thing (docs/reference/metrics.md of
// spidernet-io/spiderpool), we export its name, so dashboards and alerts written for Spiderpool keep
// working; those keep Spiderpool's `_counts` suffix for counters. Everything Spiderpool has no
// metric for is ours and starts with `spiderpool_ts_`, with Prometheus' conventions (`_total`,
// base units). Labels are bounded: pool, reason, controller, result — never a pod, node or IP.

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
  /** Spiderpool documents a metric of this name (same meaning). */
  readonly spiderpool?: true;
  /** Only the leader exports it (it reads the leader's in-memory allocator state). */
  readonly leaderOnly?: true;
}

/** RPC latency: from 1 ms (an in-memory pick plus one group-committed write) to 10 s (retries, a slow apiserver). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** One IPAMBlock write: a few ms on a healthy apiserver. */
export const WRITE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
/** Mutations carried by one IPAMBlock write (a block holds 256 addresses). */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;
/** A reconcile: from sub-millisecond cache reads to API writes with retries. */
export const RECONCILE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] as const;

export const METRICS = {
  allocationCounts: {
    name: 'spiderpool_ipam_allocation_counts',
    type: 'counter',
    help: 'Allocate requests (CNI ADD) the leader received.',
    labels: [],
    spiderpool: true,
  },
  allocationFailureCounts: {
    name: 'spiderpool_ipam_allocation_failure_counts',
    type: 'counter',
    help: 'Allocate requests that failed, by reason (pool-exhausted, no-candidate-pool, pod-not-found, not-ready, internal, ...).',
    labels: ['reason'],
    spiderpool: true,
  },
  allocationDuration: {
    name: 'spiderpool_ipam_allocation_duration_seconds',
    type: 'histogram',
    help: 'Duration of successful Allocate requests, from receipt until the IPAMBlock write carrying them succeeded.',
    labels: [],
    buckets: LATENCY_BUCKETS,
    spiderpool: true,
  },
  releaseCounts: {
    name: 'spiderpool_ipam_release_counts',
    type: 'counter',
    help: 'Release requests (CNI DEL) the leader received.',
    labels: [],
    spiderpool: true,
  },
  releaseFailureCounts: {
    name: 'spiderpool_ipam_release_failure_counts',
    type: 'counter',
    help: 'Release requests that failed, by reason (allocation-not-found is the normal answer to a repeated DEL).',
    labels: ['reason'],
    spiderpool: true,
  },
  releaseDuration: {
    name: 'spiderpool_ipam_release_duration_seconds',
    type: 'histogram',
    help: 'Duration of successful Release requests, including the IPAMBlock write that freed the addresses.',
    labels: [],
    buckets: LATENCY_BUCKETS,
    spiderpool: true,
  },
  blockWrites: {
    name: 'spiderpool_ts_ipamblock_writes_total',
    type: 'counter',
    help: 'IPAMBlock writes sent (create, replace, delete), including those that lost a compare-and-swap race.',
    labels: [],
  },
  blockConflicts: {
    name: 'spiderpool_ts_ipamblock_conflicts_total',
    type: 'counter',
    help: 'IPAMBlock writes refused because the block changed since it was read (resourceVersion compare-and-swap); each is re-read and retried.',
    labels: [],
  },
  blockCommitFailures: {
    name: 'spiderpool_ts_ipamblock_commit_failures_total',
    type: 'counter',
    help: 'Group-commit batches that failed (conflict retries exhausted or an API error); every request in the batch failed.',
    labels: [],
  },
  blockWriteDuration: {
    name: 'spiderpool_ts_ipamblock_write_duration_seconds',
    type: 'histogram',
    help: 'Duration of successful IPAMBlock writes.',
    labels: [],
    buckets: WRITE_BUCKETS,
  },
  groupCommitBatchSize: {
    name: 'spiderpool_ts_group_commit_batch_size',
    type: 'histogram',
    help: 'Allocations and releases carried by one successful IPAMBlock write (group commit).',
    labels: [],
    buckets: BATCH_BUCKETS,
  },
  gcCounts: {
    name: 'spiderpool_ip_gc_counts',
    type: 'counter',
    help: 'Addresses released by garbage collection, by reason (see the label values below).',
    labels: ['reason'],
    spiderpool: true,
  },
  gcFailureCounts: {
    name: 'spiderpool_ip_gc_failure_counts',
    type: 'counter',
    help: 'Garbage-collection releases that failed, by reason.',
    labels: ['reason'],
    spiderpool: true,
  },
  gcBacklog: {
    name: 'spiderpool_ts_gc_backlog_pods',
    type: 'gauge',
    help: "Pods with addresses the IP garbage collector has still to look at or is retrying after a failed release (its work queue, waiting and backing off); 0 where the GC does not run.",
    labels: [],
  },
  workqueueDepth: {
    name: 'spiderpool_ts_workqueue_depth',
    type: 'gauge',
    help: 'Keys waiting for a worker, per controller (0 while the controller is stopped, e.g. on a follower).',
    labels: ['controller'],
  },
  reconcileDuration: {
    name: 'spiderpool_ts_reconcile_duration_seconds',
    type: 'histogram',
    help: 'Duration of reconciles per controller; result is success or error.',
    labels: ['controller', 'result'],
    buckets: RECONCILE_BUCKETS,
  },
  leader: {
    name: 'spiderpool_ts_leader',
    type: 'gauge',
    help: '1 while this replica holds the leader Lease (it allocates), else 0.',
    labels: [],
  },
  ippoolCount: {
    name: 'spiderpool_total_ippool_counts',
    type: 'gauge',
    help: 'SpiderIPPools the leader allocates from.',
    labels: [],
    spiderpool: true,
    leaderOnly: true,
  },
  ippoolTotal: {
    name: 'spiderpool_ippool_total_ip_counts',
    type: 'gauge',
    help: 'Addresses the pool can hand out (its IPs minus excludeIPs and reserved IPs), per pool.',
    labels: ['pool'],
    leaderOnly: true,
  },
  ippoolAllocated: {
    name: 'spiderpool_ippool_allocated_ip_counts',
    type: 'gauge',
    help: 'Addresses of the pool recorded as allocated in IPAMBlocks, per pool.',
    labels: ['pool'],
    leaderOnly: true,
  },
  ippoolAvailable: {
    name: 'spiderpool_ippool_available_ip_counts',
    type: 'gauge',
    help: 'Free addresses of the pool (total - allocated), per pool.',
    labels: ['pool'],
    leaderOnly: true,
  },
  ippoolDrainRate: {
    name: 'spiderpool_ts_ippool_drain_rate_ips_per_second',
    type: 'gauge',
    help: 'Recent net allocation rate of the pool (allocations minus releases per second, exponentially weighted, 5 min time constant); negative while it refills.',
    labels: ['pool'],
    leaderOnly: true,
  },
  ippoolExhaustion: {
    name: 'spiderpool_ts_ippool_exhaustion_seconds',
    type: 'gauge',
    help: 'Estimated seconds until the pool has no free address at the recent drain rate: free / rate; 0 when exhausted, +Inf when not draining.',
    labels: ['pool'],
    leaderOnly: true,
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Default Node.js process metrics (prom-client's collectDefaultMetrics) also on /metrics. */
export const DEFAULT_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;

/** Every metric name the operator registers, with the series suffixes histograms add. */
export function exportedSeriesNames(): Set<string> {
  const out = new Set<string>();
  for (const m of Object.values(METRICS) as MetricSpec[]) {
    out.add(m.name);
    if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(m.name + s);
  }
  return out;
}
