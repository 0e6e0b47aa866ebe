// The minimal gRPC client against a hand-driven HTTP/2 server (node:http2 over TLS), for the wire
// cases a well-behaved grpc-js server never produces: proxies' HTTP errors, resets, bad framing.
import { constants, createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import { readFileSync, rmSync } from 'node:fs';
import { encodeStatusDetails, GrpcCode } from '../../operator/src/rpc/errors.js';
import { StatusResponse } from '../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { IpamClient, RpcError } from '../src/rpc-client.js';
import { makePki, type Pki } from './support/pki.js';

let pki: Pki;
let server: Http2SecureServer;
let respond: (stream: ServerHttp2Stream) => void = () => {};
let seen: Record<string, unknown> = {};

beforeAll(async () => {
  pki = makePki('node-1');
  server = createSecureServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: true });
  server.on('stream', (stream, headers) => {
    seen = { ...headers };
    // Closing a stream with an error code (the reset case) also emits it here.
    stream.on('error', () => {});
    stream.on('data', () => {});
    stream.on('end', () => respond(stream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(pki.dir, { recursive: true, force: true });
});

function client(timeoutMs = 2000): IpamClient {
  const { port } = server.address() as { port: number };
  return new IpamClient({
    endpoint: `127.0.0.1:${port}`,
    ca: pki.ca,
    cert: readFileSync(pki.clientCertFile),
    key: readFileSync(pki.clientKeyFile),
    serverName: '127.0.0.1',
    timeoutMs,
  });
}

async function callStatus(timeoutMs?: number): Promise<unknown> {
  const c = client(timeoutMs);
  try {
    return await c.call('status', { nodeName: 'node-1' });
  } catch (e) {
    return e;
  } finally {
    c.close();
  }
}

const grpcHeaders = { ':status': 200, 'content-type': 'application/grpc+proto' };
function message(body: Uint8Array, compressed = 0): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b[0] = compressed;
  b.writeUInt32BE(body.length, 1);
  b.set(body, 5);
  return b;
}

describe('IpamClient', () => {
  it('sends a gRPC request and decodes the answer from data + trailers', async () => {
    respond = (s) => {
      s.respond(grpcHeaders, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
      s.end(message(StatusResponse.encode({ ready: true, message: 'leader' }).finish()));
    };
    expect(await callStatus()).toEqual({ ready: true, message: 'leader' });
    expect(seen).toMatchObject({ ':method': 'POST', ':path': '/spiderpool_ts.ipam.v1.IPAM/Status', te: 'trailers', 'grpc-timeout': '2000m' });
    expect(String(seen['content-type'])).toMatch(/^application\/grpc/);
  });

  it('reads a trailers-only error: percent-decoded message and ErrorInfo', async () => {
    const details = encodeStatusDetails(GrpcCode.UNAVAILABLE, 'not the leader', { reason: 'not-leader', metadata: { leader: '10.0.0.7:9443' } });
    respond = (s) => {
      s.respond({ ...grpcHeaders, 'grpc-status': '14', 'grpc-message': 'not%20the%20leader%3A%20ask%20%E2%86%92', 'grpc-status-details-bin': details.toString('base64') }, { endStream: true });
    };
    const err = (await callStatus()) as RpcError;
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe(GrpcCode.UNAVAILABLE);
    expect(err.message).toBe('not the leader: ask →');
    expect(err.detail).toEqual({ reason: 'not-leader', metadata: { leader: '10.0.0.7:9443' } });
  });

  it.each([
    [404, GrpcCode.UNIMPLEMENTED],
    [503, GrpcCode.UNAVAILABLE],
    [500, GrpcCode.UNKNOWN],
  ])('maps a non-gRPC HTTP %i to status %i', async (httpStatus, code) => {
    respond = (s) => s.respond({ ':status': httpStatus }, { endStream: true });
    const err = (await callStatus()) as RpcError;
    expect(err.code).toBe(code);
    expect(err.message).toMatch(new RegExp(`HTTP ${httpStatus}`));
  });

  it('maps RST_STREAM REFUSED_STREAM to UNAVAILABLE', async () => {
    respond = (s) => s.close(constants.NGHTTP2_REFUSED_STREAM);
    expect(((await callStatus()) as RpcError).code).toBe(GrpcCode.UNAVAILABLE);
  });

  it('rejects a compressed or truncated message as INTERNAL', async () => {
    const body = StatusResponse.encode({ ready: true, message: '' }).finish();
    for (const payload of [message(body, 1), message(body).subarray(0, 6)]) {
      respond = (s) => {
        s.respond(grpcHeaders, { waitForTrailers: true });
        s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
        s.end(payload);
      };
      expect(((await callStatus()) as RpcError).code).toBe(GrpcCode.INTERNAL);
    }
  });

  it('gives up at the deadline with DEADLINE_EXCEEDED', async () => {
    respond = () => {};
    const err = (await callStatus(150)) as RpcError;
    expect(err.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(err.message).toMatch(/within 150 ms/);
  });
});
