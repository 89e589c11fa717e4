// The node's gRPC status in a failure, wherever the client wrapped it: ApiError carries it in its numeric `code`
// (the other client errors' codes are strings), with the node's own words in `serverMessage`.
import { GrpcCode } from "@xmtp-ts/proto";
import { causeChain } from "./causeChain.js";

/** The first gRPC status (CANCELLED to UNAUTHENTICATED) in an error's cause chain, with the node's own words. */
export interface GrpcStatus {
  code: GrpcCode;
  /** The link's `serverMessage` (what the node said, on an ApiError), else its `message`; "" if neither is text. */
  message: string;
  /** The link of the chain that carries the status. */
  error: unknown;
}

/** Whether `code` is a gRPC error status (an integer from CANCELLED to UNAUTHENTICATED; OK is no error). */
export function isGrpcErrorCode(code: unknown): code is GrpcCode {
  return typeof code === "number" && Number.isInteger(code) && code >= GrpcCode.CANCELLED && code <= GrpcCode.UNAUTHENTICATED;
}

/** The gRPC error status in one error's `code`, not looking at its causes. */
export function grpcCodeOf(error: unknown): GrpcCode | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return isGrpcErrorCode(code) ? code : undefined;
}

/** The first link of `error`'s cause chain that has a gRPC error status (grpcCodeOf); undefined when none has. */
export function grpcStatusOf(error: unknown): GrpcStatus | undefined {
  for (const link of causeChain(error)) {
    const code = grpcCodeOf(link);
    if (code === undefined) continue;
    const { serverMessage, message } = link as { serverMessage?: unknown; message?: unknown };
    const text = serverMessage ?? message;
    return { code, message: typeof text === "string" ? text : "", error: link };
  }
  return undefined;
}
