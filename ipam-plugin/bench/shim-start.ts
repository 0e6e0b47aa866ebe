// Cold start of the CNI shim: a fresh shim process doing one ADD against a real gRPC server (TLS,
// 127.0.0.1, in this process), next to a fresh `node -e 0`, interleaved so both see the same machine
// state. A third exec per round: the same shim doing its ADD through spiderpool-ts-agent (ADR 0013),
// an agent process started here against the same server. Prints one JSON line (medians of wall time;
// CPU per exec = user+sys of the reaped child, mean, from this process's cutime/cstime):
//   {"shimColdMs","nodeEmptyMs","ratio","shimAgentMs","agentRatio","shimCpuMs","shimAgentCpuMs","nodeEmptyCpuMs","agentCpuPerCallMs",
//    "serverCpuPerShimMs","serverCpuPerAgentShimMs"}  (the last two: this process's CPU per exec above a `node -e 0` exec's,
//   i.e. what the in-process gRPC server spends on one shim's connection and call)
// progress on stderr.
//
//   npm run bench:shim                          # the built executable, dist/spiderpool-ts-ipam
//   npm run bench:shim -- --runs 40 -- CMD ARGS  # another shim command line (ADR 0004 variants)
//   npm run bench:shim -- --no-agent             # without the agent line
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOperatorStub } from '../test/support/operator-stub.js';
import { makePki } from '../test/support/pki.js';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const opts = dashes >= 0 ? argv.slice(0, dashes) : argv;
const runsAt = opts.indexOf('--runs');
const runs = runsAt >= 0 ? Number(opts[runsAt + 1]) : 25;
const shimCmd = dashes >= 0 ? argv.slice(dashes + 1) : [fileURLToPath(new URL('../dist/spiderpool-ts-ipam', import.meta.url))];
const [shimFile, ...shimArgs] = shimCmd;
if (!shimFile || !(runs >= 20)) throw new Error('usage: shim-start.ts [--runs N>=20] [--no-agent] [-- shim command...]');
const withAgent = !opts.includes('--no-agent');
const agentBundle = fileURLToPath(new URL('../dist/spiderpool-ts-agent.mjs', import.meta.url));

const pki = makePki('node-1');
const stub = await startOperatorStub(pki, {
  allocate: (_call, cb) =>
    cb(null, {
      ips: [{ version: 4, address: '172.18.40.10/24', gateway: '172.18.40.1', pool: 'bench-v4', vlan: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }],
      dns: undefined,
    }),
});

const stdin = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'bench',
  type: 'macvlan',
  ipam: {
    type: 'spiderpool-ts-ipam',
    operator_endpoint: stub.endpoint,
    tls_ca_file: pki.caFile,
    tls_cert_file: pki.clientCertFile,
    tls_key_file: pki.clientKeyFile,
    log_file_path: `${pki.dir}/ipam.log`,
    node_name: 'node-1',
  },
});

// This process's reaped children's CPU (cutime + cstime, fields 16 and 17 of /proc/self/stat), ms.
// Clock ticks (10 ms) per read: per-exec values are quantised, their mean over the runs is not.
const TICK_MS = 10;
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

interface Timed {
  ms: number;
  cpuMs: number;
  /** This process's CPU during the exec: spawning and reaping it, plus the in-process server's work. */
  parentCpuMs: number;
}

const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function timeOnce(file: string, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuMs();
    const self0 = selfCpuMs();
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // A shim that fails fast would look great: every run must succeed.
      if (code !== 0) reject(new Error(`${file} exited ${code}: ${out}`));
      else resolve({ ms, cpuMs: childrenCpuMs() - cpu0, parentCpuMs: selfCpuMs() - self0 });
    });
    child.stdin.end(input);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

const shimEnv = {
  PATH: process.env.PATH,
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'bench0123',
  CNI_NETNS: '/var/run/netns/bench',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench;K8S_POD_UID=6f1c1e6e-0000-4000-8000-000000000001',
};
// The agent: the bundle under this Node, on a socket in the PKI's temp dir, same server, same node cert.
const socketPath = join(pki.dir, 'agent.sock');
const agentStdin = JSON.stringify({ ...JSON.parse(stdin), ipam: { type: 'spiderpool-ts-ipam', agent_socket: socketPath, log_file_path: `${pki.dir}/ipam.log`, node_name: 'node-1' } });
const agent = withAgent
  ? spawn(process.execPath, [agentBundle, '--socket', socketPath, '--operator-endpoint', stub.endpoint, '--tls-ca-file', pki.caFile, '--tls-cert-file', pki.clientCertFile, '--tls-key-file', pki.clientKeyFile, '--tls-server-name', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] })
  : undefined;
if (agent) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      readFileSync(socketPath); // ENXIO once the socket exists
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') break;
    }
    if (agent.exitCode !== null || Date.now() > deadline) throw new Error(`the agent (${agentBundle}) did not start; is the plugin built?`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nodeMs: number[] = [];
const shimMs: number[] = [];
const agentMs: number[] = [];
const cpu = { node: 0, shim: 0, agent: 0 };
const parentCpu = { node: 0, shim: 0, agent: 0 };
const warmup = 3;
let agentCpu0 = 0;
try {
  for (let i = 0; i < runs + warmup; i++) {
    if (i === warmup && agent) agentCpu0 = processCpuMs(agent.pid!);
    const n = await timeOnce(process.execPath, ['-e', '0'], { PATH: process.env.PATH }, '');
    const s = await timeOnce(shimFile, shimArgs, shimEnv, stdin);
    const a = agent ? await timeOnce(shimFile, shimArgs, shimEnv, agentStdin) : undefined;
    if (i >= warmup) {
      nodeMs.push(n.ms);
      shimMs.push(s.ms);
      cpu.node += n.cpuMs;
      cpu.shim += s.cpuMs;
      parentCpu.node += n.parentCpuMs;
      parentCpu.shim += s.parentCpuMs;
      if (a) {
        agentMs.push(a.ms);
        cpu.agent += a.cpuMs;
        parentCpu.agent += a.parentCpuMs;
      }
    }
    process.stderr.write(`run ${i + 1}/${runs + warmup}${i < warmup ? ' (warm-up)' : ''}: node -e 0 ${n.ms.toFixed(1)} ms, shim ADD ${s.ms.toFixed(1)} ms${a ? `, shim ADD via agent ${a.ms.toFixed(1)} ms` : ''}\n`);
  }
} finally {
  const agentCpuMs = agent && agent.exitCode === null ? processCpuMs(agent.pid!) - agentCpu0 : undefined;
  agent?.kill('SIGTERM');
  await stub.close();
  rmSync(pki.dir, { recursive: true, force: true });
  const shimColdMs = median(shimMs);
  const nodeEmptyMs = median(nodeMs);
  if (shimMs.length === runs) {
    const out: Record<string, number> = { shimColdMs: round(shimColdMs), nodeEmptyMs: round(nodeEmptyMs), ratio: Math.round((shimColdMs / nodeEmptyMs) * 100) / 100 };
    if (agentMs.length === runs) {
      const shimAgentMs = median(agentMs);
      out.shimAgentMs = round(shimAgentMs);
      out.agentRatio = Math.round((shimAgentMs / nodeEmptyMs) * 100) / 100;
    }
    out.shimCpuMs = round(cpu.shim / runs);
    out.nodeEmptyCpuMs = round(cpu.node / runs);
    if (agentMs.length === runs) {
      out.shimAgentCpuMs = round(cpu.agent / runs);
      if (agentCpuMs !== undefined) out.agentCpuPerCallMs = round(agentCpuMs / runs);
    }
    // Server-side CPU per exec (TLS handshake + call in the in-process server), above an empty exec's spawn cost.
    out.serverCpuPerShimMs = round((parentCpu.shim - parentCpu.node) / runs);
    if (agentMs.length === runs) out.serverCpuPerAgentShimMs = round((parentCpu.agent - parentCpu.node) / runs);
    console.log(JSON.stringify(out));
  }
}
