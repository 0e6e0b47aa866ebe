// A real Prometheus scrapes the real operator (operator/src/main.ts as a process, leading on its own
// Lease) on the local control plane while a rollout allocates addresses over mTLS gRPC for real Pod
// objects; the test then asks Prometheus, over its HTTP API, what happened and checks it against what
// the test did and what the IPAMBlocks record:
//   - allocation counts, the duration histogram (histogram_quantile over its buckets, _count, _sum
//     against the client's own timings), failures by reason (one pool-exhausted), release counts;
//   - the pool gauges mid-rollout and at the end: total, allocated = the blocks' records, free =
//     total − allocated, a finite time to exhaustion while draining and 0 once exhausted;
//   - the group-commit batches carried at least the mutations made; the leader gauge; reconciles;
//   - our alert rules (config/prometheus/rules.yaml) load and evaluate against the real series:
//     the exhausted pool's alerts go pending.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError, makeGenericClientConstructor } from '@grpc/grpc-js';
import { jest } from '@jest/globals';
import { LATENCY_BUCKETS } from '../../../operator/src/metrics/catalog.js';
import { decodeStatusDetails } from '../../../operator/src/rpc/errors.js';
import type { AllocateRequest, ReleaseRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { ipamServiceDefinition } from '../../../operator/src/rpc/grpc-service.js';
import { kubeconfigPath, kubectl, repoRoot } from '../../support/cluster.js';
import { createPods, createPool, type Env, recordedAddresses, setUp, tearDown } from '../allocator/harness.js';
import { freePort, operatorEnv, writePki } from '../helpers/ipam-stack.js';
import { OperatorProcess } from '../helpers/operator-process.js';
import { waitFor } from '../helpers/wait.js';
import { Prometheus } from './prometheus.js';

jest.setTimeout(10 * 60_000);

const POOL_SIZE = 30;
const PODS = POOL_SIZE + 6;
const JOB = `spiderpool-ts-metrics-${randomBytes(3).toString('hex')}`;
const octet = 1 + (randomBytes(1)[0]! % 250);
const pool = `metrics-${randomBytes(3).toString('hex')}`;

let env: Env;
let dir: string;
let operator: OperatorProcess;
let prometheus: Prometheus;
let pods: Map<string, string>;
let call: (method: 'allocate' | 'release', req: object) => Promise<unknown>;
let closeClient = () => {};

/** Client-side round trip of every successful Allocate, seconds. */
const clientLatencies: number[] = [];

beforeAll(async () => {
  env = await setUp('metrics');
  dir = mkdtempSync(join(tmpdir(), 'spts-metrics-'));
  await createPool(pool, `10.251.${octet}.0/24`, `10.251.${octet}.10-10.251.${octet}.${10 + POOL_SIZE - 1}`);
  pods = await createPods(env, 'm', PODS, pool);

  const certDir = join(dir, 'pki');
  await writePki(certDir, { caName: 'metrics-test-ca', dnsName: 'localhost', nodes: [env.node] });
  const [grpcPort, healthPort] = [await freePort(), await freePort()];
  operator = new OperatorProcess(operatorEnv({ kubeconfig: kubeconfigPath, podName: 'metrics-op', namespace: env.ns, certDir, grpcPort, healthPort }), join(dir, 'operator.log'));
  await operator.start();

  prometheus = new Prometheus({ dir: join(dir, 'prometheus'), job: JOB, targets: [`127.0.0.1:${healthPort}`], ruleFiles: [join(repoRoot, 'config', 'prometheus', 'rules.yaml')] });
  await prometheus.start();

  const nodeDir = join(certDir, env.node);
  const IPAMClient = makeGenericClientConstructor(ipamServiceDefinition, 'IPAM');
  const client = new IPAMClient(`127.0.0.1:${grpcPort}`, credentials.createSsl(readFileSync(join(nodeDir, 'ca.crt')), readFileSync(join(nodeDir, 'node.key')), readFileSync(join(nodeDir, 'node.crt'))));
  const methods = client as unknown as Record<string, (r: object, m: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => void>;
  call = (method, req) => new Promise((resolve, reject) => methods[method]!.call(client, req, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))));
  closeClient = () => client.close();
}, 10 * 60_000);

const gone = ['m-0', 'm-1', 'm-2', 'm-3', 'm-4'];

afterAll(async () => {
  closeClient();
  // The Terminating pods would hold the namespace for their grace period: no kubelet confirms them.
  if (env) await kubectl(['delete', 'pod', '-n', env.ns, ...gone, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => '');
  await prometheus?.stop();
  await operator?.stop();
  if (env) await tearDown(env, [pool]);
  if (dir && !process.env.SPIDERPOOL_TS_KEEP_METRICS_DIR) rmSync(dir, { recursive: true, force: true });
});

const podRef = (name: string) => ({ namespace: env.ns, name, uid: pods.get(name)! });

async function allocate(name: string): Promise<void> {
  const req: AllocateRequest = { containerId: `cid-${name}`, netns: '', ifname: 'eth0', pod: podRef(name), nodeName: env.node, defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: 'metrics-test', networkName: '' };
  const started = performance.now();
  await call('allocate', req);
  clientLatencies.push((performance.now() - started) / 1000);
}

let delCalls = 0;

/**
 * The CNI DEL of a Terminating pod. Until the operator's pod cache has seen the deletion the pod looks
 * alive and a DEL keeps its address for the pod's next sandbox (answer: nothing released); the runtime
 * would DEL again when it tears the sandbox down, and so do we (bounded).
 */
async function release(name: string): Promise<void> {
  const req: ReleaseRequest = { containerId: `cid-${name}`, ifname: 'eth0', pod: podRef(name), nodeName: env.node, ips: [], requestId: 'metrics-test', networkName: '' };
  await waitFor(
    `the DEL of ${name} to release its address`,
    async () => {
      delCalls++;
      const res = (await call('release', req)) as { released: string[] };
      return { ok: res.released.length === 1, detail: JSON.stringify(res) };
    },
    30_000,
    200,
  );
}

/** Allocates pods [from, to) in waves of `wave` concurrent calls with a pause between (several scrapes see the rollout). */
async function rollout(from: number, to: number, wave = 5, pauseMs = 1200): Promise<void> {
  for (let i = from; i < to; i += wave) {
    await Promise.all(Array.from({ length: Math.min(wave, to - i) }, (_, k) => allocate(`m-${i + k}`)));
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

const sel = (extra = '') => `{job="${JOB}"${extra}}`;
const poolSel = sel(`,pool="${pool}"`);

/** Waits (bounded) until Prometheus's latest sample of `expr` is `want`. */
async function until(expr: string, want: (v: number | undefined) => boolean, what: string, timeoutMs = 60_000): Promise<number | undefined> {
  return waitFor(
    `${what} (${expr}) in Prometheus`,
    async () => {
      const v = await prometheus.scalar(expr);
      return { ok: want(v), value: v, detail: String(v) };
    },
    timeoutMs,
    500,
  );
}

describe('metrics scraped by a real Prometheus during a rollout', () => {
  it('reports the allocations, the histogram, the failures and the pool gauges as they happened', async () => {
    // The scrape target is up and the operator leads before anything happens.
    await until(`up${sel()}`, (v) => v === 1, 'the operator scraped');
    await until(`spiderpool_ts_leader${sel()}`, (v) => v === 1, 'the operator leading');
    await until(`spiderpool_ippool_total_ip_counts${poolSel}`, (v) => v === POOL_SIZE, 'the pool loaded');

    // First part of the rollout: 20 of the 30 addresses.
    await rollout(0, 20);
    await until(`spiderpool_ipam_allocation_counts${sel()}`, (v) => v === 20, '20 allocations counted');
    await until(`spiderpool_ippool_allocated_ip_counts${poolSel}`, (v) => v === 20, '20 addresses allocated');
    expect(await prometheus.scalar(`spiderpool_ippool_available_ip_counts${poolSel}`)).toBe(POOL_SIZE - 20);
    // The pool is draining: a finite, positive time to exhaustion.
    const eta = await until(`spiderpool_ts_ippool_exhaustion_seconds${poolSel}`, (v) => v !== undefined && Number.isFinite(v) && v > 0, 'a finite time to exhaustion while draining', 20_000);
    expect(await prometheus.scalar(`spiderpool_ts_ippool_drain_rate_ips_per_second${poolSel}`)).toBeGreaterThan(0);

    // Five pods go: deleted with a long grace period, so they stay Terminating (no kubelet confirms)
    // and every garbage collector on the cluster leaves them alone; their CNI DELs free the addresses.
    // The rest of the rollout fills the pool, and one more pod finds it full.
    await kubectl(['delete', 'pod', '-n', env.ns, ...gone, '--grace-period=600', '--wait=false']);
    await Promise.all(gone.map(release));
    await rollout(20, 35);
    const exhausted = await call('allocate', { containerId: 'cid-m-35', netns: '', ifname: 'eth0', pod: podRef('m-35'), nodeName: env.node, defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: 'metrics-test', networkName: '' }).then(
      () => undefined,
      (e: ServiceError) => ({ code: e.code, reason: decodeStatusDetails(e.metadata.get('grpc-status-details-bin')[0] as Buffer)?.reason }),
    );
    expect(exhausted).toEqual({ code: 8, reason: 'pool-exhausted' });
    const allocations = PODS; // 35 succeeded + 1 refused
    const succeeded = PODS - 1;

    // Counters, as Prometheus has them.
    await until(`spiderpool_ipam_allocation_counts${sel()}`, (v) => v === allocations, `${allocations} allocations counted`);
    await until(`spiderpool_ipam_release_counts${sel()}`, (v) => v === delCalls, `${delCalls} release requests counted`);
    expect(await prometheus.scalar(`spiderpool_ipam_allocation_duration_seconds_count${sel()}`)).toBe(succeeded);
    expect(await prometheus.scalar(`spiderpool_ipam_allocation_duration_seconds_bucket${sel(',le="+Inf"')}`)).toBe(succeeded);
    expect(await prometheus.scalar(`spiderpool_ipam_allocation_failure_counts${sel(',reason="pool-exhausted"')}`)).toBe(1);
    expect(await prometheus.scalar(`sum(spiderpool_ipam_allocation_failure_counts${sel(',reason!="pool-exhausted"')})`)).toBe(0);
    // Every DEL succeeded (the five that freed an address and any that came before the cache saw
    // the deletion); none failed.
    expect(await prometheus.scalar(`spiderpool_ipam_release_counts${sel()}`)).toBe(delCalls);
    expect(await prometheus.scalar(`spiderpool_ipam_release_duration_seconds_count${sel()}`)).toBe(delCalls);
    expect(await prometheus.scalar(`sum(spiderpool_ipam_release_failure_counts${sel()})`)).toBe(0);
    // The GC's counters and backlog are exported (this operator's GC may be releasing other tests'
    // leftovers on the shared cluster, so no exact count; the GC metrics' unit tests have those).
    expect((await prometheus.query(`spiderpool_ip_gc_counts${sel()}`)).length).toBeGreaterThanOrEqual(6);
    expect(await prometheus.scalar(`spiderpool_ts_gc_backlog_pods${sel()}`)).toBeGreaterThanOrEqual(0);

    // The histogram: quantiles over its buckets lie within what the client measured around the
    // server's time (the client's round trip includes the server's), and the server's total time is
    // at most the client's.
    const q = async (p: number) => prometheus.scalar(`histogram_quantile(${p}, sum by (le) (spiderpool_ipam_allocation_duration_seconds_bucket${sel()}))`);
    const [p50, p99] = [await q(0.5), await q(0.99)];
    const sorted = [...clientLatencies].sort((a, b) => a - b);
    const clientMax = sorted.at(-1)!;
    const bucketAbove = (s: number) => LATENCY_BUCKETS.find((b) => b >= s) ?? Infinity;
    expect(p50).toBeGreaterThan(0);
    expect(p50!).toBeLessThanOrEqual(p99!);
    expect(p99!).toBeLessThanOrEqual(bucketAbove(clientMax));
    const serverSum = (await prometheus.scalar(`spiderpool_ipam_allocation_duration_seconds_sum${sel()}`))!;
    expect(serverSum).toBeGreaterThan(0);
    expect(serverSum).toBeLessThanOrEqual(sorted.reduce((a, b) => a + b, 0));

    // The pool gauges against the IPAMBlocks (the source of truth): full, free = total − allocated.
    const recorded = await recordedAddresses(env, pool);
    expect(recorded.size).toBe(POOL_SIZE);
    await until(`spiderpool_ippool_allocated_ip_counts${poolSel}`, (v) => v === recorded.size, 'allocated = the blocks’ records');
    expect(await prometheus.scalar(`spiderpool_ippool_total_ip_counts${poolSel}`)).toBe(POOL_SIZE);
    expect(await prometheus.scalar(`spiderpool_ippool_available_ip_counts${poolSel}`)).toBe(0);
    expect(await prometheus.scalar(`spiderpool_ippool_total_ip_counts${poolSel} - spiderpool_ippool_allocated_ip_counts${poolSel} - spiderpool_ippool_available_ip_counts${poolSel}`)).toBe(0);
    await until(`spiderpool_ts_ippool_exhaustion_seconds${poolSel}`, (v) => v === 0, 'time to exhaustion 0 once exhausted', 20_000);

    // Group commit: our 35 allocations and 5 releases were carried by IPAMBlock writes, several per
    // write at times (more mutations when this operator's GC frees other tests' leftovers meanwhile).
    const batchSum = (await prometheus.scalar(`spiderpool_ts_group_commit_batch_size_sum${sel()}`))!;
    const batches = (await prometheus.scalar(`spiderpool_ts_group_commit_batch_size_count${sel()}`))!;
    expect(batchSum).toBeGreaterThanOrEqual(succeeded + 5);
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThanOrEqual(batchSum);
    expect(await prometheus.scalar(`spiderpool_ts_ipamblock_writes_total${sel()}`)).toBeGreaterThanOrEqual(batches);
    // Controllers reconciled something (the pool status controller at least) and report their queues.
    expect(await prometheus.scalar(`sum(spiderpool_ts_reconcile_duration_seconds_count${sel()})`)).toBeGreaterThan(0);
    expect((await prometheus.query(`spiderpool_ts_workqueue_depth${sel()}`)).length).toBeGreaterThan(0);
    // Default process metrics are scraped too.
    expect(await prometheus.scalar(`process_resident_memory_bytes${sel()}`)).toBeGreaterThan(0);

    // Our alert rules load into a real Prometheus, evaluate without errors, and the full pool's
    // alerts are pending (their `for:` is minutes).
    const rules = await prometheus.get<{ data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } }>('/api/v1/rules');
    const evaluated = rules.data.groups.flatMap((g) => g.rules);
    expect(evaluated.length).toBeGreaterThanOrEqual(7);
    expect(evaluated.filter((r) => r.health !== 'ok' && r.health !== 'unknown').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    for (const alert of ['SpiderpoolIPPoolExhausted', 'SpiderpoolIPPoolNearlyExhausted']) {
      await until(`count(ALERTS{alertname="${alert}",pool="${pool}",alertstate=~"pending|firing"})`, (v) => v === 1, `${alert} pending for ${pool}`, 30_000);
    }
    expect(await prometheus.scalar(`count(ALERTS{alertname="SpiderpoolNoLeader"})`)).toBeUndefined();

    process.stdout.write(
      `metrics e2e: ${succeeded} allocations (+1 pool-exhausted), 5 releases (${delCalls} DELs); allocate latency p50/p99 from Prometheus's histogram ${ms(p50)}/${ms(p99)}, ` +
        `client round trip p50/max ${ms(sorted[Math.floor(sorted.length / 2)])}/${ms(clientMax)}; ${batches} IPAMBlock writes carried ${batchSum} mutations; ` +
        `time to exhaustion mid-rollout ${Math.round(eta!)} s with ${POOL_SIZE - 20} free\n`,
    );
  });
});

const ms = (s: number | undefined) => (s === undefined ? '?' : `${(s * 1000).toFixed(1)} ms`);
