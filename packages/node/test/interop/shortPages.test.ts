// Interop: the public SDK (@xmtp/xmtp-js 13.0.4) against a node whose query pages are cut short by bytes
// (--max-page-bytes at its minimum, 1024): a page ends with the envelope that reaches the budget and carries a
// cursor although it holds fewer envelopes than the SDK asked for, and the SDK must follow that cursor (docs/protocol/api.md §2,
// loop rule) to get every message of the conversation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { createClient, newWallet, rawQuery, sdk, startInteropNode, texts, type SdkConversation } from "./sdk.js";

const COUNT = 9;
let node: RunningNode;
let aliceSide: SdkConversation;
let bobSide: SdkConversation;
const expected = Array.from({ length: COUNT }, (_, i) => `message ${i + 1} ${"x".repeat(i % 3 === 0 ? 600 : 20)}`);

beforeAll(async () => {
  node = await startInteropNode(["--max-page-bytes", "1024"]);
  const [alice, bob] = await Promise.all([createClient(node, newWallet()), createClient(node, newWallet())]);
  aliceSide = await alice.conversations.newConversation(bob.address);
  const base = Date.now() - 60_000;
  for (const [i, text] of expected.entries()) await aliceSide.send(text, { timestamp: new Date(base + i * 1_000) });
  const found = (await bob.conversations.list()).find((c) => c.topic === aliceSide.topic);
  if (!found) throw new Error(`bob does not list ${aliceSide.topic}`);
  bobSide = found;
}, 120_000);

afterAll(async () => {
  await node?.dispose();
});

async function pages(conversation: SdkConversation, options: Parameters<SdkConversation["messagesPaginated"]>[0]) {
  const result: unknown[][] = [];
  for await (const page of conversation.messagesPaginated(options)) result.push(texts(page));
  return result;
}

describe("pages cut short by --max-page-bytes", () => {
  it("are what the node serves for this conversation: fewer envelopes than asked, with a cursor", async () => {
    const first = await fetch(`${node.url}/message/v1/query`, {
      method: "POST",
      body: JSON.stringify({ contentTopics: [aliceSide.topic], pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING" } }),
    }).then((r) => r.json() as Promise<{ envelopes: unknown[]; pagingInfo: { cursor: unknown } }>);
    expect(first.envelopes.length).toBeGreaterThan(0);
    expect(first.envelopes.length).toBeLessThan(COUNT);
    expect(first.pagingInfo.cursor).not.toBeNull();
    expect(await rawQuery(node, aliceSide.topic)).not.toHaveLength(COUNT);
  });

  it("still give the SDK's messages() every message, in order, on both sides", async () => {
    expect(texts(await bobSide.messages())).toEqual(expected);
    expect(texts(await aliceSide.messages())).toEqual(expected);
    const descending = await bobSide.messages({ direction: sdk.SortDirection.SORT_DIRECTION_DESCENDING });
    expect(texts(descending)).toEqual([...expected].reverse());
  });

  it("still give messagesPaginated every message once, over more pages than the page size alone would need", async () => {
    for (const [direction, order] of [
      [sdk.SortDirection.SORT_DIRECTION_ASCENDING, expected],
      [sdk.SortDirection.SORT_DIRECTION_DESCENDING, [...expected].reverse()],
    ] as const) {
      const got = await pages(bobSide, { pageSize: 100, direction });
      expect(got.length).toBeGreaterThan(1);
      expect(got.flat()).toEqual(order);
    }
    // The page size still applies: pages of at most 2, and the byte budget splits them further.
    const small = await pages(bobSide, { pageSize: 2, direction: sdk.SortDirection.SORT_DIRECTION_ASCENDING });
    expect(small.every((page) => page.length <= 2)).toBe(true);
    expect(small.flat()).toEqual(expected);
  });
});
