// The agent path end to end with real processes: the built shim executable (the SEA installed in
// /opt/cni/bin) → a real spiderpool-ts-agent process on a unix socket → a real @grpc/grpc-js server
// over mTLS. Covers ADD/DEL, the agent stopped and restarted, the server restarted (connection
// dropped), a not-leader answer, and that the shim loads no TLS/HTTP/2/crypto module on this path.
import { status } from '@grpc/grpc-js';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorReason } from '../../../operator/src/rpc/errors.js';
import { rpcError } from '../../../operator/src/rpc/grpc-service.js';
import { cniEnv, netConf, POD } from '../../../ipam-plugin/test/support/cni.js';
import { makePki, type Pki } from '../../../ipam-plugin/test/support/pki.js';
import { repoRoot } from '../../support/cluster.js';
import { AgentProcess } from './agent-process.js';
import { RestartableStub } from './restartable-stub.js';

let pki: Pki;
let dir: string;
let shim: string;
let stub: RestartableStub;
let agent: AgentProcess;
let socketPath: string;

const ALLOCATED = {
  ips: [{ version: 4, address: '172.18.40.10/24', gateway: '172.18.40.1', pool: 'default-v4', vlan: 0 }],
  routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }],
  dns: undefined,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spts-agent-it-'));
  // Build, then copy out at once: another test's build empties ipam-plugin/dist.
  execFileSync(process.execPath, [join(repoRoot, 'ipam-plugin', 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
  shim = join(dir, 'spiderpool-ts-ipam');
  copyFileSync(join(repoRoot, 'ipam-plugin', 'dist', 'spiderpool-ts-ipam'), shim);
  chmodSync(shim, 0o755);
  const bundle = join(dir, 'spiderpool-ts-agent.mjs');
  copyFileSync(join(repoRoot, 'ipam-plugin', 'dist', 'spiderpool-ts-agent.mjs'), bundle);
  pki = makePki('node-1');
  stub = new RestartableStub(pki);
  await stub.start();
  socketPath = join(dir, 'run', 'agent.sock');
  agent = new AgentProcess({
    bundle,
    socketPath,
    endpoint: stub.endpoint,
    caFile: pki.caFile,
    certFile: pki.clientCertFile,
    keyFile: pki.clientKeyFile,
    serverName: '127.0.0.1',
    timeoutMs: 5000,
    logLevel: 'debug',
    logFile: join(dir, 'agent.log'),
  });
  await agent.start();
}, 240_000);

afterAll(async () => {
  await agent?.stop();
  agent?.close();
  stub?.stop();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  stub.calls.length = 0;
  stub.handlers = {};
});

interface ShimRun {
  exitCode: number | null;
  stdout: string;
  json: Record<string, unknown> | undefined;
  stderr: string;
}

function runShim(command: string, extraEnv: Record<string, string> = {}): Promise<ShimRun> {
  // Through the agent only: no operator endpoint and no TLS files in the shim's config.
  const stdin = netConf('unused:1', pki, {}, { agent_socket: socketPath, operator_endpoint: undefined, tls_ca_file: undefined, tls_cert_file: undefined, tls_key_file: undefined, log_file_path: join(dir, 'shim.log') });
  return new Promise((resolve, reject) => {
    const child = spawn(shim, [], { env: { ...cniEnv(command), ...extraEnv } as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr, json: stdout ? (JSON.parse(stdout) as Record<string, unknown>) : undefined }));
    child.stdin.end(stdin);
  });
}

const allocateOk = () => {
  stub.handlers = {
    allocate: (_c, cb) => cb(null, ALLOCATED),
    release: (_c, cb) => cb(null, { released: ['172.18.40.10/24'] }),
  };
};

describe('the shim through spiderpool-ts-agent', () => {
  it('answers ADD and DEL; the operator sees the node certificate and the shim\'s request', async () => {
    allocateOk();
    const add = await runShim('ADD');
    expect(add.exitCode).toBe(0);
    expect(add.json).toEqual({ cniVersion: '1.0.0', ips: [{ address: '172.18.40.10/24', gateway: '172.18.40.1' }], routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }] });
    const del = await runShim('DEL');
    expect(del.exitCode).toBe(0);
    expect(del.stdout).toBe('');
    expect(stub.calls.map((c) => [c.method, c.clientCN])).toEqual([
      ['allocate', 'node-1'],
      ['release', 'node-1'],
    ]);
    expect(stub.calls[0]!.request).toMatchObject({ containerId: 'c0ffee01', ifname: 'eth0', nodeName: 'node-1', pod: POD, defaultIpv4Ippool: ['default-v4'] });
    // One persistent connection serves both calls.
    expect(stub.calls[0]!.peer).toBe(stub.calls[1]!.peer);
  });

  it('the shim loads neither node:tls, node:http2 nor node:crypto on this path', async () => {
    allocateOk();
    const preload = join(dir, 'module-list.cjs');
    const listFile = join(dir, 'modules.txt');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listFile)}, process.moduleLoadList.join('\\n')));\n`);
    const add = await runShim('ADD', { NODE_OPTIONS: `--require ${preload}` });
    expect(add.exitCode).toBe(0);
    const loaded = readFileSync(listFile, 'utf8').split('\n');
    expect(loaded).toContain('NativeModule net');
    expect(loaded.filter((m) => /^NativeModule (tls|_tls_common|_tls_wrap|http2|internal\/http2\/.*|crypto|internal\/crypto\/.*)$/.test(m))).toEqual([]);
  });

  it('a shim error from the operator keeps its CNI mapping (pool exhausted → 999 with the reason)', async () => {
    stub.handlers = { allocate: (_c, cb) => cb(rpcError(status.RESOURCE_EXHAUSTED, 'pool default-v4 has no free address', { reason: ErrorReason.PoolExhausted, metadata: { pool: 'default-v4' } })) };
    const add = await runShim('ADD');
    expect(add.exitCode).toBe(1);
    expect(add.json).toMatchObject({ code: 999, msg: expect.stringContaining('pool default-v4 has no free address [pool-exhausted: pool=default-v4]') });
  });

  it('agent stopped → CNI 11 naming the socket; restarted → works again', async () => {
    allocateOk();
    expect(await agent.stop()).toBe(0);
    expect(existsSync(socketPath)).toBe(false); // graceful stop removes the socket
    const down = await runShim('ADD');
    expect(down.exitCode).toBe(1);
    expect(down.json).toMatchObject({ code: 11, msg: `agent socket ${socketPath}: ENOENT; is spiderpool-ts-agent running on this node?` });
    await agent.start();
    const up = await runShim('ADD');
    expect(up.exitCode).toBe(0);
    expect(up.json).toMatchObject({ ips: [{ address: '172.18.40.10/24' }] });
  }, 60_000);

  it('a stale socket left by a killed agent is replaced on start', async () => {
    allocateOk();
    process.kill(agent.pid!, 'SIGKILL');
    await agent.stop(); // reaps it
    expect(existsSync(socketPath)).toBe(true);
    const refused = await runShim('ADD');
    expect(refused.json).toMatchObject({ code: 11, msg: expect.stringContaining('ECONNREFUSED; is spiderpool-ts-agent running on this node?') });
    await agent.start();
    expect((await runShim('ADD')).exitCode).toBe(0);
  }, 60_000);

  it('the operator restarted (connection dropped) → the agent reconnects and the next ADD works', async () => {
    allocateOk();
    expect((await runShim('ADD')).exitCode).toBe(0);
    const before = stub.calls.at(-1)!.peer;
    stub.stop();
    await stub.start(); // same port
    allocateOk();
    const add = await runShim('ADD');
    expect(add.exitCode).toBe(0);
    expect(stub.calls.at(-1)!.peer).not.toBe(before);
  }, 60_000);

  it('a not-leader answer makes the agent reconnect; the retry on the new connection answers', async () => {
    allocateOk();
    expect((await runShim('ADD')).exitCode).toBe(0);
    let first = true;
    stub.handlers = {
      allocate: (_c, cb) => {
        if (first) {
          first = false;
          return cb(rpcError(status.UNAVAILABLE, 'this replica is not the leader; the leader is 10.0.0.7:9443', { reason: ErrorReason.NotLeader, metadata: { leader: '10.0.0.7:9443' } }));
        }
        cb(null, ALLOCATED);
      },
    };
    stub.calls.length = 0;
    const add = await runShim('ADD');
    expect(add.exitCode).toBe(0);
    expect(stub.calls).toHaveLength(2);
    expect(stub.calls[1]!.peer).not.toBe(stub.calls[0]!.peer);
    expect(agent.lines.some((l) => l.includes('dropping the operator connection') && l.includes('not-leader answer'))).toBe(true);
  });

  it('not-leader on every connection → CNI 11 naming the leader, as in direct mode', async () => {
    stub.handlers = { allocate: (_c, cb) => cb(rpcError(status.UNAVAILABLE, 'this replica is not the leader', { reason: ErrorReason.NotLeader, metadata: { leader: '10.0.0.7:9443' } })) };
    const add = await runShim('ADD');
    expect(add.exitCode).toBe(1);
    expect(add.json).toMatchObject({ code: 11, msg: expect.stringMatching(/is not the leader \(leader: 10\.0\.0\.7:9443\); try again later$/) });
  });

  it('SIGTERM lets an in-flight call finish before the agent exits', async () => {
    let release: (() => void) | undefined;
    stub.handlers = { allocate: (_c, cb) => void (release = () => cb(null, ALLOCATED)) };
    const pending = runShim('ADD');
    const { waitFor } = await import('../helpers/wait.js');
    await waitFor('the ADD to reach the server', async () => ({ ok: release !== undefined, detail: `${stub.calls.length} calls` }), 20_000, 20);
    const stopped = agent.stop();
    await new Promise((r) => setTimeout(r, 200));
    release!();
    expect((await pending).exitCode).toBe(0);
    expect(await stopped).toBe(0);
    await agent.start();
  }, 60_000);
});
