// The classification of PostgreSQL errors into faults (503, retry) and everything else (unchanged), on forged
// error objects shaped like the ones node-postgres, pg-pool, the server and Node's sockets produce.
import { describe, expect, it } from "vitest";
import { asStoreError, describePostgresFault } from "./postgresFaults.js";
import { StoreUnavailableError } from "./storeErrors.js";

/** A server error as node-postgres makes it (DatabaseError: message, code = SQLSTATE, severity). */
const serverError = (code: string, message: string, severity = "ERROR") =>
  Object.assign(new Error(message), { code, severity, name: "error" });
/** A socket error as Node makes it. */
const socketError = (code: string, syscall = "read") =>
  Object.assign(new Error(`${syscall} ${code}`), { code, errno: -1, syscall });

describe("describePostgresFault", () => {
  it.each([
    ["08006", "connection failure", "PostgreSQL connection lost"],
    ["08001", "could not establish connection", "PostgreSQL connection lost"],
    ["57P01", "terminating connection due to unexpected postmaster exit", "PostgreSQL is shutting down"],
    ["57P01", "terminating connection due to administrator command", "PostgreSQL is shutting down"],
    ["57P02", "terminating connection because of crash of another server process", "PostgreSQL restarted after a crash"],
    ["57P03", "the database system is in recovery mode", "PostgreSQL is not accepting connections yet"],
    ["53100", 'could not extend file "base/1/2": No space left on device', "PostgreSQL is out of resources"],
    ["53300", "sorry, too many clients already", "PostgreSQL is out of resources"],
    ["53200", "out of memory", "PostgreSQL is out of resources"],
    ["57014", "canceling statement due to statement timeout", "PostgreSQL statement timed out"],
    ["25P03", "terminating connection due to idle-in-transaction timeout", "PostgreSQL ended a transaction left idle too long"],
    ["25006", "cannot execute INSERT in a read-only transaction", "PostgreSQL is read-only (failing over?)"],
    ["58030", "could not write to file: Input/output error", "PostgreSQL I/O error"],
  ])("server error %s (%s) is a fault", (code, message, expected) => {
    expect(describePostgresFault(serverError(code, message, "FATAL"))).toBe(expected);
  });

  it.each(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"])(
    "socket error %s is a fault",
    (code) => {
      expect(describePostgresFault(socketError(code))).toMatch(/^PostgreSQL /);
    },
  );

  it("a missing Unix socket while connecting is a fault; ENOENT elsewhere is not", () => {
    expect(describePostgresFault(socketError("ENOENT", "connect"))).toBe("PostgreSQL refused the connection");
    expect(describePostgresFault(socketError("ENOENT", "open"))).toBeUndefined();
  });

  it.each([
    ["Connection terminated unexpectedly", "PostgreSQL connection lost"],
    ["Connection terminated", "PostgreSQL connection lost"],
    ["Connection terminated due to connection timeout", "PostgreSQL connection timed out"],
    ["timeout exceeded when trying to connect", "PostgreSQL connection timed out"],
    ["timeout expired", "PostgreSQL connection timed out"],
    ["Query read timeout", "PostgreSQL did not answer in time"],
    ["Client has encountered a connection error and is not queryable", "PostgreSQL connection lost"],
  ])("node-postgres message %j is a fault", (message, expected) => {
    expect(describePostgresFault(new Error(message))).toBe(expected);
  });

  it("looks into causes and aggregate errors", () => {
    const timeout = new Error("Connection terminated due to connection timeout", { cause: new Error("Connection terminated unexpectedly") });
    expect(describePostgresFault(timeout)).toBe("PostgreSQL connection timed out");
    const wrapped = new Error("something went wrong", { cause: socketError("ECONNRESET") });
    expect(describePostgresFault(wrapped)).toBe("PostgreSQL connection lost");
    const both = Object.assign(new AggregateError([socketError("ECONNREFUSED", "connect"), socketError("ECONNREFUSED", "connect")], ""), {
      code: undefined,
    });
    expect(describePostgresFault(both)).toBe("PostgreSQL refused the connection");
  });

  it.each([
    ["23505", 'duplicate key value violates unique constraint "envelopes_digest_key"'],
    ["42P01", 'relation "envelopes" does not exist'],
    ["22003", "value out of range"],
    ["40P01", "deadlock detected"],
    ["XX000", "internal error"],
    // A server error's code decides, whatever its message says.
    ["42601", "Connection terminated unexpectedly"],
  ])("server error %s (%s) is not a fault", (code, message) => {
    expect(describePostgresFault(serverError(code, message))).toBeUndefined();
  });

  it("bugs and odd values are not faults", () => {
    expect(describePostgresFault(new TypeError("Cannot read properties of undefined (reading 'rows')"))).toBeUndefined();
    expect(describePostgresFault(new Error("envelope store is closed"))).toBeUndefined();
    expect(describePostgresFault(socketError("EACCES", "connect"))).toBeUndefined();
    expect(describePostgresFault(undefined)).toBeUndefined();
    expect(describePostgresFault("ECONNRESET")).toBeUndefined();
    expect(describePostgresFault({ code: 42 })).toBeUndefined();
  });

  it("stops on a cause cycle", () => {
    const a: { message: string; cause?: unknown } = { message: "a" };
    a.cause = { message: "b", cause: a };
    expect(describePostgresFault(a)).toBeUndefined();
  });
});

describe("asStoreError", () => {
  it("turns a fault into StoreUnavailableError naming the fault, with the original as cause", () => {
    const original = new Error("Connection terminated unexpectedly");
    const error = asStoreError(original, "write");
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).operation).toBe("write");
    expect((error as Error).message).toBe("PostgreSQL connection lost: Connection terminated unexpectedly");
    expect((error as Error).cause).toBe(original);
  });

  it("shows the SQLSTATE of a server fault and the operation", () => {
    const error = asStoreError(serverError("53100", "could not extend file: No space left on device"), "read") as StoreUnavailableError;
    expect(error.operation).toBe("read");
    expect(error.message).toBe("PostgreSQL is out of resources: could not extend file: No space left on device (53100)");
  });

  it("says a lost COMMIT's outcome is unknown", () => {
    const error = asStoreError(socketError("ECONNRESET"), "write", "COMMIT (it may or may not have been applied)") as Error;
    expect(error.message).toBe("PostgreSQL connection lost during COMMIT (it may or may not have been applied): read ECONNRESET");
  });

  it("returns anything else unchanged", () => {
    const bug = new TypeError("x is not a function");
    expect(asStoreError(bug, "read")).toBe(bug);
    const constraint = serverError("23505", "duplicate key");
    expect(asStoreError(constraint, "write")).toBe(constraint);
    const already = new StoreUnavailableError("disk gone", "write");
    expect(asStoreError(already, "read")).toBe(already);
  });
});
