import { describe, expect, it } from "vitest";
import type { PruneResult, RetentionRule } from "../store/EnvelopeStore.js";
import { parseRetentionPolicy } from "./retentionPolicy.js";
import { RetentionPruner } from "./retentionPruner.js";

const DAY_NS = 86_400n * 1_000_000_000n;

/** A store with `backlog[prefix]` prunable envelopes of 10 bytes each, recording every call. */
function scriptedStore(backlog: Record<string, number>, failAfterCalls = Infinity) {
  const calls: Array<{ rule: RetentionRule; limit: number }> = [];
  return {
    calls,
    async prune(rule: RetentionRule, limit: number): Promise<PruneResult> {
      calls.push({ rule, limit });
      if (calls.length > failAfterCalls) throw new Error("disk gone");
      const left = backlog[rule.topicPrefix] ?? 0;
      const envelopes = Math.min(left, limit);
      backlog[rule.topicPrefix] = left - envelopes;
      return { envelopes, messageBytes: envelopes * 10 };
    },
  };
}

describe("retention pruner", () => {
  it("prunes each class that is not kept forever in batches until a batch comes back short", async () => {
    const store = scriptedStore({ "/xmtp/0/m-": 25, "/xmtp/0/contact-": 3 });
    const pruned: Array<[string, number]> = [];
    const pruner = new RetentionPruner({
      store,
      policy: parseRetentionPolicy("v2-messages=1d,contact=newest:1"),
      clock: { nowNs: () => 10n * DAY_NS },
      batchSize: 10,
      onPruned: (name, result) => pruned.push([name, result.envelopes]),
    });
    const summary = await pruner.runPass();
    expect(summary).toEqual({
      contact: { envelopes: 3, messageBytes: 30 },
      "v2-messages": { envelopes: 25, messageBytes: 250 },
    });
    // Three batches for 25 (10, 10, 5), one for 3; the classes kept forever are never asked about.
    expect(store.calls.map((c) => [c.rule.topicPrefix, c.limit])).toEqual([
      ["/xmtp/0/contact-", 10],
      ["/xmtp/0/m-", 10],
      ["/xmtp/0/m-", 10],
      ["/xmtp/0/m-", 10],
    ]);
    expect(store.calls[1].rule).toEqual({ topicPrefix: "/xmtp/0/m-", olderThanNs: 9n * DAY_NS });
    expect(pruned).toEqual([["contact", 3], ["v2-messages", 10], ["v2-messages", 10], ["v2-messages", 5]]);
    // Nothing left: the next pass deletes nothing.
    expect(await pruner.runPass()).toEqual({});
  });

  it("ends a pass when the store fails, and the next pass goes on where the work is", async () => {
    const store = scriptedStore({ "/xmtp/0/m-": 25 }, 1);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error() {}, child: () => logger };
    const pruner = new RetentionPruner({
      store,
      policy: parseRetentionPolicy("v2-messages=1d"),
      clock: { nowNs: () => 10n * DAY_NS },
      batchSize: 10,
      logger,
    });
    expect(await pruner.runPass()).toEqual({});
    expect(warnings).toEqual(["retention pass failed; the next pass retries"]);
    expect(store.calls).toHaveLength(2);
  });

  it("shares a pass in progress and stops between batches once closed", async () => {
    const store = scriptedStore({ "/xmtp/0/m-": 1_000 });
    const pruner = new RetentionPruner({
      store,
      policy: parseRetentionPolicy("v2-messages=1d"),
      clock: { nowNs: () => 10n * DAY_NS },
      batchSize: 10,
    });
    const first = pruner.runPass();
    expect(pruner.runPass()).toBe(first);
    await pruner.close();
    await first;
    expect(store.calls.length).toBeLessThan(100);
  });

  it("close() ends a pass that is pausing between batches at once, without waiting for the pause", async () => {
    // Each batch takes about 20 ms; at a duty cycle of 0.001 the pause after it would be about 20 s.
    const store = scriptedStore({ "/xmtp/0/m-": 1_000 });
    const slowStore = {
      prune: async (rule: RetentionRule, limit: number) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return store.prune(rule, limit);
      },
    };
    const pruner = new RetentionPruner({
      store: slowStore,
      policy: parseRetentionPolicy("v2-messages=1d"),
      clock: { nowNs: () => 10n * DAY_NS },
      batchSize: 10,
      dutyCycle: 0.001,
    });
    const pass = pruner.runPass();
    while (store.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // One batch done, the pruner pausing: close() must not wait ~20 s (the test's own timeout is 5 s).
    await pruner.close();
    await pass;
    expect(store.calls).toHaveLength(1);
  });

  it("refuses a batch size that is not a positive integer", () => {
    const make = (batchSize: number) =>
      new RetentionPruner({ store: scriptedStore({}), policy: parseRetentionPolicy(""), clock: { nowNs: () => 0n }, batchSize });
    expect(() => make(0)).toThrow(/positive integer/);
    expect(() => make(1.5)).toThrow(/positive integer/);
    const withDuty = (dutyCycle: number) =>
      new RetentionPruner({ store: scriptedStore({}), policy: parseRetentionPolicy(""), clock: { nowNs: () => 0n }, dutyCycle });
    expect(() => withDuty(0)).toThrow(/dutyCycle/);
    expect(() => withDuty(1.5)).toThrow(/dutyCycle/);
    expect(() => withDuty(1)).not.toThrow();
  });
});
