// Every failure the CLI reports maps to one exit code, so scripts can tell "fix your input" from "the network is
// down" without parsing messages.
import { ArchiveError, causeChain, GrpcCode, grpcStatusOf, InvalidNameError, NameResolutionError } from "@xmtp-ts/client";

export const ExitCode = {
  OK: 0,
  /** Anything not classified below: a bug or an unexpected answer. */
  INTERNAL: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** ADDRESS is not an Ethereum address (or its EIP-55 checksum is wrong). */
  INVALID_ADDRESS: 3,
  /** The peer has no XMTP identity on this network. */
  NOT_ON_NETWORK: 4,
  /** The node could not be reached at all (refused, unresolvable, timed out). */
  NODE_UNREACHABLE: 5,
  /** No usable identity: no key file and no XMTP_PRIVATE_KEY, unreadable or unsafe key file, malformed key. */
  IDENTITY: 6,
  /** The node answered with an error (denied, rate limited, invalid request...). */
  NODE_ERROR: 7,
  /** `read ADDRESS`: no conversation with that address yet. */
  NO_CONVERSATION: 8,
  /**
   * Postage: the node wants postage for a first message to a stranger and none was paid (no grant, no payer, price
   * above --max-price, deposit too low, withdrawal pending), or a postage action cannot be done now (the node has
   * postage off, the withdrawal is still locked, nothing to withdraw, a grant that is not usable).
   */
  POSTAGE: 9,
  /** The payer's chain: its RPC is unreachable or serves another chain than the node's vault, or a transaction failed. */
  CHAIN: 10,
  /** An inbox archive that cannot be used: not an archive, damaged, truncated, altered, or another wallet's. */
  ARCHIVE: 11,
  /** A name (alice.eth) that resolves to no address, or the Ethereum JSON-RPC for names (--eth-rpc-url) failed. */
  NAME: 12,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export class CliError extends Error {
  /** Machine-readable figures behind the message (postage terms, amounts), added to the --json error report. */
  readonly details?: Record<string, unknown>;

  constructor(
    readonly kind: ExitCodeName,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    if (options?.details) this.details = options.details;
  }

  get exitCode(): number {
    return ExitCode[this.kind];
  }
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** gRPC status names, for messages that say what the node meant; others show as "code N". */
const GRPC_CODE_NAMES: Partial<Record<GrpcCode, string>> = {
  [GrpcCode.CANCELLED]: "cancelled",
  [GrpcCode.UNKNOWN]: "unknown",
  [GrpcCode.INVALID_ARGUMENT]: "invalid argument",
  [GrpcCode.DEADLINE_EXCEEDED]: "deadline exceeded",
  [GrpcCode.NOT_FOUND]: "not found",
  [GrpcCode.PERMISSION_DENIED]: "permission denied",
  [GrpcCode.RESOURCE_EXHAUSTED]: "resource exhausted",
  [GrpcCode.UNIMPLEMENTED]: "unimplemented",
  [GrpcCode.INTERNAL]: "internal",
  [GrpcCode.UNAVAILABLE]: "unavailable",
  [GrpcCode.UNAUTHENTICATED]: "unauthenticated",
};

function networkErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return code;
    // AggregateError from happy-eyeballs connects carries the per-address errors.
    const inner = (link as { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      for (const e of inner) {
        const innerCode = (e as { code?: unknown }).code;
        if (typeof innerCode === "string" && UNREACHABLE_CODES.has(innerCode)) return innerCode;
      }
    }
  }
  return undefined;
}

/** Turns whatever a command threw into a CliError with the right exit code and a message a person can act on. */
export function toCliError(error: unknown, context: { apiUrl: string }): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ArchiveError) {
    const hint =
      error.code === "archive_wrong_keys" || error.code === "archive_no_keys"
        ? " (use the identity that exported it: --key-file or XMTP_PRIVATE_KEY)"
        : "";
    return new CliError("ARCHIVE", `${error.message}${hint} [${error.code}]`, { cause: error });
  }
  // Before the network check: a name's RPC that is down is not the node being down.
  if (error instanceof NameResolutionError) {
    return new CliError(error instanceof InvalidNameError ? "INVALID_ADDRESS" : "NAME", `${error.message} [${error.code}]`, { cause: error });
  }
  const networkCode = networkErrorCode(error);
  if (networkCode) {
    return new CliError("NODE_UNREACHABLE", `cannot reach the node at ${context.apiUrl} (${networkCode})`, {
      cause: error,
    });
  }
  // The client's ApiError keeps the node's own words in serverMessage; its message adds call and status.
  const status = grpcStatusOf(error);
  if (status) {
    if (status.code === GrpcCode.UNAVAILABLE) {
      return new CliError("NODE_UNREACHABLE", `the node at ${context.apiUrl} is unavailable: ${status.message}`, {
        cause: error,
      });
    }
    const name = GRPC_CODE_NAMES[status.code] ?? `code ${status.code}`;
    return new CliError("NODE_ERROR", `the node at ${context.apiUrl} refused the request (${name}): ${status.message}`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError("INTERNAL", message, { cause: error });
}
