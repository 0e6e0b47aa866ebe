// A minimal gRPC client for unary calls on node:http2, with the generated message codecs. Why not
// @grpc/grpc-js: the shim is a fresh process per CNI call, and loading grpc-js costs more than the
// call itself (ADR 0004). gRPC on the wire, per PROTOCOL-HTTP2.md: POST /<service>/<method>,
// `te: trailers`, body = 1 byte compressed-flag + 4 bytes big-endian length + protobuf; the status
// comes in trailers (or in the headers of a "trailers-only" response) as grpc-status/grpc-message.
//
// node:http2 and node:tls load lazily, when the first connection is made: a shim that talks to the
// node-local agent (local-client.ts) imports this file for RpcError only and must not pay ~20 ms of
// CPU for modules it never uses (ADR 0013). A static import would be hoisted by esbuild to the top
// of the CommonJS bundle and load them on every exec.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { decodeStatusDetails, GrpcCode, STATUS_DETAILS_TRAILER, type ErrorDetail } from '../../operator/src/rpc/errors.js';
import { IPAMDefinition } from '../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';

type Methods = typeof IPAMDefinition.methods;
export type IpamMethod = keyof Methods;
export type RequestOf<K extends IpamMethod> = Parameters<Methods[K]['requestType']['encode']>[0];
export type ResponseOf<K extends IpamMethod> = ReturnType<Methods[K]['responseType']['decode']>;

export class RpcError extends Error {
  constructor(
    /** gRPC status code (GrpcCode). */
    readonly code: number,
    message: string,
    /** Our ErrorInfo from grpc-status-details-bin, when the server sent one. */
    readonly detail?: ErrorDetail,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export interface ClientOptions {
  /** "host:port" or "[v6]:port". */
  endpoint: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** Name the server certificate must be valid for (SNI too, unless it is an IP address). */
  serverName: string;
  /** Deadline of each call, connection set-up included. */
  timeoutMs: number;
}

const http2 = () => process.getBuiltinModule('node:http2');

// RST_STREAM codes → gRPC status, as grpc-js maps them.
function statusOfRstCode(rst: number): number {
  const { constants } = http2();
  switch (rst) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return GrpcCode.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return GrpcCode.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcCode.PERMISSION_DENIED;
    default:
      return GrpcCode.INTERNAL;
  }
}

// A non-gRPC HTTP answer (a proxy in the way, a wrong port) → status, as the gRPC spec maps them.
function statusOfHttp(httpStatus: number): number {
  if (httpStatus === 401) return GrpcCode.UNAUTHENTICATED;
  if (httpStatus === 403) return GrpcCode.PERMISSION_DENIED;
  if (httpStatus === 404) return GrpcCode.UNIMPLEMENTED;
  if (httpStatus === 429 || httpStatus === 502 || httpStatus === 503 || httpStatus === 504) return GrpcCode.UNAVAILABLE;
  return GrpcCode.UNKNOWN;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function statusFrom(h: IncomingHttpHeaders): RpcError | null | undefined {
  const raw = header(h, 'grpc-status');
  if (raw === undefined) return undefined;
  const code = Number(raw);
  if (code === GrpcCode.OK) return null;
  let message = header(h, 'grpc-message') ?? '';
  try {
    message = decodeURIComponent(message);
  } catch {
    // Not percent-encoded after all: keep it as sent.
  }
  const bin = header(h, STATUS_DETAILS_TRAILER);
  const detail = bin ? decodeStatusDetails(Buffer.from(bin, 'base64')) : undefined;
  return new RpcError(Number.isInteger(code) ? code : GrpcCode.UNKNOWN, message || `gRPC status ${raw}`, detail);
}

export class IpamClient {
  private session: ClientHttp2Session | undefined;
  private sessionError: Error | undefined;

  constructor(private readonly opts: ClientOptions) {}

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const { ca, cert, key, serverName } = this.opts;
    // Node checks the server certificate against `servername`. SNI must not be an IP address
    // (RFC 6066), so an IP server name is checked explicitly (the certificate's IP SANs) instead.
    const ipName = isIP(serverName) !== 0;
    const { checkServerIdentity } = process.getBuiltinModule('node:tls');
    const session = http2().connect(`https://${this.opts.endpoint}`, {
      ca,
      cert,
      key,
      ...(ipName ? { checkServerIdentity: (_host: string, peer: PeerCertificate) => checkServerIdentity(serverName, peer) } : { servername: serverName }),
    });
    // A failed connection also fails or closes the pending stream, which reports it (with this
    // error, when the session got one first).
    session.on('error', (e) => (this.sessionError = e));
    this.session = session;
    return session;
  }

  /** `timeoutMs` overrides the client's deadline for this call (the agent passes the shim's). */
  call<K extends IpamMethod>(method: K, request: RequestOf<K>, timeoutMs = this.opts.timeoutMs): Promise<ResponseOf<K>> {
    const def = IPAMDefinition.methods[method];
    const payload = (def.requestType.encode as (m: RequestOf<K>) => { finish(): Uint8Array })(request).finish();
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(payload.length, 1);
    frame.set(payload, 5);

    return new Promise<ResponseOf<K>>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: RpcError | null, value?: ResponseOf<K>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value as ResponseOf<K>);
      };
      let stream: ClientHttp2Stream;
      try {
        stream = this.connect().request({
          ':method': 'POST',
          ':path': `/${IPAMDefinition.fullName}/${def.name}`,
          'content-type': 'application/grpc+proto',
          te: 'trailers',
          'grpc-timeout': `${timeoutMs}m`,
          'grpc-accept-encoding': 'identity',
          'user-agent': 'spiderpool-ts-ipam',
        });
      } catch (e) {
        // e.g. the session was torn down (GOAWAY) between two calls.
        return finish(new RpcError(GrpcCode.UNAVAILABLE, `${def.name}: ${this.opts.endpoint}: ${(e as Error).message}`));
      }
      timer = setTimeout(() => {
        finish(new RpcError(GrpcCode.DEADLINE_EXCEEDED, `${def.name}: no answer from ${this.opts.endpoint} within ${timeoutMs} ms`));
        stream.close(http2().constants.NGHTTP2_CANCEL);
      }, timeoutMs);

      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (headers = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e: Error & { code?: string }) => {
        const code = e.code === 'ERR_HTTP2_STREAM_ERROR' ? statusOfRstCode(stream.rstCode ?? 0) : GrpcCode.UNAVAILABLE;
        finish(new RpcError(code, `${def.name}: ${this.opts.endpoint}: ${e.message}`));
      });
      stream.on('close', () => {
        if (settled) return;
        const httpStatus = Number(headers[':status'] ?? 0);
        // Trailers-only responses (errors without a body) carry the status in the headers.
        const status = trailers ? statusFrom(trailers) : statusFrom(headers);
        if (status === undefined) {
          if (httpStatus === 0) {
            // Closed before any response: the connection failed. A server refusing our client
            // certificate looks exactly like this in TLS 1.3 (its alert is not surfaced by Node).
            const cause = this.sessionError ? `: ${this.sessionError.message}` : ' (if this persists: does the server accept this node\'s client certificate?)';
            return finish(new RpcError(GrpcCode.UNAVAILABLE, `${def.name}: ${this.opts.endpoint} closed the connection before answering${cause}`));
          }
          if (httpStatus !== 200) return finish(new RpcError(statusOfHttp(httpStatus), `${def.name}: HTTP ${httpStatus} from ${this.opts.endpoint}`));
          const rst = stream.rstCode ?? 0;
          return finish(new RpcError(rst ? statusOfRstCode(rst) : GrpcCode.UNKNOWN, `${def.name}: stream ended without grpc-status`));
        }
        if (status) return finish(status);
        const body = Buffer.concat(chunks);
        const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
        if (length < 0 || body.length !== 5 + length) {
          return finish(new RpcError(GrpcCode.INTERNAL, `${def.name}: expected one length-prefixed message, got ${body.length} bytes`));
        }
        if (body[0] !== 0) return finish(new RpcError(GrpcCode.INTERNAL, `${def.name}: compressed response, but only identity was accepted`));
        try {
          finish(null, def.responseType.decode(body.subarray(5)) as ResponseOf<K>);
        } catch (e) {
          finish(new RpcError(GrpcCode.INTERNAL, `${def.name}: cannot decode the response: ${(e as Error).message}`));
        }
      });
      stream.end(frame);
    });
  }

  close(): void {
    this.session?.close();
  }
}
