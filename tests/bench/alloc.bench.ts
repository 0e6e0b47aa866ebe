// npm run bench:alloc — Allocate throughput and latency against the real kube-apiserver, for 1, 50
// and 500 concurrent callers. One JSON line per concurrency on stdout:
//   {"concurrency":N,"allocPerSec":…,"p50Ms":…,"p99Ms":…,"writesPerAlloc":…}
// The callers invoke the allocator service in-process (AllocatorService.allocate, exactly what the
// gRPC handler calls), so the figures are the operator's side: pod lookup, selection, choice and the
// durable group-committed IPAMBlock write; gRPC/TLS and the shim are not included. Progress on stderr.
// `npm run bench:alloc` then runs ipam-plugin/bench/shim-start.ts, which adds the line
//   {"shimColdMs":…,"nodeEmptyMs":…,"ratio":…}
// (medians of the built shim's cold ADD against a TLS gRPC server, interleaved with `node -e 0`).
// Each round allocates for its own pods, never seen before: every Allocate is a new allocation that
// is written. (Re-using one set of pods measured mostly re-ADDs: a Release for a pod that still
// exists keeps its addresses for the sandbox's next ADD, so the next round got them back without a
// write.)
import { randomBytes } from 'node:crypto';
import { percentile } from '../nodesim/metrics.js';
import { createPods, createPool, setUp, startInstance, tearDown } from '../integration/allocator/harness.js';
import { KubeBlockIO } from '../../operator/src/service/block-client.js';
import { shareConnections } from '../../operator/src/framework/kube-connections.js';
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';

// Write latency as the committer sees it (progress only): wraps the storage calls, not the logic.
const writeMs: number[] = [];
for (const op of ['create', 'replace'] as const) {
  const orig = KubeBlockIO.prototype[op];
  KubeBlockIO.prototype[op] = async function (this: KubeBlockIO, block) {
    const t = performance.now();
    try {
      return await orig.call(this, block);
    } finally {
      writeMs.push(performance.now() - t);
    }
  };
}

// BENCH_ALLOC_ROUNDS="500:10000" (concurrency:allocations, comma-separated) replaces the default
// rounds, e.g. for a longer profiled round.
const ROUNDS = process.env.BENCH_ALLOC_ROUNDS
  ? process.env.BENCH_ALLOC_ROUNDS.split(',').map((r) => {
      const [c, a] = r.split(':').map(Number);
      if (!Number.isInteger(c) || !Number.isInteger(a) || c! < 1 || a! < c!) throw new Error(`BENCH_ALLOC_ROUNDS: ${JSON.stringify(r)} is not "<concurrency>:<allocations>" with allocations >= concurrency >= 1`);
      return { concurrency: c!, allocations: a! };
    })
  : [
      { concurrency: 1, allocations: 300 },
      { concurrency: 50, allocations: 1500 },
      { concurrency: 500, allocations: 2000 },
    ];
// An untimed first round that only warms V8's JIT up (reported on stderr, not stdout): the operator
// is a long-running process, and the first few thousand allocations of a fresh process run ~1.5–1.8×
// slower (bench:service: ~33 vs ~20 µs CPU per allocation). BENCH_ALLOC_WARMUP=0 skips it, to see
// a freshly started (or newly elected) operator.
const WARMUP = Number(process.env.BENCH_ALLOC_WARMUP ?? 3000);
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error(`BENCH_ALLOC_WARMUP: ${JSON.stringify(process.env.BENCH_ALLOC_WARMUP)} is not a whole number of allocations (0 skips the warm-up)`);
const RUNS = [...(WARMUP > 0 ? [{ concurrency: Math.min(100, WARMUP), allocations: WARMUP, warmup: true }] : []), ...ROUNDS.map((r) => ({ ...r, warmup: false }))];
// BENCH_ALLOC_SERVER_PIDS="<apiserver pid>,<etcd pid>": also print the CPU those processes spent in
// each round (from /proc/<pid>/stat, 10 ms ticks), to see whose CPU a round is bound by.
const serverPids = (process.env.BENCH_ALLOC_SERVER_PIDS ?? '').split(',').filter((p) => p !== '').map(Number);
const serverCpuMs = (): number[] =>
  serverPids.map((pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime (fields 14, 15 of stat)
  });
const progress = (msg: string) => process.stderr.write(`[bench:alloc] ${msg}\n`);
// BENCH_PROFILE_CONCURRENCY=500: a V8 CPU profile of that round only (the timed part), written to
// results/alloc-<N>.cpuprofile (open in Chrome DevTools); the figures of a profiled round are slower.
const profileRound = Number(process.env.BENCH_PROFILE_CONCURRENCY ?? 0);

const env = await setUp('bench-alloc');
// As operator/src/main.ts does: keep-alive connections (client-node otherwise handshakes per request).
// BENCH_ALLOC_NO_SHARED_CONNECTIONS=1 measures without it.
if (process.env.BENCH_ALLOC_NO_SHARED_CONNECTIONS !== '1') shareConnections(env.kc);
const pool = `bench-alloc-${randomBytes(3).toString('hex')}`;
try {
  const podCount = RUNS.reduce((n, r) => n + r.allocations, 0);
  if (podCount > 60000) throw new Error(`BENCH_ALLOC_ROUNDS: ${podCount} allocations do not fit the bench pool (at most 60000)`);
  await createPool(pool, '10.253.0.0/16', `10.253.0.0-10.253.${Math.max(15, Math.ceil(podCount / 256) + 1)}.255`);
  progress(`creating ${podCount} pods in ${env.ns}`);
  const allPods = [...(await createPods(env, 'b', podCount, pool))];
  const inst = await startInstance(env, 'bench');
  const svc = inst.service;
  const cid = (name: string) => `cid-${name}`;

  let firstPod = 0;
  for (const { concurrency, allocations, warmup } of RUNS) {
    const pods = allPods.slice(firstPod, (firstPod += allocations));
    progress(`concurrency ${concurrency}: ${allocations} allocations`);
    const before = inst.committer.stats();
    const latencies: number[] = [];
    writeMs.length = 0;
    let next = 0;
    const profiler = concurrency === profileRound ? new Session() : undefined;
    if (profiler !== undefined) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const serversBefore = serverCpuMs();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < allocations; i = next++) {
          const [name, uid] = pods[i]!;
          const t = performance.now();
          await svc.allocate({ containerId: cid(name), netns: '', ifname: 'eth0', pod: { namespace: env.ns, name, uid }, nodeName: env.node, defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: '', networkName: '' });
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (profiler !== undefined) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = `results/alloc-${concurrency}.cpuprofile`;
      writeFileSync(file, JSON.stringify(profile));
      progress(`concurrency ${concurrency}: CPU profile in ${file}`);
      profiler.disconnect();
    }
    const after = inst.committer.stats();
    const cpu = process.cpuUsage(cpuBefore);
    progress(`concurrency ${concurrency}: ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU in ${Math.round(seconds * 1000)} ms (${Math.round((cpu.user + cpu.system) / allocations)} µs per allocation)`);
    latencies.sort((a, b) => a - b);
    writeMs.sort((a, b) => a - b);
    if (serverPids.length > 0) {
      const spent = serverCpuMs().map((ms, i) => `pid ${serverPids[i]} ${ms - serversBefore[i]!} ms`);
      progress(`concurrency ${concurrency}: server CPU in the round: ${spent.join(', ')}`);
    }
    progress(`concurrency ${concurrency}: ${writeMs.length} block writes, p50 ${percentile(writeMs, 50)} ms, p99 ${percentile(writeMs, 99)} ms`);
    const line = JSON.stringify({
      concurrency,
      allocPerSec: Math.round(allocations / seconds),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      writesPerAlloc: Math.round(((after.writes - before.writes) / (after.mutations - before.mutations)) * 1000) / 1000,
    });
    if (warmup) progress(`warm-up round (not reported): ${line}`);
    else console.log(line);
  }
  await inst.stop();
} finally {
  progress('cleaning up');
  await tearDown(env, [pool]);
}
