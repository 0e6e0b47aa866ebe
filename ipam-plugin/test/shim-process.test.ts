// The real shim process: the built executable (dist/spiderpool-ts-ipam, the Node SEA that is
// installed in /opt/cni/bin) run as a child with CNI env and stdin, against a real gRPC server over
// TLS on 127.0.0.1 in this process.
import { status } from '@grpc/grpc-js';
import { spawn, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorReason } from '../../operator/src/rpc/errors.js';
import { rpcError } from '../../operator/src/rpc/grpc-service.js';
import { cniEnv, closedPort, netConf, POD } from './support/cni.js';
import { startOperatorStub, type OperatorStub } from './support/operator-stub.js';
import { makePki, type Pki } from './support/pki.js';

const SHIM = fileURLToPath(new URL('../dist/spiderpool-ts-ipam', import.meta.url));

let pki: Pki;
let stub: OperatorStub;

beforeAll(async () => {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: 'ignore' });
  pki = makePki('node-1');
  stub = await startOperatorStub(pki);
}, 120_000);
afterAll(async () => {
  await stub.close();
  rmSync(pki.dir, { recursive: true, force: true });
});
beforeEach(() => {
  stub.received.length = 0;
  stub.handle({});
});

interface ShimRun {
  exitCode: number | null;
  stdout: string;
  stderrLines: Record<string, unknown>[];
  json: Record<string, unknown> | undefined;
}

function runShim(env: Record<string, string | undefined>, stdin: string, command: string[] = [SHIM]): Promise<ShimRun> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      // Logs are JSON lines on stderr; anything else there would break this parse.
      const stderrLines = stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ exitCode, stdout, stderrLines, json: stdout ? JSON.parse(stdout) : undefined });
    });
    child.stdin.end(stdin);
  });
}

const ALLOCATED = {
  ips: [
    { version: 4, address: '172.18.40.10/24', gateway: '172.18.40.1', pool: 'default-v4', vlan: 0 },
    { version: 6, address: 'fd00:40::a/64', gateway: 'fd00:40::1', pool: 'default-v6', vlan: 0 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }],
  dns: { nameservers: ['172.18.0.53'], domain: 'cluster.local', search: [], options: [] },
};

describe('the built shim executable', () => {
  it('ADD prints the result on stdout and nothing else; logs are JSON lines on stderr', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    const out = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki, { cniVersion: '0.4.0' }));
    expect(out.exitCode).toBe(0);
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
    expect(out.json).toEqual({
      cniVersion: '0.4.0',
      ips: [
        { version: '4', address: '172.18.40.10/24', gateway: '172.18.40.1' },
        { version: '6', address: 'fd00:40::a/64', gateway: 'fd00:40::1' },
      ],
      routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }],
      dns: { nameservers: ['172.18.0.53'], domain: 'cluster.local' },
    });
    expect(out.stderrLines.at(-1)).toMatchObject({ level: 'info', msg: 'allocated', command: 'ADD' });
    expect(stub.received[0]).toMatchObject({ method: 'allocate', clientCN: 'node-1', request: { pod: POD } });
  });

  it('DEL with prevResult, then DEL again answered NOT_FOUND: both succeed', async () => {
    stub.handle({ release: (_c, cb) => cb(null, { released: ['172.18.40.10'] }) });
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '172.18.40.10/24', interface: 0 }] };
    const first = await runShim(cniEnv('DEL'), netConf(stub.endpoint, pki, { prevResult }));
    expect(first).toMatchObject({ exitCode: 0, stdout: '' });
    expect(stub.received[0]?.request).toMatchObject({ ips: ['172.18.40.10/24'] });

    stub.handle({ release: (_c, cb) => cb(rpcError(status.NOT_FOUND, 'no allocation', { reason: ErrorReason.AllocationNotFound, metadata: {} })) });
    const again = await runShim(cniEnv('DEL'), netConf(stub.endpoint, pki, { prevResult }));
    expect(again).toMatchObject({ exitCode: 0, stdout: '' });
    expect(again.stderrLines.at(-1)).toMatchObject({ msg: 'already released', reason: 'allocation-not-found' });
  });

  it('CHECK compares prevResult with what the operator holds', async () => {
    stub.handle({ check: (_c, cb) => cb(null, { ips: ALLOCATED.ips }) });
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: 'fd00:40::a/64' }, { address: '172.18.40.10/24' }] };
    expect(await runShim(cniEnv('CHECK'), netConf(stub.endpoint, pki, { prevResult }))).toMatchObject({ exitCode: 0, stdout: '' });
    const wrong = await runShim(cniEnv('CHECK'), netConf(stub.endpoint, pki, { prevResult: { ips: [{ address: '172.18.40.99/24' }] } }));
    expect(wrong.exitCode).toBe(1);
    expect(wrong.json).toMatchObject({ code: 999 });
  });

  it('operator unreachable → exit 1, code 11', async () => {
    const port = await closedPort();
    const out = await runShim(cniEnv('ADD'), netConf(`127.0.0.1:${port}`, pki));
    expect(out.exitCode).toBe(1);
    expect(out.json).toMatchObject({ cniVersion: '1.0.0', code: 11 });
  });

  it('a follower answering not-leader → code 11 naming the leader', async () => {
    stub.handle({ allocate: (_c, cb) => cb(rpcError(status.UNAVAILABLE, 'this replica is a follower', { reason: ErrorReason.NotLeader, metadata: { leader: '10.0.3.4:9443' } })) });
    const out = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki));
    expect(out.json).toMatchObject({ code: 11 });
    expect(out.json?.msg).toContain('(leader: 10.0.3.4:9443)');
  });

  it('a malformed config or CNI_ARGS names the field', async () => {
    const conf = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki, {}, { default_ipv4_ippool: ['a', 3] }));
    expect(conf.json).toMatchObject({ code: 7, msg: 'ipam.default_ipv4_ippool[1]: must be a non-empty pool name, got 3' });
    const args = await runShim(cniEnv('ADD', { CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAME' }), netConf(stub.endpoint, pki));
    expect(args.json).toMatchObject({ code: 4, msg: 'CNI_ARGS: item 1 "K8S_POD_NAME" is not KEY=VALUE' });
    expect(stub.received).toHaveLength(0);
  });

  it('the ESM bundle (node dist/spiderpool-ts-ipam.mjs) answers the same', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    const bundle = fileURLToPath(new URL('../dist/spiderpool-ts-ipam.mjs', import.meta.url));
    const viaNode = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki), [process.execPath, bundle]);
    const viaSea = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki));
    expect(viaNode.exitCode).toBe(0);
    expect(viaNode.json).toEqual(viaSea.json);
  });

  it('VERSION', async () => {
    const out = await runShim({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}');
    expect(out.json).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
});

describe('TLS', () => {
  let other: Pki;
  beforeAll(() => {
    other = makePki('node-1');
  });
  afterAll(() => rmSync(other.dir, { recursive: true, force: true }));

  it('verifies the server name (SNI) against the certificate', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    expect((await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki, {}, { tls_server_name: 'operator.test' }))).exitCode).toBe(0);
    const wrong = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki, {}, { tls_server_name: 'evil.test' }));
    expect(wrong.json).toMatchObject({ code: 11 });
    expect(wrong.json?.msg).toMatch(/Hostname\/IP does not match certificate's altnames/);
    expect(stub.received).toHaveLength(1);
  });

  it('refuses a server whose certificate another CA signed', async () => {
    const impostor = await startOperatorStub(other, { allocate: (_c, cb) => cb(null, ALLOCATED) });
    try {
      const out = await runShim(cniEnv('ADD'), netConf(impostor.endpoint, pki));
      expect(out.json).toMatchObject({ code: 11 });
      expect(out.json?.msg).toMatch(/certificate/);
      expect(impostor.received).toHaveLength(0);
    } finally {
      await impostor.close();
    }
  });

  it('is refused by the server without a client certificate of its CA', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    const out = await runShim(cniEnv('ADD'), netConf(stub.endpoint, pki, {}, { tls_cert_file: other.clientCertFile, tls_key_file: other.clientKeyFile }));
    expect(out.exitCode).toBe(1);
    expect(out.json).toMatchObject({ code: 11 });
    expect(out.json?.msg).toMatch(/closed the connection before answering|ECONNRESET|certificate/);
    expect(stub.received).toHaveLength(0);
  });
});
