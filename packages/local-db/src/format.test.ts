import { describe, expect, it } from "vitest";
import { CURRENT_FORMAT, parseStoredFormat, planOpen, type FormatMigration, type LocalDbFormat } from "./format.js";

const step = (from: number): FormatMigration => ({ from, description: `step ${from}`, sqlite() {}, indexedDb() {} });
const format3: LocalDbFormat = { version: 3, migrations: [step(1), step(2)] };

describe("planOpen", () => {
  it("is format 1 today, with no migration", () => {
    expect(CURRENT_FORMAT).toEqual({ version: 1, migrations: [] });
  });

  it("creates an empty store, uses the current format, refuses a newer one", () => {
    expect(planOpen({ kind: "empty" }, format3)).toEqual({ kind: "create" });
    expect(planOpen({ kind: "versioned", format: 3 }, format3)).toEqual({ kind: "use" });
    expect(planOpen({ kind: "versioned", format: 4 }, format3)).toEqual({ kind: "newer", format: 4 });
  });

  it("migrates through every step in order, from any older format that has them", () => {
    const fromOne = planOpen({ kind: "versioned", format: 1 }, format3);
    expect(fromOne.kind === "migrate" && fromOne.steps.map((s) => s.from)).toEqual([1, 2]);
    const fromTwo = planOpen({ kind: "versioned", format: 2 }, format3);
    expect(fromTwo.kind === "migrate" && fromTwo.steps.map((s) => s.from)).toEqual([2]);
  });

  it("resets a store with a gap in its steps, format 0, or an unknown shape", () => {
    const gap: LocalDbFormat = { version: 3, migrations: [step(2)] };
    expect(planOpen({ kind: "versioned", format: 1 }, gap)).toMatchObject({ kind: "reset", reason: expect.stringMatching(/format 1, which has no migration to format 3/) });
    expect(planOpen({ kind: "versioned", format: 0 }, CURRENT_FORMAT)).toMatchObject({ kind: "reset" });
    expect(planOpen({ kind: "unknown", description: "tables x" }, CURRENT_FORMAT)).toMatchObject({
      kind: "reset",
      reason: "the store had an unknown older shape (tables x); it was emptied",
    });
  });

  it("reads stored format numbers of either SQLite type, and nothing else", () => {
    expect(parseStoredFormat(1)).toBe(1);
    expect(parseStoredFormat(1n)).toBe(1);
    expect(parseStoredFormat(1.5)).toBeUndefined();
    expect(parseStoredFormat("1")).toBeUndefined();
    expect(parseStoredFormat(-1)).toBeUndefined();
  });
});
