// Retention on a real in-process node over SQLite (docs/storage.md), with an injected clock: the pruner deletes
// what the policy expired and nothing else, every read path stops returning it, /metrics counts it, envelopes from
// peers that the policy has already expired are not imported, and `xmtp-node retention report` predicts a pass.
import { afterEach, describe, expect, it } from "vitest";
import { withDigest } from "../../src/store/digest.js";
import { parseRetentionPolicy } from "../../src/retention/retentionPolicy.js";
import { DEFAULT_RETENTION_CONFIG } from "../../src/retention/retentionFlags.js";
import { runRetentionCommand } from "../../src/retention/retentionCommand.js";
import { bytesOf, createIdentity, envelopeJson, nowNs, post, publish, startTestNode, storedOn, type TestNode } from "../http/helpers.js";
import { metricsText, sample } from "../security/helpers.js";

const HOUR_NS = 3_600n * 1_000_000_000n;
const DAY_NS = 24n * HOUR_NS;
const text = (e: { message: Uint8Array }) => new TextDecoder().decode(e.message);

let node: TestNode | undefined;
afterEach(async () => {
  await node?.dispose();
  node = undefined;
});

/** A clock that runs with real time (auth tokens stay valid) plus an offset the test moves. */
function movableClock() {
  let offsetNs = 0n;
  return { nowNs: () => nowNs() + offsetNs, advance: (ns: bigint) => void (offsetNs += ns) };
}

describe("retention on a running node", () => {
  it("prunes by age and by newest:N, removes the envelopes from every read path, and counts them", async () => {
    const clock = movableClock();
    node = await startTestNode(
      { retention: { ...DEFAULT_RETENTION_CONFIG, policy: parseRetentionPolicy("v2-messages=1d,contact=newest:1"), pruneIntervalMs: 3_600_000 } },
      { clock },
    );
    const alice = await createIdentity();
    const t0 = nowNs();
    const messages = "/xmtp/0/m-retention-test/proto";
    const contact = `/xmtp/0/contact-${alice.address}/proto`;
    const invite = `/xmtp/0/invite-${alice.address}/proto`;
    const answer = await publish(
      node,
      [
        envelopeJson(messages, t0 - 3n * HOUR_NS, bytesOf("three hours ago")),
        envelopeJson(messages, t0 - 2n * HOUR_NS, bytesOf("two hours ago")),
        envelopeJson(messages, t0, bytesOf("now")),
        envelopeJson(contact, t0 - 2n, bytesOf("bundle 1")),
        envelopeJson(contact, t0 - 1n, bytesOf("bundle 2")),
        envelopeJson(contact, t0, bytesOf("bundle 3")),
        envelopeJson(invite, 1n, bytesOf("an invitation from long ago")),
      ],
      alice.token(),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);

    // Nothing is a day old yet; only the older contact bundles go.
    expect(await node.pruner!.runPass()).toEqual({ contact: { envelopes: 2, messageBytes: 16 } });
    expect((await storedOn(node, contact)).map(text)).toEqual(["bundle 3"]);
    expect(await storedOn(node, messages)).toHaveLength(3);

    // A day and 2.5 hours later (by the injected clock), the three-hour-old message has expired, the others not.
    clock.advance(DAY_NS - 5n * HOUR_NS / 2n);
    expect(await node.pruner!.runPass()).toEqual({ "v2-messages": { envelopes: 1, messageBytes: "three hours ago".length } });
    const queried = await post(node.url, "/message/v1/query", { contentTopics: [messages], pagingInfo: { direction: "SORT_DIRECTION_ASCENDING" } });
    expect(queried.body.envelopes.map((e: { message: string }) => Buffer.from(e.message, "base64").toString())).toEqual(["two hours ago", "now"]);
    const batch = await post(node.url, "/message/v1/batch-query", { requests: [{ contentTopics: [messages] }, { contentTopics: [contact] }] });
    expect(batch.body.responses.map((r: { envelopes: unknown[] }) => r.envelopes.length)).toEqual([2, 1]);
    // Catch-up offers to peers read by sequence: the pruned ones are not offered.
    const offered = await node.store.readDigestsSince(0n, 100);
    expect(offered.digests).toHaveLength(2 + 1 + 1);
    // Kept forever: the invitation, however old.
    expect((await storedOn(node, invite)).map(text)).toEqual(["an invitation from long ago"]);

    const metrics = await metricsText(node);
    expect(sample(metrics, 'xmtp_retention_pruned_envelopes_total{class="contact"}')).toBe(2);
    expect(sample(metrics, 'xmtp_retention_pruned_envelopes_total{class="v2-messages"}')).toBe(1);
    expect(sample(metrics, 'xmtp_retention_pruned_bytes_total{class="v2-messages"}')).toBe("three hours ago".length);
  });

  it("does not import from peers what its policy has already expired, and counts it", async () => {
    node = await startTestNode({ retention: { ...DEFAULT_RETENTION_CONFIG, policy: parseRetentionPolicy("v2-messages=1d") } });
    const topic = "/xmtp/0/m-retention-peer/proto";
    const old = withDigest({ contentTopic: topic, timestampNs: nowNs() - 2n * DAY_NS, message: bytesOf("old") });
    const recent = withDigest({ contentTopic: topic, timestampNs: nowNs() - HOUR_NS, message: bytesOf("recent") });
    const result = await node.ingest.ingest([old, recent], "peer");
    expect(result.expired).toBe(1);
    expect(result.delivered.map(text)).toEqual(["recent"]);
    expect((await storedOn(node, topic)).map(text)).toEqual(["recent"]);
    expect(sample(await metricsText(node), 'xmtp_retention_refused_total{class="v2-messages"}')).toBe(1);
    // A local publish is the client's own choice of timestamp: stored, and pruned by the next pass.
    expect((await node.ingest.ingest([old], "local")).delivered).toHaveLength(1);
  });

  it("keeps everything and runs no pruner by default", async () => {
    node = await startTestNode();
    expect(node.pruner).toBeUndefined();
    const topic = "/xmtp/0/m-retention-default/proto";
    const ancient = withDigest({ contentTopic: topic, timestampNs: 1n, message: bytesOf("ancient") });
    expect((await node.ingest.ingest([ancient], "peer")).expired).toBe(0);
    expect(await storedOn(node, topic)).toHaveLength(1);
  });

  it("retention report: predicts per class what a pass would delete, deletes nothing, refuses a missing data dir", async () => {
    node = await startTestNode();
    const alice = await createIdentity();
    const topic = "/xmtp/0/m-retention-report/proto";
    const t0 = nowNs();
    await publish(
      node,
      [envelopeJson(topic, t0 - 2n * HOUR_NS, bytesOf("two hours ago")), envelopeJson(topic, t0, bytesOf("now"))],
      alice.token(),
    );
    await node.close();
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), nowNs: () => t0 };
    const argv = ["report", "--data-dir", node.dataDir, "--retention", "v2-messages=1h,contact=newest:3"];
    expect(await runRetentionCommand([...argv, "--json"], {}, io)).toBe(0);
    const report = JSON.parse(out.join(""));
    const row = (name: string) => report.rows.find((r: { class: string }) => r.class === name);
    expect(row("v2-messages")).toEqual({ class: "v2-messages", retention: "1h", prunable: { envelopes: 1, messageBytes: "two hours ago".length } });
    expect(row("contact")).toEqual({ class: "contact", retention: "newest:3", prunable: { envelopes: 0, messageBytes: 0 } });
    expect(row("invite")).toEqual({ class: "invite", retention: "forever" });

    out.length = 0;
    expect(await runRetentionCommand(argv, {}, io)).toBe(0);
    expect(out.join("")).toMatch(/v2-messages\s+1h\s+1\s+13 B/);
    expect(out.join("")).toMatch(/Nothing was deleted/);

    // Nothing was deleted: a second report says the same.
    out.length = 0;
    expect(await runRetentionCommand([...argv, "--json"], {}, io)).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual(report);

    expect(await runRetentionCommand(["report", "--data-dir", node.dataDir + "-mistyped"], {}, io)).toBe(1);
    expect(err.join("")).toMatch(/there is no node database at .*-mistyped/);
    expect(await runRetentionCommand(["purge", "--data-dir", node.dataDir], {}, io)).toBe(2);
    expect(await runRetentionCommand(["report", "--retention", "v2=1d", "--data-dir", node.dataDir], {}, io)).toBe(2);
    expect(err.join("")).toMatch(/--retention: unknown topic class "v2"/);
  });
});
