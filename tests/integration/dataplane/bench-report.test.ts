// bench:net's arithmetic and parsing, without namespaces or a cluster: sockperf's output (captured
// from sockperf 3.7 on this machine, colour codes included), medians, ratios to the baseline, and
// the targets verdict (wall-clock and per CPU-second).
import { jsonLines, markdown, median, rows, type Samples, targets } from '../../../hack/bench-net/report.js';
import { parseSockperf, type Throughput } from '../../../hack/bench-net/tools.js';
import type { BenchPath } from '../../../hack/bench-net/topology.js';

const SOCKPERF_OUT = `sockperf: [Total Run] RunTime=2.142 sec; Warm up time=400 msec; SentMessages=37284; ReceivedMessages=37283
sockperf: ========= Printing statistics for Server No: 0
sockperf: [Valid Duration] RunTime=1.409 sec; SentMessages=25580; ReceivedMessages=25580
sockperf: \x1b[2;35m====> avg-latency=27.527 (std-dev=400.781)\x1b[0m
sockperf: Summary: Latency is 27.527 usec
sockperf: \x1b[2;35mTotal 25580 observations\x1b[0m; each percentile contains 255.80 observations
sockperf: ---> <MAX> observation = 43853.310
sockperf: ---> percentile 99.999 = 43853.310
sockperf: ---> percentile 99.000 =  327.209
sockperf: ---> percentile 90.000 =   18.139
sockperf: ---> percentile 50.000 =    8.484
sockperf: ---> <MIN> observation =    7.034
`;

const path = (id: string): BenchPath => ({ id, label: id, clientNs: 'c', serverNs: 's', serverIp: '198.18.93.2' });
const tput = (gbps: number, cores: number): Throughput => ({ bitsPerSecond: gbps * 1e9, retransmits: 0, cores });
function samples(p50s: number[], gbps: number, cores: number): Samples {
  return {
    latency: p50s.map((p50) => ({ avgUs: p50 * 2, p50Us: p50, p99Us: p50 * 3, observations: 1000 })),
    throughput: new Map([1, 2, 4].map((n) => [n, [tput(gbps, cores), tput(gbps, cores)]])),
  };
}

test('parseSockperf reads avg, p50, p99 and the observation count through the colour codes', () => {
  expect(parseSockperf(SOCKPERF_OUT)).toEqual({ avgUs: 27.527, p50Us: 8.484, p99Us: 327.209, observations: 25580 });
  expect(() => parseSockperf('sockperf: ERROR: connection refused')).toThrow(/no avg-latency/);
});

test('median of odd and even counts', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
});

test('ratios to node to node, and the targets judged both in Gbit/s and per CPU-second', () => {
  const paths = [path('node-to-node'), path('macvlan-cross-node')];
  const s = new Map([
    ['node-to-node', samples([10, 10, 12], 10, 0.5)],
    // 1.05x the latency (met); half the throughput (missed) with half the CPU (same cost: met).
    ['macvlan-cross-node', samples([10.5, 10.5, 30], 5, 0.25)],
  ]);
  const rs = rows(paths, s);
  expect(rs[1]!.p50Us).toBe(10.5);
  expect(rs[1]!.gbps.get(4)).toBeCloseTo(5);
  expect(rs[1]!.gbitPerCore.get(1)).toBeCloseTo(20);
  const verdict = targets(rs);
  expect(verdict[0]).toMatch(/latency p50 1\.05× .*: met/);
  expect(verdict[1]).toMatch(/throughput 1 stream\(s\) 0\.50× .*MISSED; per CPU-second 1\.00× \(met/);
  const md = markdown(rs, { rounds: 3, latSecs: 2, tputSecs: 1 });
  expect(md).toContain('| macvlan-cross-node | 21.0 usec | 10.5 usec | 31.5 usec | 1.05× | 1.05× |');
  expect(md).toContain('| macvlan-cross-node | 5.00 Gbits/sec | 5.00 Gbits/sec | 5.00 Gbits/sec | 0.50 / 0.50 / 0.50 |');
  const json = jsonLines(rs).map((l) => JSON.parse(l) as { path: string; throughputRatio: Record<string, number>; costRatio: Record<string, number> });
  expect(json[1]).toMatchObject({ path: 'macvlan-cross-node', throughputRatio: { 1: 0.5, 2: 0.5, 4: 0.5 }, costRatio: { 1: 1, 2: 1, 4: 1 } });
});
