// The message API over real HTTP against an in-process node: the happy paths and wire conventions (docs/protocol/api.md §2).
import { gunzipSync } from "node:zlib";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesOf, createIdentity, envelopeJson, post, publish, storedOn, startTestNode, type Identity, type TestNode } from "./helpers.js";

let node: TestNode;
let alice: Identity;
let token: string;
let counter = 0;
const freshTopic = () => `/xmtp/0/m-api-${process.pid}-${counter++}/proto`;

beforeAll(async () => {
  node = await startTestNode();
  alice = await createIdentity();
  token = alice.token();
});
afterAll(() => node.dispose());

describe("publish and query", () => {
  it("publishes several envelopes in one request and returns them with exact timestamps", async () => {
    const topic = freshTopic();
    const ts = "1795659984974000123";
    const res = await publish(node, [envelopeJson(topic, ts, bytesOf("one")), envelopeJson(topic, "18446744073709551615", bytesOf("two"))], token);
    expect(res).toMatchObject({ status: 200, body: {} });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");

    const query = await post(node.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { direction: "SORT_DIRECTION_ASCENDING" } });
    expect(query.status).toBe(200);
    expect(query.body.envelopes).toEqual([
      { contentTopic: topic, timestampNs: ts, message: Buffer.from("one").toString("base64") },
      { contentTopic: topic, timestampNs: "18446744073709551615", message: Buffer.from("two").toString("base64") },
    ]);
    expect(query.body.pagingInfo).toEqual({ limit: 100, cursor: null, direction: "SORT_DIRECTION_ASCENDING" });
  });

  it("accepts any content type, proto field names and a doubled leading slash", async () => {
    const topic = freshTopic();
    const body = JSON.stringify({ envelopes: [{ content_topic: topic, timestamp_ns: "5", message: "AQ==" }] });
    const res = await post(node.url, "//message/v1/publish", body, {
      authorization: `Bearer ${token}`,
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(res.status).toBe(200);
    const query = await post(node.url, "//message/v1/query", { content_topics: [topic] }, { "content-type": "text/plain;charset=UTF-8" });
    expect(query.body.envelopes).toHaveLength(1);
    expect(query.body.envelopes[0].timestampNs).toBe("5");
  });

  it("stores a duplicate once and still answers 200", async () => {
    const topic = freshTopic();
    const e = envelopeJson(topic, 7n, bytesOf("dup"));
    expect((await publish(node, [e, e], token)).status).toBe(200);
    expect((await publish(node, [e], token)).status).toBe(200);
    expect(await storedOn(node, topic)).toHaveLength(1);
  });

  it("relays ephemeral envelopes without storing them", async () => {
    const topic = `/xmtp/0/mE-api-${counter++}/proto`;
    expect((await publish(node, [envelopeJson(topic, 1n, bytesOf("eph"))], token)).status).toBe(200);
    expect(await storedOn(node, topic)).toHaveLength(0);
    const query = await post(node.url, "/message/v1/query", { contentTopics: [topic] });
    expect(query.body.envelopes).toEqual([]);
  });

  it("pages with cursors the way the SDK does, both directions, with time bounds", async () => {
    const topic = freshTopic();
    const envs = [1, 2, 3, 4, 5].map((i) => envelopeJson(topic, BigInt(i) * 1000n, bytesOf(`p${i}`)));
    for (const e of envs) expect((await publish(node, [e], token)).status).toBe(200);
    async function pages(direction: string, extra: object = {}) {
      const seen: string[][] = [];
      let cursor: unknown;
      for (;;) {
        const res = await post(node.url, "/message/v1/query", {
          contentTopics: [topic],
          ...extra,
          pagingInfo: { limit: 2, direction, ...(cursor ? { cursor } : {}) },
        });
        expect(res.status).toBe(200);
        if (res.body.envelopes.length === 0) break;
        seen.push(res.body.envelopes.map((e: any) => Buffer.from(e.message, "base64").toString()));
        cursor = res.body.pagingInfo.cursor;
        if (!cursor) break;
      }
      return seen;
    }
    expect(await pages("SORT_DIRECTION_ASCENDING")).toEqual([["p1", "p2"], ["p3", "p4"], ["p5"]]);
    expect(await pages("SORT_DIRECTION_DESCENDING")).toEqual([["p5", "p4"], ["p3", "p2"], ["p1"]]);
    expect(await pages("SORT_DIRECTION_ASCENDING", { startTimeNs: "2000", endTimeNs: "4000" })).toEqual([["p2", "p3"], ["p4"]]);
    const first = await post(node.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 2 } });
    expect(first.body.pagingInfo.direction).toBe("SORT_DIRECTION_DESCENDING");
    expect(first.body.pagingInfo.cursor.index.senderTimeNs).toBe("4000");
    expect(first.body.pagingInfo.cursor.index.digest).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("serves pages of up to 500 rows for a private-preferences topic, and no more", async () => {
    const topic = `/xmtp/0/userpreferences-${"p".repeat(35)}${String(counter++).padStart(8, "0")}/proto`;
    // One request of 600, from a wallet of its own so the other tests' publishes leave its rate-limit burst alone.
    const envelopes = Array.from({ length: 600 }, (_, i) => envelopeJson(topic, BigInt(i + 1), bytesOf(`c${i}`)));
    expect((await publish(node, envelopes, (await createIdentity()).token())).status).toBe(200);
    const query = (limit: number, cursor?: unknown) =>
      post(node.url, "/message/v1/query", {
        contentTopics: [topic],
        pagingInfo: { limit, direction: "SORT_DIRECTION_ASCENDING", ...(cursor ? { cursor } : {}) },
      });
    const first = await query(500);
    expect(first.status).toBe(200);
    expect(first.body.envelopes).toHaveLength(500);
    expect(first.body.pagingInfo.cursor.index.senderTimeNs).toBe("500");
    const rest = await query(500, first.body.pagingInfo.cursor);
    expect(rest.body.envelopes.map((e: any) => e.timestampNs)).toEqual(Array.from({ length: 100 }, (_, i) => String(501 + i)));
    expect(rest.body.pagingInfo.cursor).toBeNull();
    const tooMany = await query(501);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ code: 3, message: "cannot exceed 500 rows per query" });
  });

  it("orders timestamp ties by arrival, newest first when descending (docs/protocol/api.md §6)", async () => {
    const topic = freshTopic();
    await publish(node, [envelopeJson(topic, 100n, bytesOf("v1-bundle"))], token);
    await publish(node, [envelopeJson(topic, 100n, bytesOf("v2-bundle"))], token);
    const res = await post(node.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 5, direction: "SORT_DIRECTION_DESCENDING" } });
    expect(res.body.envelopes.map((e: any) => Buffer.from(e.message, "base64").toString())).toEqual(["v2-bundle", "v1-bundle"]);
  });

  it("answers batch-query in request order, empty entries included", async () => {
    const [t1, t2, t3] = [freshTopic(), freshTopic(), freshTopic()];
    await publish(node, [envelopeJson(t1, 1n, bytesOf("a1")), envelopeJson(t3, 1n, bytesOf("c1")), envelopeJson(t3, 2n, bytesOf("c2"))], token);
    const res = await post(node.url, "/message/v1/batch-query", {
      requests: [t3, t2, t1].map((t) => ({ contentTopics: [t], pagingInfo: { limit: 5, direction: "SORT_DIRECTION_DESCENDING" } })),
    });
    expect(res.status).toBe(200);
    expect(res.body.responses.map((r: any) => r.envelopes.map((e: any) => Buffer.from(e.message, "base64").toString()))).toEqual([
      ["c2", "c1"],
      [],
      ["a1"],
    ]);
    const empty = await post(node.url, "/message/v1/batch-query", {});
    expect(empty).toMatchObject({ status: 200, body: { responses: [] } });
  });

  it("gzips large query responses when the client accepts gzip, and only then", async () => {
    const topic = freshTopic();
    const envs = Array.from({ length: 40 }, (_, i) => envelopeJson(topic, BigInt(i + 1), new Uint8Array(1000).fill(i)));
    expect((await publish(node, envs, token)).status).toBe(200);
    const raw = (acceptEncoding?: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const url = new URL(node.url + "/message/v1/query");
        const req = httpRequest(url, { method: "POST", headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("error", reject);
        req.end(JSON.stringify({ contentTopics: [topic] }));
      });
    const zipped = await raw("gzip, deflate");
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(zipped.body).toString()).envelopes).toHaveLength(40);
    const plain = await raw();
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(plain.body.toString()).envelopes).toHaveLength(40);
  });
});

describe("HTTP conventions", () => {
  it("answers CORS preflight with the SDK's headers allowed", async () => {
    const res = await fetch(node.url + "/message/v1/publish", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,x-client-version" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "accept", "authorization", "x-client-version", "x-app-version"]) expect(allowed).toContain(h);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("answers unknown paths with 404 code 5 and wrong methods with 405 code 12, CORS headers included", async () => {
    const unknown = await post(node.url, "/message/v1/nothing", {});
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ code: 5, message: 'unknown path "/message/v1/nothing"', details: [] });
    expect(unknown.headers.get("access-control-allow-origin")).toBe("*");
    const get = await fetch(node.url + "/message/v1/query");
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ code: 12, message: expect.stringContaining("use POST") });
  });
});
