// The IPAM service for @grpc/grpc-js servers, derived from the generated protocol-neutral
// definition (ts-proto `generic-definitions`), so method paths and codecs come from the .proto only.
import { Metadata, type handleUnaryCall, type ServerErrorResponse, type ServiceDefinition } from '@grpc/grpc-js';
import { IPAMDefinition } from './gen/spiderpool_ts/ipam/v1/ipam.js';
import { encodeStatusDetails, STATUS_DETAILS_TRAILER, type ErrorDetail } from './errors.js';

type Methods = IPAMDefinition['methods'];
type RequestOf<M> = M extends { requestType: { decode(input: Uint8Array): infer R } } ? R : never;
type ResponseOf<M> = M extends { responseType: { decode(input: Uint8Array): infer R } } ? R : never;

/** What a server implements: one unary handler per RPC, typed from the generated messages. */
export type IPAMHandlers = { [K in keyof Methods]: handleUnaryCall<RequestOf<Methods[K]>, ResponseOf<Methods[K]>> };

interface Codec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
}

function buildDefinition(): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const [key, method] of Object.entries(IPAMDefinition.methods)) {
    const req = method.requestType as Codec;
    const res = method.responseType as Codec;
    definition[key] = {
      path: `/${IPAMDefinition.fullName}/${method.name}`,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (m: unknown) => Buffer.from(req.encode(m).finish()),
      requestDeserialize: (b: Buffer) => req.decode(b),
      responseSerialize: (m: unknown) => Buffer.from(res.encode(m).finish()),
      responseDeserialize: (b: Buffer) => res.decode(b),
      originalName: key,
    };
  }
  return definition;
}

export const ipamServiceDefinition: ServiceDefinition = buildDefinition();

/** An error for a handler's callback: status code, message, and our ErrorInfo in the trailers. */
export function rpcError(code: number, message: string, detail: ErrorDetail): ServerErrorResponse {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_TRAILER, encodeStatusDetails(code, message, detail));
  return Object.assign(new Error(message), { code, details: message, metadata });
}
