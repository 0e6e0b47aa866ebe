// The agent in-process: its unix socket server + the real Upstream (IpamClient over mTLS) against a
// real @grpc/grpc-js server; the shim's LocalClient as the caller. Errors must reach the shim exactly
// as the direct client sees them, hostile bytes must not stop the agent, and not-leader / a dropped
// connection must make it reconnect.
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorReason, GrpcCode } from '../../operator/src/rpc/errors.js';
import { rpcError } from '../../operator/src/rpc/grpc-service.js';
import { AgentServer } from '../src/agent/server.js';
import { Upstream } from '../src/agent/upstream.js';
import { encodeRequest, FrameReader, decodeResponse } from '../src/agent/wire.js';
import { CniError } from '../src/cni/errors.js';
import { LocalClient } from '../src/local-client.js';
import { Logger } from '../src/log.js';
import { IpamClient, RpcError } from '../src/rpc-client.js';
import { startOperatorStub, type OperatorStub } from './support/operator-stub.js';
import { makePki, type Pki } from './support/pki.js';

let pki: Pki;
let stub: OperatorStub;
let dir: string;
let socketPath: string;
let agent: AgentServer;
const reconnects: string[] = [];
const log = new Logger(false);

const STATUS = { nodeName: 'node-1' };

beforeAll(async () => {
  pki = makePki('node-1');
  stub = await startOperatorStub(pki);
  dir = mkdtempSync(join(tmpdir(), 'spts-agent-'));
  socketPath = join(dir, 'run', 'agent.sock');
  const upstream = new Upstream(
    { endpoint: stub.endpoint, caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile, serverName: '127.0.0.1', timeoutMs: 3000 },
    { onReconnect: (why) => reconnects.push(why) },
  );
  agent = new AgentServer({ socketPath, forwarder: upstream, log, drainMs: 2000 });
  await agent.listen();
}, 60_000);
afterAll(async () => {
  await agent.close();
  await stub.close();
  rmSync(pki.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  stub.received.length = 0;
  reconnects.length = 0;
  stub.handle({});
});

const local = () => new LocalClient(socketPath, 3000);
const peer = (c: ServerUnaryCall<unknown, unknown>) => c.getPeer();

async function outcome<T>(p: Promise<T>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    return { code: e.code, message: e.message, detail: e.detail };
  }
}

/** Raw bytes on the socket → the first answer frame, decoded as a `status` response (or the connection closing). */
function rawExchange(bytes: Buffer): Promise<{ answer: unknown; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    const reader = new FrameReader();
    let answer: unknown;
    s.on('connect', () => s.write(bytes));
    s.on('data', (c: Buffer) => {
      const frames = reader.push(c);
      if (frames instanceof RpcError) return reject(frames);
      if (frames[0] && answer === undefined) {
        const r = decodeResponse('status', frames[0]);
        answer = r instanceof RpcError ? { code: r.code, message: r.message } : r;
        setTimeout(() => {
          s.destroy();
          resolve({ answer, closed: false });
        }, 20);
      }
    });
    s.on('close', () => resolve({ answer, closed: true }));
    s.on('error', reject);
  });
}

describe('spiderpool-ts-agent', () => {
  it('creates its socket 0600 in a 0700 directory', () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
  });

  it('forwards a call over the node certificate and answers it', async () => {
    stub.handle({ status: (_c, cb) => cb(null, { ready: true, message: 'leader' }) });
    expect(await local().call('status', STATUS)).toEqual({ ready: true, message: 'leader' });
    expect(stub.received).toEqual([{ method: 'status', request: STATUS, clientCN: 'node-1' }]);
  });

  it('keeps one connection to the operator across calls', async () => {
    const peers: string[] = [];
    stub.handle({ status: (c, cb) => (peers.push(peer(c)), cb(null, { ready: true, message: '' })) });
    for (let i = 0; i < 3; i++) await local().call('status', STATUS);
    expect(new Set(peers).size).toBe(1);
  });

  it('hands the shim the same RpcError (code, message, detail) as the direct client', async () => {
    const cases = [
      rpcError(status.RESOURCE_EXHAUSTED, 'pool default-v4 is exhausted: 0 of 254 free', { reason: ErrorReason.PoolExhausted, metadata: { pool: 'default-v4' } }),
      rpcError(status.NOT_FOUND, 'no allocation → for pod team-a/web', { reason: ErrorReason.AllocationNotFound, metadata: {} }),
      rpcError(status.PERMISSION_DENIED, 'pod team-a/web is not on node node-1', { reason: ErrorReason.PodNotOnNode, metadata: { node: 'node-2' } }),
      { code: status.INTERNAL, details: 'boom without detail' },
    ];
    for (const err of cases) {
      stub.handle({ status: (_c, cb) => cb(err) });
      const direct = new IpamClient({ endpoint: stub.endpoint, ca: pki.ca, cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile), serverName: '127.0.0.1', timeoutMs: 3000 });
      const viaDirect = await outcome(direct.call('status', STATUS));
      direct.close();
      const viaAgent = await outcome(local().call('status', STATUS));
      expect(viaAgent).toEqual(viaDirect);
      expect((viaAgent as { code: number }).code).toBe(err.code);
    }
  });

  it('reconnects after a not-leader answer and retries once on the new connection', async () => {
    const peers: string[] = [];
    let n = 0;
    stub.handle({
      status: (c, cb) => {
        peers.push(peer(c));
        if (n++ === 0) return cb(rpcError(status.UNAVAILABLE, 'this replica is not the leader', { reason: ErrorReason.NotLeader, metadata: { leader: '10.0.0.7:9443' } }));
        cb(null, { ready: true, message: 'leader' });
      },
    });
    await local().call('status', STATUS); // warm connection
    n = 0;
    peers.length = 0;
    expect(await local().call('status', STATUS)).toEqual({ ready: true, message: 'leader' });
    expect(peers).toHaveLength(2);
    expect(peers[1]).not.toBe(peers[0]);
    expect(reconnects).toContain('not-leader answer');
  });

  it('returns not-leader to the shim when the fresh connection answers it too', async () => {
    const notLeader = rpcError(status.UNAVAILABLE, 'this replica is not the leader', { reason: ErrorReason.NotLeader, metadata: { leader: '10.0.0.7:9443' } });
    stub.handle({ status: (_c, cb) => cb(notLeader) });
    expect(await outcome(local().call('status', STATUS))).toEqual({ code: 14, message: 'this replica is not the leader', detail: { reason: 'not-leader', metadata: { leader: '10.0.0.7:9443' } } });
    expect(stub.received).toHaveLength(2);
  });

  it('answers malformed frames with an error and keeps serving', async () => {
    const bad = [
      Buffer.from([0, 0, 0, 1, 200]), // name longer than the frame
      Buffer.from([0, 0, 0, 8, 3, 0x66, 0x6f, 0x6f, 0, 0, 0, 1]), // unknown method
      Buffer.concat([Buffer.from([0, 0, 0, 10, 6]), Buffer.from('status'), Buffer.from([0, 0, 0])]), // no room for the deadline
      (() => {
        const f = encodeRequest('status', STATUS, 1000);
        const junk = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]); // length-delimited field that runs past the end
        const out = Buffer.concat([f.subarray(0, 4), f.subarray(4, 4 + 1 + 6 + 4), junk]);
        out.writeUInt32BE(out.length - 4, 0);
        return out;
      })(),
    ];
    for (const bytes of bad) {
      const { answer } = await rawExchange(bytes);
      expect(answer).toMatchObject({ code: expect.any(Number), message: expect.stringMatching(/^agent request: /) });
      expect([GrpcCode.INVALID_ARGUMENT, GrpcCode.UNIMPLEMENTED]).toContain((answer as { code: number }).code);
    }
    // Random garbage with a sane length prefix.
    for (let i = 0; i < 50; i++) {
      const body = Buffer.from(Array.from({ length: 1 + ((i * 37) % 90) }, (_, k) => (k * 131 + i * 17) & 0xff));
      const frame = Buffer.concat([Buffer.alloc(4), body]);
      frame.writeUInt32BE(body.length, 0);
      const { answer } = await rawExchange(frame);
      expect(answer).toBeDefined();
    }
    stub.handle({ status: (_c, cb) => cb(null, { ready: true, message: 'still here' }) });
    expect(await local().call('status', STATUS)).toEqual({ ready: true, message: 'still here' });
  });

  it('answers an oversized frame with an error, closes that connection, and keeps serving', async () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 << 20);
    const { answer, closed } = await rawExchange(header);
    expect(closed).toBe(true);
    expect(answer).toMatchObject({ code: GrpcCode.RESOURCE_EXHAUSTED, message: expect.stringMatching(/exceeds the 1048576-byte limit/) });
    stub.handle({ status: (_c, cb) => cb(null, { ready: true, message: 'ok' }) });
    expect(await local().call('status', STATUS)).toEqual({ ready: true, message: 'ok' });
  });

  it('re-reads the node certificate when its files change', async () => {
    stub.handle({ status: (_c, cb) => cb(null, { ready: true, message: '' }) });
    await local().call('status', STATUS);
    const later = new Date(Date.now() + 5000);
    const { utimesSync } = await import('node:fs');
    utimesSync(pki.clientCertFile, later, later);
    await local().call('status', STATUS);
    expect(reconnects).toContain('certificate files changed');
  });

  it('refuses to start on a socket another agent answers on, and replaces a stale one', async () => {
    const twin = new AgentServer({ socketPath, forwarder: { call: () => Promise.reject(new Error('unused')), close: () => {} }, log, drainMs: 0 });
    await expect(twin.listen()).rejects.toThrow(/another agent answers on it/);

    const stalePath = join(dir, 'stale.sock');
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(stalePath, r));
    // Simulate a crash: the listener goes away but the file stays (close() would unlink it).
    const fd = (dead as unknown as { _handle: { close(): void } })._handle;
    fd.close();
    const fresh = new AgentServer({ socketPath: stalePath, forwarder: { call: () => Promise.resolve({ ready: true, message: 'fresh' } as never), close: () => {} }, log, drainMs: 0 });
    await fresh.listen();
    expect(await new LocalClient(stalePath, 1000).call('status', STATUS)).toEqual({ ready: true, message: 'fresh' });
    await fresh.close();
    expect(() => statSync(stalePath)).toThrow();

    writeFileSync(join(dir, 'file.sock'), 'not a socket');
    const onFile = new AgentServer({ socketPath: join(dir, 'file.sock'), forwarder: { call: () => Promise.reject(new Error('unused')), close: () => {} }, log, drainMs: 0 });
    await expect(onFile.listen()).rejects.toThrow(/exists and is not a socket/);
  });

  it('an absent agent is CNI 11 naming the socket', async () => {
    const err = await new LocalClient(join(dir, 'nobody.sock'), 1000).call('status', STATUS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).code).toBe(11);
    expect((err as CniError).message).toBe(`agent socket ${join(dir, 'nobody.sock')}: ENOENT; is spiderpool-ts-agent running on this node?`);
  });
});
