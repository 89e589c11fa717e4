import { describe, expect, it } from "vitest";
import { causeChain, MAX_CAUSE_CHAIN } from "./causeChain.js";

describe("causeChain", () => {
  it("lists the error and its causes, outermost first", () => {
    const inner = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const middle = new TypeError("fetch failed", { cause: inner });
    const outer = new Error("query failed", { cause: middle });
    expect(causeChain(outer)).toEqual([outer, middle, inner]);
  });

  it("takes any value, and stops at a missing cause", () => {
    expect(causeChain("just text")).toEqual(["just text"]);
    expect(causeChain({ code: 7, cause: null })).toEqual([{ code: 7, cause: null }]);
    expect(causeChain(undefined)).toEqual([]);
    expect(causeChain(null)).toEqual([]);
  });

  it("stops at a cycle", () => {
    const a: { cause?: unknown } = {};
    const b = { cause: a };
    a.cause = b;
    expect(causeChain(a)).toEqual([a, b]);
  });

  it("follows at most the limit", () => {
    let error: unknown = new Error("root");
    for (let i = 0; i < 20; i++) error = new Error(`wrap ${i}`, { cause: error });
    expect(causeChain(error)).toHaveLength(MAX_CAUSE_CHAIN);
    expect(causeChain(error, 3)).toHaveLength(3);
    expect((causeChain(error, 3)[2] as Error).message).toBe("wrap 17");
  });
});
