// The shim's logic in-process (run()), against a real gRPC server over TLS on 127.0.0.1.
import { status } from '@grpc/grpc-js';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorReason } from '../../operator/src/rpc/errors.js';
import { rpcError } from '../../operator/src/rpc/grpc-service.js';
import { Logger } from '../src/log.js';
import { run } from '../src/plugin.js';
import { cniEnv, closedPort, netConf, POD } from './support/cni.js';
import { startOperatorStub, type OperatorStub } from './support/operator-stub.js';
import { makePki, type Pki } from './support/pki.js';

let pki: Pki;
let stub: OperatorStub;

beforeAll(async () => {
  pki = makePki('node-1');
  stub = await startOperatorStub(pki);
});
afterAll(async () => {
  await stub.close();
  rmSync(pki.dir, { recursive: true, force: true });
});
beforeEach(() => {
  stub.received.length = 0;
  stub.handle({});
});

const ALLOCATED = {
  ips: [{ version: 4, address: '172.18.40.10/24', gateway: '172.18.40.1', pool: 'default-v4', vlan: 0 }],
  routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }],
  dns: undefined,
};

async function shim(command: string, opts: { top?: Record<string, unknown>; ipam?: Record<string, unknown>; env?: Record<string, string | undefined> } = {}) {
  const out = await run(cniEnv(command, opts.env), netConf(stub.endpoint, pki, opts.top, opts.ipam), new Logger(false));
  return { ...out, json: out.stdout ? JSON.parse(out.stdout) : undefined };
}

describe('ADD', () => {
  it('asks Allocate with the pod, node and CNI defaults and prints the result', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    const out = await shim('ADD', { ipam: { cleangateway: true } });
    expect(out.exitCode).toBe(0);
    expect(out.json).toEqual({ cniVersion: '1.0.0', ips: [{ address: '172.18.40.10/24', gateway: '172.18.40.1' }], routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }] });
    const [call] = stub.received;
    expect(call?.method).toBe('allocate');
    expect(call?.clientCN).toBe('node-1');
    expect(call?.request).toMatchObject({
      containerId: 'c0ffee01',
      netns: '/var/run/netns/cni-c0ffee01',
      ifname: 'eth0',
      pod: POD,
      nodeName: 'node-1',
      defaultIpv4Ippool: ['default-v4'],
      defaultIpv6Ippool: [],
      cleanGateway: true,
      networkName: 'macvlan-net',
    });
    expect((call?.request as { requestId: string }).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes JSON lines to the log file', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    await shim('ADD');
    const lines = readFileSync(join(pki.dir, 'log', 'ipam.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'allocated', command: 'ADD', containerId: 'c0ffee01', pod: `${POD.namespace}/${POD.name}`, ips: ['172.18.40.10/24 (default-v4)'] });
  });

  it('answers in the config version (0.3.1 ips carry "version")', async () => {
    stub.handle({ allocate: (_c, cb) => cb(null, ALLOCATED) });
    const out = await shim('ADD', { top: { cniVersion: '0.3.1' } });
    expect(out.json.cniVersion).toBe('0.3.1');
    expect(out.json.ips).toEqual([{ version: '4', address: '172.18.40.10/24', gateway: '172.18.40.1' }]);
  });

  it('not-leader → code 11 naming the leader', async () => {
    stub.handle({ allocate: (_c, cb) => cb(rpcError(status.UNAVAILABLE, 'not the leader', { reason: ErrorReason.NotLeader, metadata: { leader: '10.0.0.7:9443' } })) });
    const out = await shim('ADD');
    expect(out.exitCode).not.toBe(0);
    expect(out.json).toMatchObject({ cniVersion: '1.0.0', code: 11 });
    expect(out.json.msg).toMatch(/is not the leader \(leader: 10\.0\.0\.7:9443\); try again later/);
  });

  it('operator unreachable (closed port) → code 11', async () => {
    const port = await closedPort();
    const out = await shim('ADD', { ipam: { operator_endpoint: `127.0.0.1:${port}` } });
    expect(out.json).toMatchObject({ code: 11 });
    expect(out.json.msg).toMatch(/unavailable; try again later: .*ECONNREFUSED/);
  });

  it('no answer within timeout_ms → code 11', async () => {
    stub.handle({ allocate: () => {} });
    const out = await shim('ADD', { ipam: { timeout_ms: 200 } });
    expect(out.json).toMatchObject({ code: 11 });
    expect(out.json.msg).toMatch(/no answer from .* within 200 ms/);
  });

  it.each([
    [status.RESOURCE_EXHAUSTED, 'no free IPv4 address', ErrorReason.PoolExhausted, { pool: 'default-v4' }, /no free IPv4 address \[pool-exhausted: pool=default-v4\]/],
    [status.FAILED_PRECONDITION, 'pod team-a/web is on node-2', ErrorReason.PodNotOnNode, { node: 'node-2' }, /\[pod-not-on-node: node=node-2\]/],
    [status.INVALID_ARGUMENT, 'pod.uid is required', ErrorReason.InvalidArgument, { field: 'pod.uid' }, /\[invalid-argument: field=pod\.uid\]/],
  ])('gRPC %i → code 999 with the reason', async (code, message, reason, metadata, expected) => {
    stub.handle({ allocate: (_c, cb) => cb(rpcError(code, message, { reason, metadata })) });
    const out = await shim('ADD');
    expect(out.json).toMatchObject({ code: 999, details: `gRPC status ${code}: ${message}` });
    expect(out.json.msg).toMatch(expected);
  });

  it('a config error names the field and carries the config version', async () => {
    const out = await shim('ADD', { top: { cniVersion: '0.4.0' }, ipam: { tls_ca_file: join(pki.dir, 'missing.crt') } });
    expect(out.json).toMatchObject({ cniVersion: '0.4.0', code: 7 });
    expect(out.json.msg).toMatch(/^ipam\.tls_ca_file: cannot read .*missing\.crt: ENOENT/);
    expect(stub.received).toHaveLength(0);
  });

  it('an env error is code 4 and reaches no server', async () => {
    const out = await shim('ADD', { env: { CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=b' } });
    expect(out.json).toMatchObject({ code: 4, msg: 'CNI_ARGS: K8S_POD_UID is missing or empty (required for ADD)' });
    expect(stub.received).toHaveLength(0);
  });
});

describe('DEL', () => {
  it('releases the prevResult addresses and prints nothing', async () => {
    stub.handle({ release: (_c, cb) => cb(null, { released: ['172.18.40.10'] }) });
    const out = await shim('DEL', { top: { prevResult: { cniVersion: '1.0.0', ips: [{ address: '172.18.40.10/24', interface: 0 }] } } });
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
    expect(stub.received[0]?.request).toMatchObject({ containerId: 'c0ffee01', ifname: 'eth0', pod: POD, nodeName: 'node-1', ips: ['172.18.40.10/24'] });
  });

  it.each([ErrorReason.AllocationNotFound, ErrorReason.PodNotFound])('NOT_FOUND (%s) is success: already gone', async (reason) => {
    stub.handle({ release: (_c, cb) => cb(rpcError(status.NOT_FOUND, 'nothing held', { reason, metadata: {} })) });
    const out = await shim('DEL');
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('works without pod identity or netns (sent empty; the operator matches the container id)', async () => {
    stub.handle({ release: (_c, cb) => cb(null, { released: [] }) });
    const out = await shim('DEL', { env: { CNI_ARGS: undefined, CNI_NETNS: undefined } });
    expect(out.exitCode).toBe(0);
    expect(stub.received[0]?.request).toMatchObject({ containerId: 'c0ffee01', pod: { namespace: '', name: '', uid: '' }, ips: [] });
  });

  it('operator unavailable → code 11, never a silent success (that is how leaks start)', async () => {
    stub.handle({ release: (_c, cb) => cb(rpcError(status.UNAVAILABLE, 'rebuilding', { reason: ErrorReason.NotReady, metadata: {} })) });
    const out = await shim('DEL');
    expect(out.json).toMatchObject({ code: 11 });
  });
});

describe('CHECK', () => {
  const prevResult = { cniVersion: '1.0.0', ips: [{ address: '172.18.40.10/24' }] };

  it('passes when the operator holds the prevResult addresses', async () => {
    stub.handle({ check: (_c, cb) => cb(null, { ips: ALLOCATED.ips }) });
    expect(await shim('CHECK', { top: { prevResult } })).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('fails when they differ', async () => {
    stub.handle({ check: (_c, cb) => cb(null, { ips: [{ version: 4, address: '172.18.40.11/24', gateway: '', pool: 'default-v4', vlan: 0 }] }) });
    const out = await shim('CHECK', { top: { prevResult } });
    expect(out.json).toMatchObject({ code: 999, msg: 'CHECK: prevResult has [172.18.40.10/24] but the operator holds [172.18.40.11/24]' });
  });

  it('needs prevResult', async () => {
    expect((await shim('CHECK')).json).toMatchObject({ code: 7, msg: 'prevResult: required for CHECK' });
  });

  it('is not part of 0.3.1 → code 1', async () => {
    const out = await shim('CHECK', { top: { cniVersion: '0.3.1', prevResult } });
    expect(out.json).toMatchObject({ cniVersion: '0.3.1', code: 1, msg: 'cniVersion: CHECK needs cniVersion 0.4.0 or later, the network config declares 0.3.1' });
  });
});

describe('GC and STATUS (1.1.0)', () => {
  it('GC sends the valid attachments', async () => {
    stub.handle({ gC: (_c, cb) => cb(null, { released: [{ containerId: 'old', ifname: 'eth0' }] }) });
    const out = await shim('GC', { top: { cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'c0ffee01', ifname: 'eth0' }] } });
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
    expect(stub.received[0]?.request).toMatchObject({ nodeName: 'node-1', networkName: 'macvlan-net', validAttachments: [{ containerId: 'c0ffee01', ifname: 'eth0' }] });
  });

  it('GC without cni.dev/valid-attachments is refused, never read as "release everything"', async () => {
    const out = await shim('GC', { top: { cniVersion: '1.1.0' } });
    expect(out.json).toMatchObject({ code: 7, msg: 'cni.dev/valid-attachments: required for GC' });
    expect(stub.received).toHaveLength(0);
  });

  it.each(['GC', 'STATUS'])('%s under 1.0.0 → code 1', async (command) => {
    expect((await shim(command, { top: { 'cni.dev/valid-attachments': [] } })).json).toMatchObject({ code: 1 });
  });

  it('STATUS: ready → success, not ready or unreachable → code 50', async () => {
    stub.handle({ status: (_c, cb) => cb(null, { ready: true, message: '' }) });
    expect(await shim('STATUS', { top: { cniVersion: '1.1.0' } })).toMatchObject({ exitCode: 0, stdout: '' });
    stub.handle({ status: (_c, cb) => cb(null, { ready: false, message: 'rebuilding state' }) });
    expect((await shim('STATUS', { top: { cniVersion: '1.1.0' } })).json).toMatchObject({ code: 50, msg: `operator ${stub.endpoint} is not ready: rebuilding state` });
    const port = await closedPort();
    expect((await shim('STATUS', { top: { cniVersion: '1.1.0' }, ipam: { operator_endpoint: `127.0.0.1:${port}` } })).json).toMatchObject({ code: 50 });
  });
});

describe('VERSION', () => {
  it('echoes a supported config version, else the latest', async () => {
    const log = new Logger(false);
    expect(JSON.parse((await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}', log)).stdout)).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    expect(JSON.parse((await run({ CNI_COMMAND: 'VERSION' }, '', log)).stdout).cniVersion).toBe('1.1.0');
  });

  it('a bad CNI_COMMAND is code 4', async () => {
    const out = await run({ CNI_COMMAND: 'UP' }, '{"cniVersion":"0.4.0"}', new Logger(false));
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '0.4.0', code: 4, msg: 'CNI_COMMAND "UP" is not one of ADD, DEL, CHECK, VERSION, GC, STATUS' });
  });
});
