// queryPages, the client's one cursor loop (queryAll, messages(), messagesPaginated(), syncs, contact lookup),
// against a scripted node: its stopping rules, the limit, the prefetch and the refusal of a repeated cursor.
import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { queryPages } from "./paging.js";
import { cursorAt, scriptedEnvelope, scriptedQueryApi } from "./test-support/scriptedQueryApi.js";
import type { Envelope, QueryPage, QueryParams } from "./types.js";

const TOPIC = "/xmtp/0/m-paging-helper/proto";
const envelope = (n: number): Envelope => scriptedEnvelope(TOPIC, n);
const numbersOf = (envelopes: Envelope[]) => envelopes.map((e) => e.message[0]);
const scriptedApi = (total: number, answer?: Parameters<typeof scriptedQueryApi>[2]) => scriptedQueryApi(TOPIC, total, answer);

async function collect(pages: AsyncIterable<Envelope[]>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const page of pages) out.push(numbersOf(page));
  return out;
}

describe("queryPages", () => {
  it("follows the cursors until a page comes without one, keeping the other parameters", async () => {
    const { api, queries } = scriptedApi(5);
    const params: QueryParams = { contentTopic: TOPIC, pageSize: 2, direction: "descending", startTimeNs: 7n };
    expect(await collect(queryPages(api, params))).toEqual([[0, 1], [2, 3], [4]]);
    expect(queries.map((q) => [q.contentTopic, q.pageSize, q.direction, q.startTimeNs, q.cursor?.senderTimeNs])).toEqual([
      [TOPIC, 2, "descending", 7n, undefined],
      [TOPIC, 2, "descending", 7n, 1n],
      [TOPIC, 2, "descending", 7n, 3n],
    ]);
    expect(params.cursor).toBeUndefined(); // the caller's parameters are not touched
  });

  it("starts from the cursor it is given", async () => {
    const { api, queries } = scriptedApi(5);
    expect(await collect(queryPages(api, { contentTopic: TOPIC, pageSize: 2, cursor: cursorAt(1) }))).toEqual([[2, 3], [4]]);
    expect(queries.map((q) => q.cursor?.senderTimeNs)).toEqual([1n, 3n]);
  });

  it("stops at an empty page, even one with a cursor, and yields no empty page", async () => {
    const { api, queries } = scriptedApi(4, (page) => ({ ...page, cursor: page.cursor ?? cursorAt(3) }));
    expect(await collect(queryPages(api, { contentTopic: TOPIC, pageSize: 2 }))).toEqual([[0, 1], [2, 3]]);
    expect(queries).toHaveLength(3);
    const empty = scriptedApi(0);
    expect(await collect(queryPages(empty.api, { contentTopic: TOPIC }))).toEqual([]);
    expect(empty.queries).toHaveLength(1);
  });

  it("cuts the page that reaches the limit and asks for nothing more", async () => {
    const { api, queries } = scriptedApi(10);
    expect(await collect(queryPages(api, { contentTopic: TOPIC, pageSize: 2 }, { limit: 3 }))).toEqual([[0, 1], [2]]);
    expect(queries).toHaveLength(2);
    const exact = scriptedApi(10);
    expect(await collect(queryPages(exact.api, { contentTopic: TOPIC, pageSize: 2 }, { limit: 4, prefetch: true }))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(exact.queries).toHaveLength(2);
  });

  it("refuses a node that hands back the cursor it was given, before yielding that page", async () => {
    const { api } = scriptedApi(6, (page, query) => (query.cursor ? { ...page, cursor: query.cursor } : page));
    const seen: number[][] = [];
    const failure = (async () => {
      for await (const page of queryPages(api, { contentTopic: TOPIC, pageSize: 2 })) seen.push(numbersOf(page));
    })();
    const error = await failure.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ call: "query", code: undefined, transient: false });
    expect((error as ApiError).message).toContain("the node returned the same cursor twice; paging would never end");
    expect(seen).toEqual([[0, 1]]);
  });

  it("with prefetch, asks for the next page before handing over the current one", async () => {
    const { api, queries } = scriptedApi(6);
    const pages = queryPages(api, { contentTopic: TOPIC, pageSize: 2 }, { prefetch: true });
    await pages.next();
    expect(queries).toHaveLength(2);
    await pages.return();
    expect(queries).toHaveLength(2);
  });

  it("without prefetch, asks only for the pages the consumer takes", async () => {
    const { api, queries } = scriptedApi(6);
    const pages = queryPages(api, { contentTopic: TOPIC, pageSize: 2 });
    await pages.next();
    expect(queries).toHaveLength(1);
    await pages.return();
    expect(queries).toHaveLength(1);
  });

  it("lets a consumer stop early without an unobserved failure of the prefetched page", async () => {
    let calls = 0;
    const api = {
      async query(): Promise<QueryPage> {
        calls++;
        if (calls > 1) throw new Error("node gone");
        return { envelopes: [envelope(0)], cursor: cursorAt(0) };
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      for await (const page of queryPages(api, { contentTopic: TOPIC }, { prefetch: true })) {
        expect(numbersOf(page)).toEqual([0]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(calls).toBe(2);
    expect(unhandled).toEqual([]);
  });
});
