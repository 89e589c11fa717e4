// Why a name gave no address. Each is an XmtpClientError with a stable code (README "Names"); none ever carries a
// guessed address.
import { XmtpClientError, type NameErrorCode } from "../errors/XmtpClientError.js";

export abstract class NameResolutionError extends XmtpClientError {
  abstract override readonly code: NameErrorCode;
  /** The name as the app gave it. */
  readonly input: string;

  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.input = input;
  }
}

/** Not a name a name system could hold: empty, no dot, an empty label, or characters ENS normalization refuses. */
export class InvalidNameError extends NameResolutionError {
  readonly code = "invalid_name";
  constructor(input: string, reason: string) {
    super(input, `${JSON.stringify(input)} is not a name (${reason}); expected a name like alice.eth or a 0x address`);
    this.name = "InvalidNameError";
  }
}

/** The name resolves to no address (not registered, no resolver, or no address record). */
export class NameNotFoundError extends NameResolutionError {
  readonly code = "name_not_found";
  constructor(input: string, where: string) {
    super(input, `${input} does not resolve to an address (${where})`);
    this.name = "NameNotFoundError";
  }
}

/** The name system could not be asked: its Ethereum JSON-RPC is down, timed out, or answered with an error. */
export class NameRpcError extends NameResolutionError {
  readonly code = "name_rpc_failed";
  /** The JSON-RPC endpoint that failed. */
  readonly rpcUrl: string;
  /** What failed, in a word or two (ECONNREFUSED, timeout, the RPC's error). */
  readonly reason: string;

  /** `action`: what was being done with `input`, as the message says it ("resolve", "look up the name of"). */
  constructor(input: string, rpcUrl: string, reason: string, cause?: unknown, action = "resolve") {
    super(input, `cannot ${action} ${input}: the Ethereum JSON-RPC at ${rpcUrl} failed (${reason})`, { cause });
    this.name = "NameRpcError";
    this.rpcUrl = rpcUrl;
    this.reason = reason;
  }
}

/** A name was given where an address is needed, and the client has no `nameResolver`. */
export class NoNameResolverError extends NameResolutionError {
  readonly code = "no_name_resolver";
  constructor(input: string) {
    super(
      input,
      `${JSON.stringify(input)} is a name, not a 0x address, and this client has no nameResolver to resolve it ` +
        `(Client.create(..., { nameResolver: new EnsNameResolver({ rpcUrl }) }))`,
    );
    this.name = "NoNameResolverError";
  }
}
