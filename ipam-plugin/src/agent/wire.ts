// The framing between the CNI shim and the node-local agent on its unix socket (ADR 0013). Small on
// purpose: the shim pays for every byte of code it loads, and the socket is root-only on one host.
//
//   request  = u32be length | u8 method-name length | method name | u32be deadline ms | protobuf request
//   response = u32be length | u8 kind (0 ok, 1 error) | payload
//              ok:    the protobuf response
//              error: google.rpc.Status{code, message, details: [our ErrorInfo]} — the same bytes the
//                     operator puts in grpc-status-details-bin, so the shim rebuilds the very RpcError
//                     the direct client would have raised.
// `length` counts the bytes after itself. Messages use the generated codecs (operator/src/rpc/gen).
import { decodeStatusDetails, encodeStatusDetails, GrpcCode } from '../../../operator/src/rpc/errors.js';
import { Status } from '../../../operator/src/rpc/gen/google/rpc/status.js';
import { IPAMDefinition } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { RpcError, type IpamMethod, type RequestOf, type ResponseOf } from '../rpc-client.js';

/** Largest frame either side accepts (length field value); IPAM messages are a few hundred bytes. */
export const MAX_FRAME_BYTES = 1 << 20;

export const KIND_OK = 0;
export const KIND_ERROR = 1;

/** Method names on the socket → keys of the generated service definition (ts-proto names GC `gC`). */
const WIRE_TO_METHOD: Record<string, IpamMethod> = { allocate: 'allocate', release: 'release', check: 'check', gc: 'gC', status: 'status' };
const METHOD_TO_WIRE = Object.fromEntries(Object.entries(WIRE_TO_METHOD).map(([w, m]) => [m, w])) as Record<IpamMethod, string>;

export function wireName(method: IpamMethod): string {
  return METHOD_TO_WIRE[method];
}

function framed(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

export function encodeRequest<K extends IpamMethod>(method: K, request: RequestOf<K>, deadlineMs: number): Buffer {
  const def = IPAMDefinition.methods[method];
  const payload = (def.requestType.encode as (m: RequestOf<K>) => { finish(): Uint8Array })(request).finish();
  const name = Buffer.from(wireName(method), 'latin1');
  const body = Buffer.allocUnsafe(1 + name.length + 4 + payload.length);
  body.writeUInt8(name.length, 0);
  name.copy(body, 1);
  body.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(deadlineMs))), 1 + name.length);
  body.set(payload, 1 + name.length + 4);
  return framed(body);
}

export interface DecodedRequest {
  method: IpamMethod;
  deadlineMs: number;
  request: unknown;
}

/** A frame body (after the length) → the request, or an RpcError to answer with (never throws anything else). */
export function decodeRequest(body: Buffer): DecodedRequest | RpcError {
  if (body.length < 1) return new RpcError(GrpcCode.INVALID_ARGUMENT, 'agent request: empty frame');
  const nameLen = body.readUInt8(0);
  if (body.length < 1 + nameLen + 4) return new RpcError(GrpcCode.INVALID_ARGUMENT, `agent request: frame of ${body.length} bytes is too short for a ${nameLen}-byte method name and a deadline`);
  const name = body.toString('latin1', 1, 1 + nameLen);
  const method = Object.hasOwn(WIRE_TO_METHOD, name) ? WIRE_TO_METHOD[name] : undefined;
  if (!method) return new RpcError(GrpcCode.UNIMPLEMENTED, `agent request: unknown method ${JSON.stringify(name)} (known: ${Object.keys(WIRE_TO_METHOD).join(', ')})`);
  const deadlineMs = body.readUInt32BE(1 + nameLen);
  try {
    const request = IPAMDefinition.methods[method].requestType.decode(body.subarray(1 + nameLen + 4));
    return { method, deadlineMs, request };
  } catch (e) {
    return new RpcError(GrpcCode.INVALID_ARGUMENT, `agent request: ${name}: cannot decode the protobuf request: ${(e as Error).message}`);
  }
}

export function encodeOk<K extends IpamMethod>(method: K, response: ResponseOf<K>): Buffer {
  const def = IPAMDefinition.methods[method];
  const payload = (def.responseType.encode as (m: ResponseOf<K>) => { finish(): Uint8Array })(response).finish();
  const body = Buffer.allocUnsafe(1 + payload.length);
  body.writeUInt8(KIND_OK, 0);
  body.set(payload, 1);
  return framed(body);
}

export function encodeError(err: RpcError): Buffer {
  const status = err.detail
    ? encodeStatusDetails(err.code, err.message, err.detail)
    : Buffer.from(Status.encode({ code: err.code, message: err.message, details: [] }).finish());
  const body = Buffer.allocUnsafe(1 + status.length);
  body.writeUInt8(KIND_ERROR, 0);
  status.copy(body, 1);
  return framed(body);
}

/** A response body (after the length) → the response, or the RpcError it carries (or describes). */
export function decodeResponse<K extends IpamMethod>(method: K, body: Buffer): ResponseOf<K> | RpcError {
  const kind = body.length > 0 ? body.readUInt8(0) : -1;
  const payload = body.subarray(1);
  try {
    if (kind === KIND_OK) return IPAMDefinition.methods[method].responseType.decode(payload) as ResponseOf<K>;
    if (kind === KIND_ERROR) {
      const status = Status.decode(payload);
      return new RpcError(status.code === GrpcCode.OK ? GrpcCode.UNKNOWN : status.code, status.message, decodeStatusDetails(payload));
    }
  } catch (e) {
    return new RpcError(GrpcCode.INTERNAL, `agent answer: ${wireName(method)}: cannot decode: ${(e as Error).message}`);
  }
  return new RpcError(GrpcCode.INTERNAL, `agent answer: ${wireName(method)}: unknown kind ${kind}`);
}

/**
 * Splits a byte stream into frame bodies. `push` returns the complete bodies so far, or an error when
 * the peer announced a frame above MAX_FRAME_BYTES (the stream cannot be resynchronised after that).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] | RpcError {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME_BYTES) {
        return new RpcError(GrpcCode.RESOURCE_EXHAUSTED, `agent socket: frame of ${len} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit (is the peer speaking the agent protocol of ADR 0013?)`);
      }
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }

  /** Bytes received that do not yet make a frame. */
  get pending(): number {
    return this.buf.length;
  }
}
