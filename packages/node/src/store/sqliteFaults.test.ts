import { describe, expect, it } from "vitest";
import { asSqliteFault, describeSqliteFault } from "./sqliteFaults.js";
import { StoreUnavailableError } from "./storeErrors.js";

/** An error shaped like better-sqlite3's SqliteError or a failed fs call. */
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("SQLite disk faults", () => {
  it.each([
    ["SQLITE_FULL", /disk is full/],
    ["SQLITE_IOERR_WRITE", /disk I\/O error/],
    ["SQLITE_IOERR_FSYNC", /disk I\/O error/],
    ["SQLITE_READONLY_DBMOVED", /read-only/],
    ["SQLITE_CANTOPEN", /cannot be opened/],
    ["SQLITE_BUSY", /locked/],
    ["ENOSPC", /disk is full/],
    ["EIO", /disk I\/O error/],
    ["EROFS", /read-only/],
  ])("%s is a fault, answered as unavailable", (code, description) => {
    expect(describeSqliteFault(coded(code))).toMatch(description);
    const fault = asSqliteFault(coded(code, "database or disk is full"), "write");
    expect(fault).toBeInstanceOf(StoreUnavailableError);
    expect(fault).toMatchObject({ operation: "write", message: expect.stringMatching(/^SQLite store cannot write: /) });
  });

  it.each([
    ["SQLITE_CONSTRAINT_UNIQUE"],
    ["SQLITE_ERROR"],
    ["SQLITE_MISUSE"],
    ["ENOENT"],
  ])("%s is not a fault: it stays what it is (a bug is a 500)", (code) => {
    const error = coded(code);
    expect(describeSqliteFault(error)).toBeUndefined();
    expect(asSqliteFault(error, "write")).toBe(error);
  });

  it("leaves errors without a code, and non-errors, alone", () => {
    const plain = new Error("SQLITE_FULL in the message only");
    expect(asSqliteFault(plain, "read")).toBe(plain);
    expect(describeSqliteFault("SQLITE_FULL")).toBeUndefined();
    expect(describeSqliteFault(null)).toBeUndefined();
  });
});
