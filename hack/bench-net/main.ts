// `npm run bench:net` (issue 9): sockperf ping-pong latency and iperf3 throughput (1, 2, 4 streams)
// over macvlan pods addressed by our IPAM vs a plain veth pair (node to node, the baseline) vs a
// veth + bridge path, all in one run. Rounds interleave the paths (and rotate their order) so the noise
// of a shared machine hits each path alike; each figure is the median over the rounds.
// stdout: the Markdown tables, the targets, one JSON line per path; stderr: progress.
// Env: BENCH_NET_ROUNDS (default 3), BENCH_NET_LAT_SECS (sockperf seconds per run, default 2),
// BENCH_NET_TPUT_SECS (iperf3 seconds per run, default 1: many short samples beat few long ones when
// other work shares the cores).
// Needs root (namespaces) and the local control plane (`npm run cluster:up`); cleans up everything it
// created, also on failure or Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpamPods } from '../../tests/integration/dataplane/ipam-pods.js';
import { Netns } from '../../tests/integration/dataplane/netns.js';
import { ensureCluster } from '../../tests/support/cluster.js';
import { jsonLines, markdown, rows, type Samples, STREAMS, targets } from './report.js';
import { iperf3, killServers, sockperfPingPong, startServers } from './tools.js';
import { type BenchPath, buildBenchPaths } from './topology.js';

const ROUNDS = Number(process.env.BENCH_NET_ROUNDS ?? 3);
const LAT_SECS = Number(process.env.BENCH_NET_LAT_SECS ?? 2);
const TPUT_SECS = Number(process.env.BENCH_NET_TPUT_SECS ?? 1);
const RUN = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), `spts-bench-net-${RUN}-`));
const net = new Netns(`spbn-${RUN}`);
let ipam: IpamPods | undefined;
const progress = (m: string) => process.stderr.write(`[bench:net] ${m}\n`);

let cleaning: Promise<void> | undefined;
let interrupted = false;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killServers();
    const problems = [...((await ipam?.stop()) ?? []), ...(await net.teardown())];
    if (problems.length) progress(`cleanup problems: ${problems.join('; ')}`);
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = true;
    progress(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

const rotate = <T>(xs: readonly T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]!);

async function main(): Promise<void> {
  const started = Date.now();
  await ensureCluster({ timeoutMs: 45 * 60_000 });
  progress(`run ${RUN}: building the namespaces, the operator and 4 macvlan pods`);
  const paths: BenchPath[] = await buildBenchPaths(net, RUN, work, progress, (i) => (ipam = i));
  // One server pair per (namespace, address): two paths may end at the same pod.
  for (const key of new Set(paths.map((p) => `${p.serverNs} ${p.serverIp}`))) {
    const [ns, ip] = key.split(' ') as [string, string];
    startServers(ns, ip);
  }

  const samples = new Map<string, Samples>(paths.map((p) => [p.id, { latency: [], throughput: new Map(STREAMS.map((n) => [n, []])) }]));
  const kinds = ['latency', ...STREAMS] as const;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, kind] of kinds.entries()) {
      for (const p of rotate(paths, round + k)) {
        const s = samples.get(p.id)!;
        if (kind === 'latency') {
          const l = await sockperfPingPong(p.clientNs, p.serverIp, LAT_SECS);
          s.latency.push(l);
          progress(`round ${round + 1}/${ROUNDS} ${p.id} sockperf avg ${l.avgUs} p50 ${l.p50Us} p99 ${l.p99Us} µs`);
        } else {
          const t = await iperf3(p.clientNs, p.serverIp, kind, TPUT_SECS);
          s.throughput.get(kind)!.push(t);
          progress(`round ${round + 1}/${ROUNDS} ${p.id} iperf3 -P ${kind} ${(t.bitsPerSecond / 1e9).toFixed(2)} Gbit/s, ${t.cores.toFixed(2)} cores`);
        }
      }
    }
  }
  const rs = rows(paths, samples);
  const verdicts = paths
    .filter((p) => p.id.startsWith('macvlan-'))
    .map((p) => `Targets, ${p.label} vs node to node:\n${targets(rs, p.id).map((l) => `- ${l}`).join('\n')}`);
  process.stdout.write(`${markdown(rs, { rounds: ROUNDS, latSecs: LAT_SECS, tputSecs: TPUT_SECS })}\n\n${verdicts.join('\n\n')}\n\n${jsonLines(rs).join('\n')}\n`);
  progress(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

try {
  await main();
} catch (e) {
  // An interrupt kills the servers under a running client: that error is the interrupt's, not news.
  if (!interrupted) progress(`failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
