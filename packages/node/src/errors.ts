// One error type for everything the API reports to callers: a gRPC status code plus a message naming the problem.
// Only the HTTP layer turns it into a status line and a `{code, message, details}` body.

import { GrpcCode } from "@xmtp-ts/proto";

export { GrpcCode };

export class ApiError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
    /** HTTP status to use instead of the code's usual one (e.g. 405, 413). */
    readonly httpStatus: number = httpStatusOfCode(code),
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function invalidArgument(message: string): ApiError {
  return new ApiError(GrpcCode.INVALID_ARGUMENT, message);
}

/** The grpc-gateway mapping of gRPC codes to HTTP statuses, as the reference node answers. */
export function httpStatusOfCode(code: GrpcCode): number {
  switch (code) {
    case GrpcCode.OK:
      return 200;
    case GrpcCode.CANCELLED:
      return 499;
    case GrpcCode.INVALID_ARGUMENT:
    case GrpcCode.FAILED_PRECONDITION:
    case GrpcCode.OUT_OF_RANGE:
      return 400;
    case GrpcCode.DEADLINE_EXCEEDED:
      return 504;
    case GrpcCode.NOT_FOUND:
      return 404;
    case GrpcCode.ALREADY_EXISTS:
    case GrpcCode.ABORTED:
      return 409;
    case GrpcCode.PERMISSION_DENIED:
      return 403;
    case GrpcCode.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcCode.UNIMPLEMENTED:
      return 501;
    case GrpcCode.UNAVAILABLE:
      return 503;
    case GrpcCode.UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}

/**
 * A refusal the client should retry later (HTTP 503, code UNAVAILABLE, with Retry-After): the store cannot write or
 * read right now, as opposed to a bug (500 / INTERNAL).
 */
export class UnavailableError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number = 1,
  ) {
    super(GrpcCode.UNAVAILABLE, message);
    this.name = "UnavailableError";
  }
}
