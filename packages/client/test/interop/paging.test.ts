// conversation.messagesPaginated against a real node, page for page the same as the public SDK's on the same data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { SortDirection, type DecodedMessage } from "../../src/index.js";
import { node, ourClient, sdk, sdkClient } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

const contents = (pages: { content: unknown }[][]) => pages.map((page) => page.map((m) => m.content));

describe("messagesPaginated", () => {
  let ours: Awaited<ReturnType<typeof ourClient>>;
  let theirConversation: any;
  let sent: DecodedMessage[];

  beforeAll(async () => {
    ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    theirConversation = await theirs.conversations.newConversation(ours.address, { conversationId: "paging", metadata: {} });
    const [conversation] = await ours.conversations.list();
    sent = [];
    for (let i = 0; i < 7; i++) {
      // Alternate senders, so pages mix both sides; distinct milliseconds keep the order unambiguous.
      if (i % 2 === 0) await theirConversation.send(`m${i}`);
      else sent.push(await conversation.send(`m${i}`));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  });

  const ourConversation = async () => (await ours.conversations.list()).find((c) => c.context?.conversationId === "paging")!;

  it("without a direction pages in the node's default order (newest first), like the SDK", async () => {
    const conversation = await ourConversation();
    const pages = await collect(conversation.messagesPaginated({ pageSize: 3 }));
    expect(contents(pages)).toEqual([["m6", "m5", "m4"], ["m3", "m2", "m1"], ["m0"]]);
    expect(contents(await collect(theirConversation.messagesPaginated({ pageSize: 3 })))).toEqual(contents(pages));
    // Decoded and checked like messages(): the sender is recovered, and ids match what the sender computed.
    const flat = pages.flat();
    expect(flat.every((m) => m.error === undefined)).toBe(true);
    expect(flat.find((m) => m.content === "m1")!.senderAddress).toBe(ours.address);
    expect(flat.find((m) => m.content === "m1")!.id).toBe(sent[0].id);
    expect(flat.find((m) => m.content === "m0")!.senderAddress).toBe(theirConversation.clientAddress);
  });

  it("ascending, with the SDK's numeric SortDirection too, and the default page size of 100", async () => {
    const conversation = await ourConversation();
    const ascending = [["m0", "m1", "m2", "m3"], ["m4", "m5", "m6"]];
    expect(contents(await collect(conversation.messagesPaginated({ pageSize: 4, direction: "ascending" })))).toEqual(ascending);
    expect(
      contents(await collect(conversation.messagesPaginated({ pageSize: 4, direction: SortDirection.SORT_DIRECTION_ASCENDING }))),
    ).toEqual(ascending);
    expect(
      contents(await collect(theirConversation.messagesPaginated({ pageSize: 4, direction: sdk.SortDirection.SORT_DIRECTION_ASCENDING }))),
    ).toEqual(ascending);
    expect(contents(await collect(conversation.messagesPaginated()))).toEqual([["m6", "m5", "m4", "m3", "m2", "m1", "m0"]]);
  });

  it("keeps to startTime and endTime (inclusive)", async () => {
    const conversation = await ourConversation();
    const all = (await collect(conversation.messagesPaginated({ direction: "ascending" }))).flat();
    const [startTime, endTime] = [all[2].sent, all[4].sent];
    const pages = await collect(conversation.messagesPaginated({ pageSize: 2, direction: "descending", startTime, endTime }));
    expect(contents(pages)).toEqual([["m4", "m3"], ["m2"]]);
    expect(contents(await collect(theirConversation.messagesPaginated({ pageSize: 2, direction: sdk.SortDirection.SORT_DIRECTION_DESCENDING, startTime, endTime })))).toEqual(contents(pages));
  });

  it("can be left after the first page", async () => {
    const conversation = await ourConversation();
    const seen: unknown[][] = [];
    for await (const page of conversation.messagesPaginated({ pageSize: 2, direction: "ascending" })) {
      seen.push(page.map((m) => m.content));
      break;
    }
    expect(seen).toEqual([["m0", "m1"]]);
  });

  it("refuses a page size or direction it cannot send", async () => {
    const conversation = await ourConversation();
    expect(() => conversation.messagesPaginated({ pageSize: 0 })).toThrow("pageSize must be an integer from 1 to 100, got 0");
    expect(() => conversation.messagesPaginated({ pageSize: 101 })).toThrow("pageSize must be an integer from 1 to 100, got 101");
    expect(() => conversation.messagesPaginated({ direction: 7 as 1 })).toThrow("unknown direction 7");
  });
});
