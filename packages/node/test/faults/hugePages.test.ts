// Query amplification (issue #11, item 4): a topic of 100 envelopes of the largest size (1 MiB each) read by 12
// clients at once, each paging through all of it by cursor, against the real node binary. Pages are bounded by
// --max-page-bytes (default 4 MiB) and written envelope by envelope with backpressure, so the node's memory grows by
// a few pages per reader, not by whole 140 MB answers; a batch-query of such pages stays within --max-batch-bytes
// (default 16 MiB) instead of failing. Rate limits are off: this is about memory, not about the read-bytes limit.
//
// XMTP_TEST_NODE_BINARY runs it against another build (e.g. a copy of an older dist/main.js).
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { MAX_MESSAGE_BYTES } from "../../src/http/codec.js";
import { createIdentity, envelopeJson, publish } from "../http/helpers.js";
import { MiB, residentBytes, sampleRss } from "./support/rssSampler.js";

const TOPIC = "/xmtp/0/m-huge-pages/proto";
const ENVELOPES = 100;
const READERS = 12;
const MAX_RSS_GROWTH_BYTES = 400 * 1024 * 1024;
/** The node's defaults (--max-page-bytes, --max-batch-bytes). */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Which message this is: its length and a hash of its first 4 KiB of base64. The messages are random, so this tells
 * them apart, at a fraction of the cost of hashing 1.6 GB of base64 per run.
 */
const fingerprint = (base64: string) => `${base64.length}:${createHash("sha256").update(base64.slice(0, 4096)).digest("hex")}`;

let node: RunningNode | undefined;
/** Both node processes use this data dir; removed at the end (runningNode keeps a data dir it was given). */
const dataDir = mkdtempSync(join(tmpdir(), "xmtp-huge-pages-"));
/** Fingerprints of the published messages (their base64 as sent), not the messages, to keep this process small. */
const published = new Set<string>();

beforeAll(async () => {
  const first = await startNode({ dataDir, args: ["--rate-limits", "off"] });
  try {
    const alice = await createIdentity();
    // 5 envelopes (7 MB of JSON) per publish, under the 8 MiB body limit.
    for (let i = 0; i < ENVELOPES; i += 5) {
      const batch = Array.from({ length: 5 }, (_, j) => envelopeJson(TOPIC, BigInt(i + j + 1), randomBytes(MAX_MESSAGE_BYTES)));
      const res = await publish(first, batch, alice.token());
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const envelope of batch) published.add(fingerprint(envelope.message));
    }
  } finally {
    await first.stop();
  }
  // A fresh process on the same data: the readers' growth is measured from an idle node, not one still holding
  // the publishes' buffers.
  node = await startNode({ dataDir, args: ["--rate-limits", "off"] });
}, 180_000);

afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const cpuTotal = (usage: NodeJS.CpuUsage) => usage.user + usage.system;

interface QueryAnswer {
  envelopes?: { contentTopic: string; timestampNs: string; message: string }[];
  pagingInfo?: { cursor?: unknown };
}

/** One reader: pages through the topic by cursor as the SDK does (docs/protocol/api.md §2), keeping only fingerprints. */
async function readAll(direction: string, acceptEncoding: string): Promise<{ seen: string[]; pages: number }> {
  const seen: string[] = [];
  let cursor: unknown;
  for (let pages = 1; pages <= 2 * ENVELOPES; pages++) {
    const response = await fetch(`${node!.url}/message/v1/query`, {
      method: "POST",
      headers: { "accept-encoding": acceptEncoding },
      body: JSON.stringify({ contentTopics: [TOPIC], pagingInfo: { limit: 100, direction, ...(cursor ? { cursor } : {}) } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`query answered HTTP ${response.status}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text) as QueryAnswer;
    const envelopes = answer.envelopes ?? [];
    if (envelopes.length === 0) return { seen, pages };
    for (const envelope of envelopes) seen.push(fingerprint(envelope.message));
    cursor = answer.pagingInfo?.cursor;
    if (!cursor) return { seen, pages };
  }
  throw new Error("paging did not end");
}

describe("100 envelopes of 1 MiB on one topic", () => {
  it(`${READERS} concurrent readers each get every envelope, and the node's RSS grows by at most 400 MB`, async () => {
    const pid = node!.process.pid!;
    // Measured from the idle, freshly started node: code loaded on first use counts as the readers' growth too.
    const before = residentBytes(pid);
    const nodeCpuBefore = cpuSeconds(pid);
    const ownCpuBefore = process.cpuUsage();
    const sampler = sampleRss(pid, 50);
    let results: Array<{ seen: string[]; pages: number }>;
    try {
      results = await Promise.all(
        Array.from({ length: READERS }, (_, i) =>
          // Both directions; every fourth reader gzipped (as fetch asks by default), the others plain.
          readAll(i % 2 === 0 ? "SORT_DIRECTION_ASCENDING" : "SORT_DIRECTION_DESCENDING", i % 4 === 0 ? "gzip, deflate" : "identity"),
        ),
      );
    } finally {
      sampler.stop();
    }
    const peak = Math.max(sampler.peak(), residentBytes(pid));
    const growth = peak - before;
    console.log(
      `hugePages: RSS before the readers ${(before / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, ` +
        `growth ${(growth / MiB).toFixed(1)} MiB; pages per reader ${results.map((r) => r.pages).join(",")}; CPU: node ` +
        `${(cpuSeconds(pid) - nodeCpuBefore).toFixed(1)} s, readers ${(cpuTotal(process.cpuUsage(ownCpuBefore)) / 1e6).toFixed(1)} s`,
    );
    for (const [i, { seen }] of results.entries()) {
      expect(seen, `reader ${i}`).toHaveLength(ENVELOPES);
      expect(new Set(seen), `reader ${i}`).toEqual(published);
    }
    expect(growth).toBeLessThanOrEqual(MAX_RSS_GROWTH_BYTES);
  }, 240_000);

  it("a batch-query of 4 such pages answers 200 within the batch budget, at least one envelope per entry", async () => {
    const request = { contentTopics: [TOPIC], pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING" } };
    const response = await fetch(`${node!.url}/message/v1/batch-query`, {
      method: "POST",
      body: JSON.stringify({ requests: [request, request, request, request] }),
    });
    const text = await response.text();
    expect(response.status, text.slice(0, 300)).toBe(200);
    const entries = (JSON.parse(text) as { responses: QueryAnswer[] }).responses.map((r) => r.envelopes ?? []);
    const bytes = entries.map((list) => list.reduce((sum, e) => sum + Buffer.byteLength(e.message, "base64"), 0));
    // Each entry ends with the envelope that reaches min(4 MiB, what the entries before it left of 16 MiB):
    // 5 + 5 + 5 envelopes (15.7 MB), then 2 for the 1.05 MB left. Over the budget by less than one message.
    expect(entries.map((list) => list.length)).toEqual([5, 5, 5, 2]);
    for (const b of bytes) expect(b).toBeLessThan(MAX_PAGE_BYTES + MAX_MESSAGE_BYTES);
    expect(bytes.reduce((a, b) => a + b, 0)).toBeLessThan(MAX_BATCH_BYTES + MAX_MESSAGE_BYTES);
    for (const list of entries) expect(list.every((e) => published.has(fingerprint(e.message)))).toBe(true);
  }, 120_000);
});
