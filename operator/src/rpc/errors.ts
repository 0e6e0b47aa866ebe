// The machine-readable half of an IPAM RPC error (see proto/spiderpool_ts/ipam/v1/ipam.proto): the
// reason constants and the `grpc-status-details-bin` codec, shared by the operator (which sends
// them) and the CNI shim (which maps them to CNI error codes). No @grpc/grpc-js import here: the
// shim bundles this file and must stay small.
import { ErrorInfo } from './gen/google/rpc/error_details.js';
import { Status } from './gen/google/rpc/status.js';

export const ERROR_DOMAIN = 'ipam.spiderpool-ts.io';

/** Trailer that carries an encoded google.rpc.Status (the gRPC richer error model). */
export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

export const ErrorReason = {
  NotLeader: 'not-leader',
  NotReady: 'not-ready',
  PoolExhausted: 'pool-exhausted',
  InvalidArgument: 'invalid-argument',
  PodNotOnNode: 'pod-not-on-node',
  NoCandidatePool: 'no-candidate-pool',
  PodUidMismatch: 'pod-uid-mismatch',
  PodNotFound: 'pod-not-found',
  /** ADD for a pod being deleted (deletionTimestamp set): no address for it. */
  PodTerminating: 'pod-terminating',
  /** ADD for a pod that finished (Succeeded/Failed): no address for it. */
  PodTerminated: 'pod-terminated',
  AllocationNotFound: 'allocation-not-found',
  Unauthenticated: 'unauthenticated',
  /** The pod's namespace is at its IP quota (Namespace annotation ipam.spiderpool-ts.io/ip-quota). */
  QuotaExceeded: 'quota-exceeded',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** gRPC status codes (the numbers are the wire protocol; grpc-js's `status` enum has the same). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export interface ErrorDetail {
  reason: string;
  /** e.g. {leader: "10.0.0.7:9443"}, {field: "pod.uid"}, {pool: "default-v4"}. */
  metadata: Record<string, string>;
}

/** The trailer value for an error: google.rpc.Status{code, message, details: [ErrorInfo]}. */
export function encodeStatusDetails(code: number, message: string, detail: ErrorDetail): Buffer {
  const info = ErrorInfo.encode({ reason: detail.reason, domain: ERROR_DOMAIN, metadata: detail.metadata }).finish();
  const status = Status.encode({ code, message, details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: Buffer.from(info) }] });
  return Buffer.from(status.finish());
}

/** Our ErrorInfo from a trailer value; undefined when absent, malformed, or of another domain. */
export function decodeStatusDetails(bin: Uint8Array): ErrorDetail | undefined {
  try {
    for (const any of Status.decode(bin).details) {
      if (any.typeUrl !== ERROR_INFO_TYPE_URL) continue;
      const info = ErrorInfo.decode(any.value);
      if (info.domain === ERROR_DOMAIN) return { reason: info.reason, metadata: info.metadata };
    }
  } catch {
    // A corrupt detail must not hide the status code and message, which the caller still has.
  }
  return undefined;
}
