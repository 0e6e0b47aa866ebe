// A failed IPAM call as a value: the gRPC status code, the ErrorInfo reason and metadata the proto
// header lists, and a message for humans. The gRPC server turns it into status + trailers.
import { ErrorReason, GrpcCode } from '../rpc/errors.js';

export class IpamError extends Error {
  override readonly name = 'IpamError';
  constructor(
    readonly code: number,
    readonly reason: ErrorReason,
    message: string,
    readonly metadata: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const invalidArgument = (field: string, why = 'is required'): IpamError =>
  new IpamError(GrpcCode.INVALID_ARGUMENT, ErrorReason.InvalidArgument, `${field} ${why}`, { field });

export const notReady = (why: string): IpamError => new IpamError(GrpcCode.UNAVAILABLE, ErrorReason.NotReady, why);
