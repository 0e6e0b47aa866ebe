// Cold start of the CNI shim: a fresh shim process doing one ADD against a real gRPC server (TLS,
// 127.0.0.1, in this process), next to a fresh `node -e 0`, interleaved so both see the same machine
// state. Prints one JSON line {"shimColdMs","nodeEmptyMs","ratio"} (medians); progress on stderr.
//
//   npm run bench:shim                          # the built executable, dist/spiderpool-ts-ipam
//   npm run bench:shim -- --runs 40 -- CMD ARGS  # another shim command line (ADR 0004 variants)
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
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
if (!shimFile || !(runs >= 20)) throw new Error('usage: shim-start.ts [--runs N>=20] [-- shim command...]');

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

function timeOnce(file: string, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // A shim that fails fast would look great: every run must succeed.
      if (code !== 0) reject(new Error(`${file} exited ${code}: ${out}`));
      else resolve(ms);
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
const nodeMs: number[] = [];
const shimMs: number[] = [];
const warmup = 3;
try {
  for (let i = 0; i < runs + warmup; i++) {
    const n = await timeOnce(process.execPath, ['-e', '0'], { PATH: process.env.PATH }, '');
    const s = await timeOnce(shimFile, shimArgs, shimEnv, stdin);
    if (i >= warmup) {
      nodeMs.push(n);
      shimMs.push(s);
    }
    process.stderr.write(`run ${i + 1}/${runs + warmup}${i < warmup ? ' (warm-up)' : ''}: node -e 0 ${n.toFixed(1)} ms, shim ADD ${s.toFixed(1)} ms\n`);
  }
} finally {
  await stub.close();
  rmSync(pki.dir, { recursive: true, force: true });
}
const shimColdMs = median(shimMs);
const nodeEmptyMs = median(nodeMs);
console.log(JSON.stringify({ shimColdMs: round(shimColdMs), nodeEmptyMs: round(nodeEmptyMs), ratio: Math.round((shimColdMs / nodeEmptyMs) * 100) / 100 }));
