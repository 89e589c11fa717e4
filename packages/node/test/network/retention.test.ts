// Two real node processes with different retention policies (docs/storage.md §4): A keeps everything, B keeps v2
// messages a day. B never stores the older envelopes A relays and offers by catch-up, however many catch-up rounds
// pass (no ping-pong), and A keeps all of them.
import "../../src/p2p/promiseWithResolvers.js";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createIdentity, envelopeJson, publish } from "../http/helpers.js";
import { metricsText, sample } from "../security/helpers.js";
import { eventually, keysOf, queryAll, startRelayNode, type RelayNode } from "./support.js";

const running: RelayNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.dispose()));
});

const DAY_NS = 86_400n * 1_000_000_000n;

describe("peers with different retention policies", () => {
  it("the shorter policy never imports what it expired, across relay and repeated catch-up, and the longer keeps it", async () => {
    const a = await startRelayNode();
    running.push(a);
    const b = await startRelayNode({ peers: [a.multiaddr], extraArgs: ["--retention", "v2-messages=1d", "--prune-interval-ms", "200"] });
    running.push(b);
    const alice = await createIdentity();
    const topic = `/xmtp/0/m-retention-${randomBytes(6).toString("hex")}/proto`;
    const now = BigInt(Date.now()) * 1_000_000n;
    const old = Array.from({ length: 5 }, (_, i) => envelopeJson(topic, now - 3n * DAY_NS + BigInt(i), randomBytes(32)));
    const recent = Array.from({ length: 5 }, (_, i) => envelopeJson(topic, now + BigInt(i), randomBytes(32)));
    for (const envelope of [...old, ...recent]) {
      const answer = await publish(a, [envelope], alice.token());
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    await eventually(async () => (await queryAll(b, topic)).length === 5, "the recent envelopes at B");
    // Let several catch-up rounds (every 500 ms) and pruning passes (every 200 ms) go by.
    const refusedAfter = async () => sample(await metricsText(b), 'xmtp_retention_refused_total{class="v2-messages"}') ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const refused = await refusedAfter();
    expect(refused).toBeGreaterThanOrEqual(5);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // No ping-pong: later rounds offer nothing new, so nothing more is refused.
    expect(await refusedAfter()).toBe(refused);
    expect(keysOf(await queryAll(b, topic))).toEqual(keysOf(recent));
    // B never stored an old one, so its pruner had nothing to delete.
    expect(sample(await metricsText(b), 'xmtp_retention_pruned_envelopes_total{class="v2-messages"}') ?? 0).toBe(0);
    expect(keysOf(await queryAll(a, topic))).toEqual(keysOf([...old, ...recent]));
  });
});
