import { describe, expect, it } from "vitest";
import { GrpcCode } from "../errors.js";
import { createJsonLogger } from "../log.js";
import { RefusalLog, refusalKindOf } from "./refusalLog.js";

/** A RefusalLog on a JSON logger at info level, a clock the test moves, and timers the test fires. */
function harness(options: { maxPerWindow?: number } = {}) {
  const lines: Record<string, unknown>[] = [];
  let nowMs = 1_000_000;
  const timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  const log = new RefusalLog({
    logger: createJsonLogger({ level: "info", sink: { write: (line: string) => lines.push(JSON.parse(line)) } }),
    maxPerWindow: options.maxPerWindow,
    now: () => nowMs,
    schedule(run, delayMs) {
      const timer = { at: nowMs + delayMs, run, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  });
  /** Moves the clock, firing the timers that are due, in order. */
  const advance = (ms: number) => {
    nowMs += ms;
    for (const timer of timers.filter((t) => !t.cancelled && t.at <= nowMs).sort((a, b) => a.at - b.at)) {
      timer.cancelled = true;
      timer.run();
    }
  };
  const refused = (lines: Record<string, unknown>[], kind: string) =>
    lines.filter((line) => line.kind === kind && line.msg === "request refused").length;
  const suppressed = (lines: Record<string, unknown>[], kind: string) =>
    lines
      .filter((line) => line.kind === kind && typeof line.suppressed === "number")
      .reduce((sum, line) => sum + (line.suppressed as number), 0);
  /** Moves the clock without firing timers (an event loop too busy to run them yet). */
  const jump = (ms: number) => {
    nowMs += ms;
  };
  return { log, lines, advance, jump, refused, suppressed, pendingTimers: () => timers.filter((t) => !t.cancelled).length };
}

describe("RefusalLog", () => {
  it("logs the first refusals of a second at info, then one summary with the count of the rest", () => {
    const { log, lines, advance } = harness();
    for (let i = 0; i < 10_000; i++) log.refused("auth", "request refused", { requestId: `r${i}`, status: 401 });
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatchObject({ level: "info", msg: "request refused", kind: "auth", requestId: "r0", status: 401 });
    expect(lines[9]).toMatchObject({ requestId: "r9" });

    advance(999);
    expect(lines).toHaveLength(10);
    advance(1);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatchObject({ level: "info", msg: "suppressed 9990 similar refusals", kind: "auth", suppressed: 9990, windowMs: 1000 });
  });

  it("keeps a sustained flood to (limit + 1) lines per second per kind, and every refusal is counted once", () => {
    const { log, lines, advance, refused, suppressed, pendingTimers } = harness({ maxPerWindow: 5 });
    let sent = 0;
    // 60 seconds of 1,000 refusals a second of two kinds, spread over each second.
    for (let second = 0; second < 60; second++) {
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < 10; j++) {
          log.refused("limit", "request refused", { status: 429 });
          log.refused("bad_input", "request refused", { status: 400 });
          sent++;
        }
        advance(10);
      }
    }
    log.flush();
    expect(pendingTimers()).toBe(0);
    for (const kind of ["limit", "bad_input"]) {
      const kindLines = lines.filter((line) => line.kind === kind);
      expect(kindLines.length).toBeLessThanOrEqual(60 * (5 + 1));
      expect(refused(lines, kind)).toBe(60 * 5);
      expect(refused(lines, kind) + suppressed(lines, kind)).toBe(sent);
    }
    expect(lines.every((line) => line.level === "info")).toBe(true);
  });

  it("counts kinds apart: a flood of one does not hide another", () => {
    const { log, lines } = harness({ maxPerWindow: 3 });
    for (let i = 0; i < 100; i++) log.refused("auth", "request refused", {});
    log.refused("denied", "request refused", { error: "wallet 0xAbc is on this node's denylist" });
    expect(lines.filter((line) => line.kind === "auth")).toHaveLength(3);
    expect(lines.filter((line) => line.kind === "denied")).toEqual([
      expect.objectContaining({ msg: "request refused", error: "wallet 0xAbc is on this node's denylist" }),
    ]);
  });

  it("writes no summary when nothing was suppressed, and starts a new window after a quiet spell", () => {
    const { log, lines, advance, pendingTimers } = harness({ maxPerWindow: 2 });
    log.refused("auth", "request refused", {});
    log.refused("auth", "request refused", {});
    expect(pendingTimers()).toBe(0);
    advance(5_000);
    log.refused("auth", "request refused", {});
    log.refused("auth", "request refused", {});
    log.refused("auth", "request refused", {});
    expect(lines.map((line) => line.msg)).toEqual(["request refused", "request refused", "request refused", "request refused"]);
    log.flush();
    expect(lines.at(-1)).toMatchObject({ msg: "suppressed 1 similar refusals", suppressed: 1 });
    log.flush();
    expect(lines).toHaveLength(5);
  });

  it("sums up a window when the next refusal comes after it ended, even if its timer has not run yet", () => {
    const { log, lines, jump } = harness({ maxPerWindow: 1 });
    log.refused("auth", "request refused", {});
    log.refused("auth", "request refused", {});
    const before = lines.length;
    jump(1_500);
    log.refused("auth", "request refused", { requestId: "late" });
    expect(lines.slice(before)).toEqual([
      expect.objectContaining({ msg: "suppressed 1 similar refusals" }),
      expect.objectContaining({ msg: "request refused", requestId: "late" }),
    ]);
  });

  it("writes a kind's lines and its summary at the level asked (warn for a store that cannot answer)", () => {
    const { log, lines, advance } = harness({ maxPerWindow: 2 });
    for (let i = 0; i < 5; i++) log.refused("storage_unavailable", "storage unavailable", { operation: "append" }, "warn");
    advance(1_000);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ["warn", "storage unavailable"],
      ["warn", "storage unavailable"],
      ["warn", "suppressed 3 similar refusals"],
    ]);
  });

  it("names the kind of a refusal from its code", () => {
    expect(refusalKindOf(GrpcCode.UNAUTHENTICATED, 401)).toBe("auth");
    expect(refusalKindOf(GrpcCode.PERMISSION_DENIED, 403)).toBe("denied");
    expect(refusalKindOf(GrpcCode.RESOURCE_EXHAUSTED, 429)).toBe("limit");
    expect(refusalKindOf(GrpcCode.RESOURCE_EXHAUSTED, 413)).toBe("limit");
    expect(refusalKindOf(GrpcCode.FAILED_PRECONDITION, 402)).toBe("postage");
    expect(refusalKindOf(GrpcCode.INVALID_ARGUMENT, 400)).toBe("bad_input");
    expect(refusalKindOf(GrpcCode.UNIMPLEMENTED, 405)).toBe("bad_input");
    expect(refusalKindOf(GrpcCode.NOT_FOUND, 404)).toBe("not_found");
    expect(refusalKindOf(GrpcCode.UNAVAILABLE, 503)).toBe("unavailable");
    expect(refusalKindOf(GrpcCode.INTERNAL, 500)).toBe("other");
  });
});
