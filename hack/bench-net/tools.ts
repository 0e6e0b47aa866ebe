// sockperf and iperf3 (Debian packages, installed by hack/controlplane/install-deps.sh) run inside
// network namespaces: long-lived servers, one client run per measurement, output parsed here.
import { type ChildProcess, execFile, spawn } from 'node:child_process';

export interface Latency {
  /** sockperf's "avg-latency": half the round trip, µs (sockperf's default, as in seed 004). */
  avgUs: number;
  p50Us: number;
  p99Us: number;
  observations: number;
}

export interface Throughput {
  /** iperf3 end.sum_received.bits_per_second */
  bitsPerSecond: number;
  retransmits: number;
  /**
   * CPU the two iperf3 processes used, in cores (end.cpu_utilization_percent host_total +
   * remote_total, / 100). On veth the receive path mostly runs in the sender's context, so this is
   * close to the whole cost of the transfer; bits per CPU-second is much less sensitive than bits per
   * wall-second to being descheduled on a busy machine.
   */
  cores: number;
}

/** Servers started here, killed by `killServers` (by pid, each one ours). */
const servers: ChildProcess[] = [];

export function startServers(ns: string, ip: string): void {
  for (const argv of [
    ['sockperf', 'sr', '--tcp', '-i', ip, '-p', '11111'],
    ['iperf3', '-s', '-B', ip, '-p', '5201'],
  ]) {
    // `ip netns exec` execs the tool, so the child's pid is the server's own.
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' });
    child.on('error', () => undefined);
    servers.push(child);
  }
}

export function killServers(): void {
  for (const s of servers.splice(0)) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
}

/** Runs argv in `ns`; resolves with stdout, or stdout + stderr when `withStderr` (sockperf logs to both). */
function execIn(ns: string, argv: string[], timeoutMs: number, withStderr = false): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, maxBuffer: 32 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')} in ${ns}: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      else resolve(withStderr ? stdout + stderr : stdout);
    });
  });
}

/** Retries a client run a few times: a server started a moment ago may not listen yet. */
async function retry<T>(what: string, f: () => Promise<T>, attempts = 5): Promise<T> {
  let last: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    try {
      return await f();
    } catch (e) {
      last = e as Error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`${what}: ${last?.message}`);
}

export function parseSockperf(out: string): Latency {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (re: RegExp, name: string): number => {
    const m = re.exec(plain);
    if (!m) throw new Error(`sockperf output has no ${name}: ${plain.slice(-400)}`);
    return Number(m[1]);
  };
  return {
    avgUs: num(/avg-latency=([\d.]+)/, 'avg-latency'),
    p50Us: num(/percentile 50\.000 =\s*([\d.]+)/, 'percentile 50'),
    p99Us: num(/percentile 99\.000 =\s*([\d.]+)/, 'percentile 99'),
    observations: num(/Total (\d+) observations/, 'observation count'),
  };
}

/** `sockperf pp --tcp` from `ns` to ip:11111 for `secs` seconds. */
export function sockperfPingPong(ns: string, ip: string, secs: number): Promise<Latency> {
  return retry(`sockperf pp ${ns} -> ${ip}`, async () => parseSockperf(await execIn(ns, ['sockperf', 'pp', '--tcp', '-i', ip, '-p', '11111', '-t', String(secs)], (secs + 20) * 1000, true)));
}

/** `iperf3 -c ip -P streams -t secs -J` from `ns`. */
export function iperf3(ns: string, ip: string, streams: number, secs: number): Promise<Throughput> {
  return retry(`iperf3 -P ${streams} ${ns} -> ${ip}`, async () => {
    const out = await execIn(ns, ['iperf3', '-c', ip, '-p', '5201', '-P', String(streams), '-t', String(secs), '-J'], (secs + 20) * 1000);
    const j = JSON.parse(out) as {
      error?: string;
      end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number }; cpu_utilization_percent?: { host_total: number; remote_total: number } };
    };
    if (j.error || !j.end?.sum_received) throw new Error(`iperf3: ${j.error ?? 'no end.sum_received'}`);
    const cpu = j.end.cpu_utilization_percent;
    return { bitsPerSecond: j.end.sum_received.bits_per_second, retransmits: j.end.sum_sent?.retransmits ?? 0, cores: cpu ? (cpu.host_total + cpu.remote_total) / 100 : Number.NaN };
  });
}
