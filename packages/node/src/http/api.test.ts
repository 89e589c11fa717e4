// The message API's answers as the fast paths write them: every header in one writeHead (request id included, on
// every kind of answer), exact Content-Length for any UTF-8 body, and query pages served from the envelope cache
// that still show what was published after they were cached; pages and batches bounded by their byte budgets, and
// large answers streamed in the same bytes.
import { randomBytes } from "node:crypto";
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger } from "../log.js";
import { MessageApiServer } from "./api.js";
import { decodeQueryRequest, encodeBatchQueryResponse, encodeQueryResponse } from "./codec.js";
import {
  bytesOf,
  createIdentity,
  envelopeJson,
  post,
  publish,
  startTestNode,
  type Identity,
  type TestNode,
} from "../../test/http/helpers.js";

let node: TestNode;
let alice: Identity;

beforeAll(async () => {
  node = await startTestNode();
  alice = await createIdentity();
});
afterAll(() => node.dispose());

const REQUEST_ID = /^[\w.:-]{8,128}$/;

async function raw(path: string, init: RequestInit = {}) {
  const response = await fetch(node.url + path, { method: "POST", ...init });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { response, bytes, text: new TextDecoder().decode(bytes) };
}

describe("answers", () => {
  it("carry a request id, CORS and an exact length on success, refusal, preflight and other routes", async () => {
    const topic = "/xmtp/0/m-answers/proto";
    const answers = {
      query: await raw("/message/v1/query", { body: JSON.stringify({ contentTopics: [topic] }) }),
      badJson: await raw("/message/v1/query", { body: "{not json" }),
      unknownPath: await raw("/message/v1/nothing-here", { body: "{}" }),
      wrongMethod: await raw("/message/v1/query", { method: "GET" }),
      health: await raw("/healthz", { method: "GET" }),
    };
    const ids = new Set<string>();
    for (const [name, { response, bytes }] of Object.entries(answers)) {
      const id = response.headers.get("x-request-id");
      expect(id, name).toMatch(REQUEST_ID);
      ids.add(id!);
      if (name !== "health") {
        expect(response.headers.get("access-control-allow-origin"), name).toBe("*");
        expect(response.headers.get("content-type"), name).toBe("application/json");
        expect(Number(response.headers.get("content-length")), name).toBe(bytes.length);
      }
    }
    expect(ids.size).toBe(Object.keys(answers).length);
    expect(answers.query.response.status).toBe(200);
    expect(JSON.parse(answers.query.text)).toEqual({
      envelopes: [],
      pagingInfo: { limit: 100, cursor: null, direction: "SORT_DIRECTION_DESCENDING" },
    });
    expect([answers.badJson.response.status, JSON.parse(answers.badJson.text).code]).toEqual([400, 3]);
    expect([answers.unknownPath.response.status, JSON.parse(answers.unknownPath.text).code]).toEqual([404, 5]);
    expect(answers.wrongMethod.response.status).toBe(405);
    expect(answers.wrongMethod.response.headers.get("allow")).toBe("POST, OPTIONS");
    expect(answers.health.response.status).toBe(200);

    const preflight = await fetch(node.url + "/message/v1/publish", { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("x-request-id")).toMatch(REQUEST_ID);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Authorization");
  });

  it("echo a plain client request id, on streams too", async () => {
    const sent = "client-chosen.id:42";
    const query = await raw("/message/v1/query", {
      body: JSON.stringify({ contentTopics: ["/xmtp/0/m-echo/proto"] }),
      headers: { "x-request-id": sent },
    });
    expect(query.response.headers.get("x-request-id")).toBe(sent);
    const controller = new AbortController();
    const stream = await fetch(node.url + "/message/v1/subscribe", {
      method: "POST",
      body: JSON.stringify({ contentTopics: ["/xmtp/0/m-echo/proto"] }),
      headers: { "x-request-id": "stream-request-7" },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("x-request-id")).toBe("stream-request-7");
    expect(stream.headers.get("grpc-metadata-subscribed")).toBe("true");
    controller.abort();
  });

  it("give the UTF-8 byte length of a body with multi-byte characters", async () => {
    const topic = "/xmtp/0/m-ünïcødé-🙂/proto";
    expect((await publish(node, [envelopeJson(topic, 7n, bytesOf("hi"))], alice.token())).status).toBe(200);
    const { response, bytes, text } = await raw("/message/v1/query", { body: JSON.stringify({ contentTopics: [topic] }) });
    expect(Number(response.headers.get("content-length"))).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(text.length);
    expect(JSON.parse(text).envelopes).toEqual([{ contentTopic: topic, timestampNs: "7", message: Buffer.from("hi").toString("base64") }]);
  });
});

describe("query pages served again", () => {
  it("are byte for byte the first answer, and include what was published since", async () => {
    const topic = "/xmtp/0/m-cached-page/proto";
    const token = alice.token();
    const envelopes = [1n, 2n, 3n].map((t) => envelopeJson(topic, t, bytesOf(`message ${t}`)));
    expect((await publish(node, envelopes, token)).status).toBe(200);
    const request = { contentTopics: [topic], pagingInfo: { limit: 3, direction: "SORT_DIRECTION_ASCENDING" } };
    const first = await raw("/message/v1/query", { body: JSON.stringify(request) });
    const second = await raw("/message/v1/query", { body: JSON.stringify(request) });
    expect(second.text).toBe(first.text);
    expect(JSON.parse(first.text).envelopes.map((e: { timestampNs: string }) => e.timestampNs)).toEqual(["1", "2", "3"]);

    // Published between two reads, earlier than everything cached: the next page read shows it first.
    expect((await publish(node, [envelopeJson(topic, 0n, bytesOf("late"))], token)).status).toBe(200);
    const third = JSON.parse((await raw("/message/v1/query", { body: JSON.stringify(request) })).text);
    expect(third.envelopes.map((e: { timestampNs: string }) => e.timestampNs)).toEqual(["0", "1", "2"]);
    const descending = await post(node.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 10 } });
    expect(descending.body.envelopes.map((e: { timestampNs: string }) => e.timestampNs)).toEqual(["3", "2", "1", "0"]);
  });
});

// --- byte budgets and streamed answers ----------------------------------------------------------------------------

/** A POST over node:http, so the test controls Accept-Encoding and sees the raw (possibly gzipped) bytes. */
function rawPost(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = httpRequest(new URL(url + path), { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** `count` envelopes of `bytes` random bytes each on `topic`, at timestamps 1..count, published by `who`. */
async function publishSized(target: TestNode, who: Identity, topic: string, count: number, bytes: number) {
  const envelopes = Array.from({ length: count }, (_, i) => envelopeJson(topic, BigInt(i + 1), randomBytes(bytes)));
  for (let i = 0; i < envelopes.length; i += 10) {
    const res = await publish(target, envelopes.slice(i, i + 10), who.token());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return envelopes.map((e) => e.message);
}

const queryBody = (topic: string, direction: string, cursor?: unknown) => ({
  contentTopics: [topic],
  pagingInfo: { limit: 100, direction, ...(cursor ? { cursor } : {}) },
});

describe("query pages bounded by --max-page-bytes", () => {
  let small: TestNode;
  beforeAll(async () => {
    small = await startTestNode({ http: { maxPageBytes: 4096, maxBatchBytes: 10_000 } });
  });
  afterAll(() => small?.dispose());

  it("end with the envelope that reaches the budget and carry a cursor; the SDK's paging loop gets every envelope once", async () => {
    const topic = "/xmtp/0/m-page-bytes/proto";
    const messages = await publishSized(small, alice, topic, 23, 1000);
    for (const direction of ["SORT_DIRECTION_ASCENDING", "SORT_DIRECTION_DESCENDING"]) {
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: unknown;
      // The loop rule of docs/protocol/api.md §2: stop on an empty page or one without a cursor.
      for (let pages = 0; pages < 50; pages++) {
        const res = await post(small.url, "/message/v1/query", queryBody(topic, direction, cursor));
        expect(res.status).toBe(200);
        const envelopes = res.body.envelopes ?? [];
        if (envelopes.length === 0) break;
        seen.push(...envelopes.map((e: { message: string }) => e.message));
        pageSizes.push(envelopes.length);
        cursor = res.body.pagingInfo.cursor;
        if (!cursor) break;
      }
      // 4 × 1000 bytes stay under 4096, the fifth reaches it: pages of 5, and the last 3 end the topic.
      expect(pageSizes, direction).toEqual([5, 5, 5, 5, 3]);
      expect(seen, direction).toEqual(direction === "SORT_DIRECTION_ASCENDING" ? messages : [...messages].reverse());
    }
  });

  it("answer a batch-query within --max-batch-bytes, at least one envelope per entry whose topic has any", async () => {
    const topic = "/xmtp/0/m-batch-bytes/proto";
    const empty = "/xmtp/0/m-batch-bytes-empty/proto";
    const messages = await publishSized(small, alice, topic, 20, 1000);
    const entries = [topic, topic, empty, topic, topic].map((t) => queryBody(t, "SORT_DIRECTION_ASCENDING"));
    const res = await post(small.url, "/message/v1/batch-query", { requests: entries });
    expect(res.status).toBe(200);
    const got = res.body.responses.map((r: { envelopes: { message: string }[] }) => r.envelopes.map((e) => e.message));
    // 5 + 5 envelopes (10,000 bytes) spend the batch budget; then an empty topic, then one envelope per entry.
    expect(got.map((list: string[]) => list.length)).toEqual([5, 5, 0, 1, 1]);
    for (const list of got) expect(list).toEqual(messages.slice(0, list.length));
    expect(res.body.responses[2].pagingInfo.cursor).toBeNull();
    expect(res.body.responses[0].pagingInfo.cursor.index.senderTimeNs).toBe("5");
  });
});

describe("large answers", () => {
  let big: TestNode;
  beforeAll(async () => {
    big = await startTestNode({ http: { maxPageBytes: 1024 * 1024, maxBatchBytes: 2 * 1024 * 1024 } });
  });
  afterAll(() => big?.dispose());

  it("are streamed in exactly the bytes of a whole-built answer, plain (chunked) or gzipped", async () => {
    const topic = "/xmtp/0/m-streamed/proto";
    await publishSized(big, alice, topic, 30, 100_000);
    const request = queryBody(topic, "SORT_DIRECTION_DESCENDING");
    const query = decodeQueryRequest(request);
    const expected = encodeQueryResponse(await big.store.query({ ...query, maxBytes: 1024 * 1024 }), query);
    expect(expected.length).toBeGreaterThan(1_000_000);

    const plain = await rawPost(big.url, "/message/v1/query", request);
    expect(plain.status).toBe(200);
    expect(plain.headers["content-length"]).toBeUndefined();
    expect(plain.headers["transfer-encoding"]).toBe("chunked");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString("utf8")).toBe(expected);

    const zipped = await rawPost(big.url, "/message/v1/query", request, { "accept-encoding": "gzip, deflate" });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers["x-request-id"]).toMatch(REQUEST_ID);
    expect(gunzipSync(zipped.body).toString("utf8")).toBe(expected);
    const page = JSON.parse(expected);
    expect(page.envelopes).toHaveLength(11); // 10 × 100,000 < 1 MiB ≤ 11 × 100,000
    expect(page.pagingInfo.cursor).not.toBeNull();

    // A batch: each entry read with what the entries before it left of the batch budget, in request order: 11 (1.1 MB)
    // of 2 MiB, 10 (the tenth reaches the 997,152 bytes left), then one envelope each.
    const entries = [request, queryBody(topic, "SORT_DIRECTION_ASCENDING"), request, request];
    const queries = entries.map((e) => decodeQueryRequest(e));
    const pages: string[] = [];
    let left = 2 * 1024 * 1024;
    for (const q of queries) {
      const storePage = await big.store.query({ ...q, maxBytes: Math.max(1, Math.min(1024 * 1024, left)) });
      left -= storePage.envelopes.reduce((sum, e) => sum + e.message.byteLength, 0);
      pages.push(encodeQueryResponse(storePage, q));
    }
    const expectedBatch = encodeBatchQueryResponse(pages);
    for (const gzipped of [false, true]) {
      const headers: Record<string, string> = gzipped ? { "accept-encoding": "gzip" } : {};
      const batch = await rawPost(big.url, "/message/v1/batch-query", { requests: entries }, headers);
      expect(batch.status).toBe(200);
      expect(batch.headers["content-encoding"]).toBe(gzipped ? "gzip" : undefined);
      expect((gzipped ? gunzipSync(batch.body) : batch.body).toString("utf8")).toBe(expectedBatch);
    }
    expect(JSON.parse(expectedBatch).responses.map((r: { envelopes: unknown[] }) => r.envelopes.length)).toEqual([11, 10, 1, 1]);
  });
});

describe("answers larger than socket buffers", () => {
  // Pages of 16 MiB of messages (about 22 MB of JSON), far more than loopback socket buffers hold, so the node is
  // still writing (waiting for 'drain') while the client reads slowly, stops, or goes.
  const finished: string[] = [];
  const read: string[] = [];
  let huge: TestNode;
  const topic = "/xmtp/0/m-left-early/proto";
  const request = queryBody(topic, "SORT_DIRECTION_ASCENDING");
  beforeAll(async () => {
    huge = await startTestNode(
      { http: { maxPageBytes: 16 * 1024 * 1024, maxBatchBytes: 32 * 1024 * 1024, shutdownGraceMs: 60_000 } },
      {
        hooks: {
          onResponse: ({ path, status }) => void finished.push(`${path} ${status}`),
          afterRead: (_bytes, req) => void read.push(req.url!),
        },
      },
    );
    const envelopes = Array.from({ length: 20 }, (_, i) => envelopeJson(topic, BigInt(i + 1), randomBytes(1_000_000)));
    for (let i = 0; i < envelopes.length; i += 4) {
      expect((await publish(huge, envelopes.slice(i, i + 4), alice.token())).status).toBe(200);
    }
  });
  afterAll(() => huge?.dispose());

  it("are cut when the reader stops taking them, so a stalled client cannot pin a page", async () => {
    // The same node's store and hub behind a second MessageApiServer whose stall limit is short enough for a test.
    const api = new MessageApiServer({
      store: huge.store,
      hub: huge.hub,
      ingest: huge.ingest,
      authenticator: huge.authenticator,
      logger: silentLogger,
      maxBodyBytes: 1024 * 1024,
      streamKeepAliveMs: 30_000,
      maxStreamBufferBytes: 1024 * 1024,
      maxPageBytes: 16 * 1024 * 1024,
      maxBatchBytes: 32 * 1024 * 1024,
      answerStallMs: 300,
    });
    // Reports, for each response the server closes, whether it was finished.
    const closedResponses: boolean[] = [];
    const server = createServer((req, res) => {
      res.on("close", () => closedResponses.push(res.writableFinished));
      api.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const clients: ClientRequest[] = [];
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const headers of [{}, { "accept-encoding": "gzip" }]) {
        closedResponses.length = 0;
        // Takes the headers and the first bytes, then reads nothing more (and keeps the connection open).
        await new Promise<void>((resolve) => {
          const req = httpRequest(new URL(url + "/message/v1/query"), { method: "POST", headers }, (res) => {
            res.once("data", () => {
              res.pause();
              resolve();
            });
          });
          req.on("error", () => {});
          clients.push(req);
          req.end(JSON.stringify(request));
        });
        // The node gives up on the answer (closes its side, unfinished) although the client is still connected.
        for (let waited = 0; closedResponses.length === 0 && waited < 20_000; waited += 50) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(closedResponses, JSON.stringify(headers)).toEqual([false]);
      }
    } finally {
      for (const req of clients) req.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("leave nothing behind when the client disconnects mid-answer", async () => {
    finished.length = 0;
    read.length = 0;
    for (const headers of [{}, { "accept-encoding": "gzip" }]) {
      for (const [path, body] of [
        ["/message/v1/query", request],
        ["/message/v1/batch-query", { requests: [request, request] }],
      ] as const) {
        // Read the headers and the first bytes, then stop reading and drop the connection.
        await new Promise<void>((resolve) => {
          const req = httpRequest(new URL(huge.url + path), { method: "POST", headers }, (res) => {
            expect(res.statusCode).toBe(200);
            res.once("data", () => {
              res.pause();
              setTimeout(() => req.destroy(), 100);
            });
          });
          req.on("error", () => {});
          req.on("close", () => resolve());
          req.end(JSON.stringify(body));
        });
      }
    }
    // None of the four answers was finished: each was cut while being written.
    expect(finished).toEqual([]);
    // Each request's handler ran to its end (a batch reports its bytes read last), instead of waiting for ever for a
    // 'drain' that a closed connection never emits.
    for (let waited = 0; read.length < 4 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(read.sort()).toEqual(["/message/v1/batch-query", "/message/v1/batch-query", "/message/v1/query", "/message/v1/query"]);
    // The node still answers, and shuts down without waiting out its 60 s grace for a request left hanging.
    const after = await post(huge.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 1 } });
    expect(after.status).toBe(200);
    const closed = huge.close().then(() => "closed");
    const hung = new Promise((resolve) => setTimeout(() => resolve("still waiting after 20 s"), 20_000).unref());
    expect(await Promise.race([closed, hung])).toBe("closed");
  });
});
