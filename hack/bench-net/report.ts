// Samples -> medians per path, ratios to the node-to-node baseline, a Markdown table shaped like
// seed 004's (one latency table, one iperf3 table with 1/2/4 streams) and one JSON line per row.
import type { Latency, Throughput } from './tools.js';
import { BASELINE, type BenchPath } from './topology.js';

export const STREAMS = [1, 2, 4] as const;

export interface Samples {
  latency: Latency[];
  throughput: Map<number, Throughput[]>;
}

export interface Row {
  path: BenchPath;
  avgUs: number;
  p50Us: number;
  p99Us: number;
  gbps: Map<number, number>;
  /** Gbit per CPU-second of the two iperf3 processes: the path's cost, robust to time slicing. */
  gbitPerCore: Map<number, number>;
  /** CPU cores the two iperf3 processes got (median): how much of the machine the run had. */
  cores: Map<number, number>;
  retransmits: Map<number, number>;
}

export const LATENCY_TARGET = 1.1;
export const THROUGHPUT_TARGET = 0.95;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function rows(paths: readonly BenchPath[], samples: Map<string, Samples>): Row[] {
  return paths.map((path) => {
    const s = samples.get(path.id)!;
    const gbps = new Map<number, number>();
    const retransmits = new Map<number, number>();
    const gbitPerCore = new Map<number, number>();
    const cores = new Map<number, number>();
    for (const n of STREAMS) {
      const t = s.throughput.get(n) ?? [];
      gbps.set(n, median(t.map((x) => x.bitsPerSecond)) / 1e9);
      gbitPerCore.set(n, median(t.map((x) => x.bitsPerSecond / 1e9 / x.cores)));
      cores.set(n, median(t.map((x) => x.cores)));
      retransmits.set(n, median(t.map((x) => x.retransmits)));
    }
    return { path, avgUs: median(s.latency.map((l) => l.avgUs)), p50Us: median(s.latency.map((l) => l.p50Us)), p99Us: median(s.latency.map((l) => l.p99Us)), gbps, gbitPerCore, cores, retransmits };
  });
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

export function markdown(rs: readonly Row[], opts: { rounds: number; latSecs: number; tputSecs: number }): string {
  const base = rs.find((r) => r.path.id === BASELINE)!;
  const out: string[] = [];
  out.push(`### sockperf ping-pong latency (\`sockperf pp --tcp -i <server> -p 11111 -t ${opts.latSecs}\`, median of ${opts.rounds} runs; half round trip, µs)`, '');
  out.push('| Test object | latency avg | p50 | p99 | p50 / node to node | avg / node to node |', '|---|---|---|---|---|---|');
  for (const r of rs) out.push(`| ${r.path.label} | ${f1(r.avgUs)} usec | ${f1(r.p50Us)} usec | ${f1(r.p99Us)} usec | ${f2(r.p50Us / base.p50Us)}× | ${f2(r.avgUs / base.avgUs)}× |`);
  out.push('', `### iperf3 throughput (\`iperf3 -c <server> -P n -t ${opts.tputSecs}\`, median of ${opts.rounds} runs)`, '');
  out.push('| Test object | Number of threads 1 | Number of threads 2 | Number of threads 4 | / node to node (1 / 2 / 4) |', '|---|---|---|---|---|');
  for (const r of rs) {
    const cells = STREAMS.map((n) => `${f2(r.gbps.get(n)!)} Gbits/sec`);
    const ratios = STREAMS.map((n) => f2(r.gbps.get(n)! / base.gbps.get(n)!)).join(' / ');
    out.push(`| ${r.path.label} | ${cells.join(' | ')} | ${ratios} |`);
  }
  out.push('', `### iperf3 cost: Gbit per CPU-second of client + server (same runs; iperf3 \`cpu_utilization_percent\` host + remote)`, '');
  out.push('| Test object | 1 stream | 2 streams | 4 streams | / node to node (1 / 2 / 4) |', '|---|---|---|---|---|');
  for (const r of rs) {
    const cells = STREAMS.map((n) => `${f2(r.gbitPerCore.get(n)!)} Gbit/CPU-s (${f2(r.cores.get(n)!)} cores)`);
    const ratios = STREAMS.map((n) => f2(r.gbitPerCore.get(n)! / base.gbitPerCore.get(n)!)).join(' / ');
    out.push(`| ${r.path.label} | ${cells.join(' | ')} | ${ratios} |`);
  }
  return out.join('\n');
}

/** The issue's targets for a macvlan path (default: pods across nodes): p50 latency ≤ 1.1× and throughput ≥ 0.95× the baseline. */
export function targets(rs: readonly Row[], id = 'macvlan-cross-node'): string[] {
  const base = rs.find((r) => r.path.id === BASELINE)!;
  const r = rs.find((x) => x.path.id === id)!;
  const lines: string[] = [];
  const lat = r.p50Us / base.p50Us;
  lines.push(`latency p50 ${f2(lat)}× node to node (target ≤ ${LATENCY_TARGET}×): ${lat <= LATENCY_TARGET ? 'met' : 'MISSED'}`);
  for (const n of STREAMS) {
    const t = r.gbps.get(n)! / base.gbps.get(n)!;
    const c = r.gbitPerCore.get(n)! / base.gbitPerCore.get(n)!;
    lines.push(
      `throughput ${n} stream(s) ${f2(t)}× node to node (target ≥ ${THROUGHPUT_TARGET}×): ${t >= THROUGHPUT_TARGET ? 'met' : 'MISSED'}; ` +
        `per CPU-second ${f2(c)}× (${c >= THROUGHPUT_TARGET ? 'met' : 'MISSED'}; the iperf3 pair got ${f2(r.cores.get(n)!)} vs ${f2(base.cores.get(n)!)} cores)`,
    );
  }
  return lines;
}

export function jsonLines(rs: readonly Row[]): string[] {
  const base = rs.find((r) => r.path.id === BASELINE)!;
  return rs.map((r) =>
    JSON.stringify({
      bench: 'net',
      path: r.path.id,
      latencyUs: { avg: +f2(r.avgUs), p50: +f2(r.p50Us), p99: +f2(r.p99Us) },
      latencyRatio: { avg: +(r.avgUs / base.avgUs).toFixed(3), p50: +(r.p50Us / base.p50Us).toFixed(3) },
      gbps: Object.fromEntries(STREAMS.map((n) => [n, +r.gbps.get(n)!.toFixed(3)])),
      throughputRatio: Object.fromEntries(STREAMS.map((n) => [n, +(r.gbps.get(n)! / base.gbps.get(n)!).toFixed(3)])),
      gbitPerCpuSecond: Object.fromEntries(STREAMS.map((n) => [n, +r.gbitPerCore.get(n)!.toFixed(3)])),
      iperfCores: Object.fromEntries(STREAMS.map((n) => [n, +r.cores.get(n)!.toFixed(3)])),
      costRatio: Object.fromEntries(STREAMS.map((n) => [n, +(r.gbitPerCore.get(n)! / base.gbitPerCore.get(n)!).toFixed(3)])),
      retransmits: Object.fromEntries(STREAMS.map((n) => [n, r.retransmits.get(n)!])),
    }),
  );
}
