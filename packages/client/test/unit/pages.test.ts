// iteratePages (behind conversation.messagesPaginated) against a scripted MessageApi: cursors are followed, the next
// page is fetched while one is handled, a node that repeats a cursor is refused, and an early exit stops fetching.
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/api/index.js";
import { cursorAt, scriptedQueryApi } from "../../src/api/test-support/scriptedQueryApi.js";
import { iteratePages } from "../../src/conversations/pages.js";

const TOPIC = "/xmtp/0/m-paging/proto";
const scriptedApi = (total: number, answer?: Parameters<typeof scriptedQueryApi>[2]) => scriptedQueryApi(TOPIC, total, answer);

const numbers = (envelopes: Envelope[]) => Promise.resolve(envelopes.map((e) => e.message[0]));

describe("iteratePages", () => {
  it("follows the cursors to the end, one query per page, keeping the other parameters", async () => {
    const { api, queries } = scriptedApi(5);
    const pages: number[][] = [];
    for await (const page of iteratePages(api, { contentTopic: TOPIC, pageSize: 2, direction: "unspecified", startTimeNs: 0n }, numbers)) {
      pages.push(page);
    }
    expect(pages).toEqual([[0, 1], [2, 3], [4]]);
    expect(queries.map((q) => [q.pageSize, q.direction, q.startTimeNs, q.cursor?.senderTimeNs])).toEqual([
      [2, "unspecified", 0n, undefined],
      [2, "unspecified", 0n, 1n],
      [2, "unspecified", 0n, 3n],
    ]);
  });

  it("ends on an empty page even if it carries a cursor", async () => {
    const { api } = scriptedApi(4, (page) => (page.envelopes.length === 0 ? { envelopes: [], cursor: cursorAt(9) } : page));
    const pages: number[][] = [];
    for await (const page of iteratePages(api, { contentTopic: TOPIC, pageSize: 2 }, numbers)) pages.push(page);
    expect(pages).toEqual([[0, 1], [2, 3]]);
  });

  it("refuses a node that hands back the same cursor twice", async () => {
    const { api } = scriptedApi(10, (page) => ({ ...page, cursor: cursorAt(1) }));
    const pages: number[][] = [];
    const failure = (async () => {
      for await (const page of iteratePages(api, { contentTopic: TOPIC, pageSize: 2 }, numbers)) pages.push(page);
    })();
    await expect(failure).rejects.toThrow("the node returned the same cursor twice; paging would never end");
    expect(pages).toEqual([[0, 1]]);
  });

  it("stops asking once the consumer leaves, and a failing prefetched page does not surface", async () => {
    const { api, queries } = scriptedApi(10, (page, query) => {
      if (query.cursor) throw new Error("the prefetched page failed");
      return page;
    });
    const pages: number[][] = [];
    for await (const page of iteratePages(api, { contentTopic: TOPIC, pageSize: 2 }, numbers)) {
      pages.push(page);
      break;
    }
    expect(pages).toEqual([[0, 1]]);
    expect(queries).toHaveLength(2); // the first page and the one fetched while it was handled
  });
});
