import { GrpcCode } from "@xmtp-ts/proto";
import { XmtpClientError } from "../errors/XmtpClientError.js";

export { GrpcCode };

export type ApiCall = "publish" | "query" | "batchQuery" | "subscribe" | "postageQuote";

export interface ApiErrorInit {
  call: ApiCall;
  /** The gRPC status code from the error body; UNAVAILABLE for network failures; undefined if the body had none. */
  code: number | undefined;
  /** The node's own message (or a description of the network failure). */
  serverMessage: string;
  httpStatus?: number;
  details?: unknown[];
  /** How long the node asked us to wait before retrying (Retry-After or a RetryInfo detail). */
  retryAfterMs?: number;
  /** True for failures worth retrying: network errors, 5xx except 501, 408, 429, UNAVAILABLE. */
  transient: boolean;
  cause?: unknown;
}

/** A failed call to the node's message API. */
export class ApiError extends XmtpClientError {
  readonly call: ApiCall;
  /** The node's gRPC status (GrpcCode), as on the wire: the one member of the family whose `code` is a number. */
  readonly code: number | undefined;
  readonly serverMessage: string;
  readonly httpStatus: number | undefined;
  readonly details: unknown[];
  readonly retryAfterMs: number | undefined;
  readonly transient: boolean;

  constructor(init: ApiErrorInit) {
    const where = [
      init.code === undefined ? undefined : `code ${init.code}`,
      init.httpStatus === undefined ? undefined : `HTTP ${init.httpStatus}`,
    ].filter(Boolean);
    super(`${init.call}: ${init.serverMessage}${where.length ? ` (${where.join(", ")})` : ""}`, { cause: init.cause });
    this.name = "ApiError";
    this.call = init.call;
    this.code = init.code;
    this.serverMessage = init.serverMessage;
    this.httpStatus = init.httpStatus;
    this.details = init.details ?? [];
    this.retryAfterMs = init.retryAfterMs;
    this.transient = init.transient;
  }
}

/** The node answered 2xx with a body that does not follow the wire format: not worth retrying. */
export function malformedResponse(call: ApiCall, problem: string, httpStatus?: number): ApiError {
  return new ApiError({ call, code: undefined, serverMessage: `malformed response: ${problem}`, httpStatus, transient: false });
}
