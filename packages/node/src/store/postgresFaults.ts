// Which PostgreSQL errors are faults of the database underneath (lost, restarting, hung, out of resources) rather
// than bugs or bad data. A fault becomes a StoreUnavailableError: the request in flight is answered 503 / UNAVAILABLE
// and the client retries; anything else propagates unchanged and stays a 500.
//
// The errors come from three places: the server (a DatabaseError carrying a SQLSTATE in `code`), Node's sockets (an
// errno name in `code`, e.g. ECONNRESET) and node-postgres itself (plain Errors known only by their message).
import { StoreUnavailableError, type StoreOperation } from "./storeErrors.js";

/** Socket errors meaning the server cannot be reached or the connection broke. */
const SOCKET_FAULTS: Record<string, string> = {
  ECONNREFUSED: "PostgreSQL refused the connection",
  ECONNRESET: "PostgreSQL connection lost",
  ECONNABORTED: "PostgreSQL connection lost",
  EPIPE: "PostgreSQL connection lost",
  ETIMEDOUT: "PostgreSQL connection timed out",
  EHOSTUNREACH: "PostgreSQL host unreachable",
  EHOSTDOWN: "PostgreSQL host unreachable",
  ENETUNREACH: "PostgreSQL host unreachable",
  ENETDOWN: "PostgreSQL host unreachable",
  ENETRESET: "PostgreSQL connection lost",
  EADDRNOTAVAIL: "PostgreSQL host unreachable",
  // Name resolution that worked when the store opened and fails now is an outage of DNS, not a configuration error.
  ENOTFOUND: "PostgreSQL host name did not resolve",
  EAI_AGAIN: "PostgreSQL host name did not resolve",
};

/** Server errors (SQLSTATE) that are faults; classes are matched by their first two characters. */
const SQLSTATE_FAULTS: Record<string, string> = {
  "57P01": "PostgreSQL is shutting down",
  "57P02": "PostgreSQL restarted after a crash",
  "57P03": "PostgreSQL is not accepting connections yet",
  "57P05": "PostgreSQL closed an idle connection",
  "57014": "PostgreSQL statement timed out",
  "25P03": "PostgreSQL ended a transaction left idle too long",
  "58030": "PostgreSQL I/O error",
  // Writing to a server that is (or has just become) a standby: a failover in progress.
  "25006": "PostgreSQL is read-only (failing over?)",
};
const SQLSTATE_CLASS_FAULTS: Record<string, string> = {
  "08": "PostgreSQL connection lost",
  "53": "PostgreSQL is out of resources",
};

/** node-postgres and pg-pool messages (they carry no code). */
const DRIVER_MESSAGE_FAULTS: Array<[RegExp, string]> = [
  [/^Connection terminated due to connection timeout/, "PostgreSQL connection timed out"],
  [/^timeout exceeded when trying to connect/, "PostgreSQL connection timed out"],
  [/^timeout expired$/, "PostgreSQL connection timed out"],
  [/^Query read timeout/, "PostgreSQL did not answer in time"],
  [/^Connection terminated/, "PostgreSQL connection lost"],
  [/^Client has encountered a connection error and is not queryable/, "PostgreSQL connection lost"],
  [/^Client was closed and is not queryable/, "PostgreSQL connection lost"],
];

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * What kind of database fault `error` is ("PostgreSQL connection lost", …), or undefined when it is not one (a bug,
 * a constraint violation, bad input). Looks through `cause` chains and AggregateErrors (a connection attempt to
 * several addresses fails with one of those).
 */
export function describePostgresFault(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  if (error instanceof StoreUnavailableError) return "storage unavailable";
  const { code, message, syscall } = error as { code?: unknown; message?: unknown; syscall?: unknown };
  if (typeof code === "string") {
    if (Object.hasOwn(SOCKET_FAULTS, code)) return SOCKET_FAULTS[code];
    // A Unix-domain socket file that is gone while the server restarts.
    if (code === "ENOENT" && syscall === "connect") return "PostgreSQL refused the connection";
    if (SQLSTATE.test(code)) {
      if (Object.hasOwn(SQLSTATE_FAULTS, code)) return SQLSTATE_FAULTS[code];
      const byClass = SQLSTATE_CLASS_FAULTS[code.slice(0, 2)];
      // A server error that is not a fault (e.g. 23505) is decided here: its message cannot make it one.
      return byClass;
    }
  }
  if (typeof message === "string") {
    for (const [pattern, description] of DRIVER_MESSAGE_FAULTS) if (pattern.test(message)) return description;
  }
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) {
    for (const inner of nested) {
      const description = describePostgresFault(inner, depth + 1);
      if (description) return description;
    }
  }
  return describePostgresFault((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * The error to throw for `error` met while doing `operation`: a StoreUnavailableError naming the fault, or `error`
 * itself when it is not a database fault. `during` names the statement when that matters to the reader (COMMIT).
 */
export function asStoreError(error: unknown, operation: StoreOperation, during?: string): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const fault = describePostgresFault(error);
  if (!fault) return error;
  const detail = error instanceof Error ? error.message : String((error as { message?: unknown }).message ?? error);
  const code = (error as { code?: unknown }).code;
  const shownCode = typeof code === "string" && SQLSTATE.test(code) && !detail.includes(code) ? ` (${code})` : "";
  const where = during ? ` during ${during}` : "";
  return new StoreUnavailableError(`${fault}${where}: ${detail}${shownCode}`, operation, { cause: error });
}
