// HttpMessageApi against a scripted loopback server: exact wire shapes, headers, errors and retry behaviour.
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toBase64 } from "@xmtp-ts/crypto";
import { ApiError, CLIENT_VERSION, GrpcCode, HttpMessageApi, type HttpMessageApiOptions } from "./index.js";
import { sendJson, startFakeNode, type FakeNode } from "./test-support/fakeNode.js";

let fake: FakeNode;
beforeEach(async () => {
  fake = await startFakeNode();
});
afterEach(async () => {
  await fake.close();
});

const TOPIC = "/xmtp/0/m-test/proto";
const fastRetry = { attempts: 4, initialDelayMs: 1, maxDelayMs: 5 };

function api(options: Partial<HttpMessageApiOptions> = {}) {
  return new HttpMessageApi({ apiUrl: fake.url, retry: fastRetry, authTokenProvider: async () => "token-1", ...options });
}

describe("wire format", () => {
  it("publishes the exact JSON of docs/protocol/api.md §2.2, SDK-style headers and a bearer token", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, {});
    const message = new Uint8Array([0xfb, 0xff, 0x00, 0x01]); // base64 with + and /
    await api({ appVersion: "myapp/1.2.3" }).publish([
      { contentTopic: TOPIC, timestampNs: 1795659984974000000n, message },
      { contentTopic: "/xmtp/0/invite-x/proto", timestampNs: 18446744073709551615n, message },
    ]);
    const [request] = fake.requests;
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/message/v1/publish");
    expect(JSON.parse(request.body)).toEqual({
      envelopes: [
        { contentTopic: TOPIC, timestampNs: "1795659984974000000", message: "+/8AAQ==" },
        { contentTopic: "/xmtp/0/invite-x/proto", timestampNs: "18446744073709551615", message: "+/8AAQ==" },
      ],
    });
    expect(request.headers["x-client-version"]).toBe(`xmtp-ts/${CLIENT_VERSION}`);
    expect(request.headers["x-app-version"]).toBe("myapp/1.2.3");
    expect(request.headers.authorization).toBe("Bearer token-1");
  });

  it("sends no Authorization header and no app version on queries unless asked", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, { envelopes: [] });
    await api().query({ contentTopic: TOPIC });
    const [request] = fake.requests;
    expect(request.headers.authorization).toBeUndefined();
    expect(request.headers["x-app-version"]).toBeUndefined();
    expect(request.json).toEqual({
      contentTopics: [TOPIC],
      pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING" },
    });
  });

  it("sends no direction at all for \"unspecified\", leaving the order to the node", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, { envelopes: [] });
    await api().query({ contentTopic: TOPIC, pageSize: 7, direction: "unspecified" });
    expect(fake.requests[0].json).toEqual({ contentTopics: [TOPIC], pagingInfo: { limit: 7 } });
  });

  it("maps every query parameter (docs/protocol/api.md §2.3) and reads envelopes and the cursor back", async () => {
    const digest = new Uint8Array(32).fill(7);
    fake.handle = (_request, response) =>
      sendJson(response, 200, {
        envelopes: [{ contentTopic: TOPIC, timestampNs: "1795659989874000000", message: "Eu8E" }],
        pagingInfo: {
          limit: 2,
          cursor: { index: { digest: toBase64(digest), senderTimeNs: "1795659989891000000" } },
          direction: "SORT_DIRECTION_DESCENDING",
        },
      });
    const page = await api().query({
      contentTopic: TOPIC,
      startTimeNs: 1n,
      endTimeNs: 2n,
      pageSize: 2,
      direction: "descending",
      cursor: { digest: new Uint8Array([1, 2, 3]), senderTimeNs: 99n },
    });
    expect(fake.requests[0].json).toEqual({
      contentTopics: [TOPIC],
      startTimeNs: "1",
      endTimeNs: "2",
      pagingInfo: {
        limit: 2,
        direction: "SORT_DIRECTION_DESCENDING",
        cursor: { index: { digest: "AQID", senderTimeNs: "99" } },
      },
    });
    expect(page.envelopes).toEqual([
      { contentTopic: TOPIC, timestampNs: 1795659989874000000n, message: new Uint8Array([0x12, 0xef, 0x04]) },
    ]);
    expect(page.cursor).toEqual({ digest, senderTimeNs: 1795659989891000000n });
  });

  it("accepts the ref node's empty answer and one with fields left out", async () => {
    fake.handle = (request, response) =>
      sendJson(
        response,
        200,
        request.json.contentTopics[0] === "a"
          ? { envelopes: [], pagingInfo: { limit: 0, cursor: null, direction: "SORT_DIRECTION_DESCENDING" } }
          : {},
      );
    expect(await api().query({ contentTopic: "a" })).toEqual({ envelopes: [] });
    expect(await api().query({ contentTopic: "b" })).toEqual({ envelopes: [] });
  });

  it("rejects URL-safe base64 and numeric-looking garbage in answers without retrying", async () => {
    const answers = [
      { envelopes: [{ contentTopic: TOPIC, timestampNs: "1", message: "-_8=" }] },
      { envelopes: [{ contentTopic: TOPIC, timestampNs: "1e3", message: "AA==" }] },
      { envelopes: "nope" },
    ];
    fake.handle = (_request, response) => sendJson(response, 200, answers[fake.requests.length - 1]);
    await expect(api().query({ contentTopic: TOPIC })).rejects.toThrow(
      /query: malformed response: response.envelopes\[0\].message: invalid base64: character "-"/,
    );
    await expect(api().query({ contentTopic: TOPIC })).rejects.toThrow(/timestampNs is not a uint64 decimal string: "1e3"/);
    await expect(api().query({ contentTopic: TOPIC })).rejects.toThrow(/envelopes is not an array/);
    expect(fake.requests).toHaveLength(3);
  });

  it("ignores a trailing slash in apiUrl instead of sending //message", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, {});
    await api({ apiUrl: fake.url + "/" }).query({ contentTopic: TOPIC });
    expect(fake.requests[0].path).toBe("/message/v1/query");
  });

  it("sends the package version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(CLIENT_VERSION).toBe(pkg.version);
  });
});

describe("bad input is refused before anything is sent", () => {
  it.each([
    [() => api().publish([]), /publish needs a non-empty array of envelopes/],
    [
      () => api().publish([{ contentTopic: "", timestampNs: 1n, message: new Uint8Array(1) }]),
      /envelopes\[0\]\.contentTopic must be a non-empty string, got ""/,
    ],
    [
      () => api().publish([{ contentTopic: TOPIC, timestampNs: -1n, message: new Uint8Array(1) }]),
      /envelopes\[0\]\.timestampNs must be a bigint between 0 and 2\^64-1, got -1n/,
    ],
    [
      () => api().publish([{ contentTopic: TOPIC, timestampNs: 5 as unknown as bigint, message: new Uint8Array(1) }]),
      /timestampNs must be a bigint .* got the number 5/,
    ],
    [
      () => api().publish([{ contentTopic: TOPIC, timestampNs: 1n, message: new Uint8Array(0) }]),
      /envelopes\[0\]\.message must be a non-empty Uint8Array, got Uint8Array\(0\)/,
    ],
    [() => api().query({ contentTopic: TOPIC, pageSize: 101 }), /query.pageSize must be an integer from 1 to 100, got the number 101/],
    [
      () => api().query({ contentTopic: TOPIC, direction: "up" as "ascending" }),
      /query.direction must be "ascending", "descending" or "unspecified", got "up"/,
    ],
    [() => api().queryAll({ contentTopic: TOPIC, limit: 0 }), /limit must be a positive integer, got 0/],
    [() => api().batchQuery([{ contentTopic: TOPIC }, { contentTopic: "" }]), /queries\[1\]\.contentTopic must be a non-empty/],
    [
      () => api({ authTokenProvider: undefined }).publish([{ contentTopic: TOPIC, timestampNs: 1n, message: new Uint8Array(1) }]),
      /publish needs an auth token/,
    ],
  ])("%#", async (call, message) => {
    await expect(call()).rejects.toThrow(message);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses an apiUrl that is not http(s)", () => {
    expect(() => new HttpMessageApi({ apiUrl: "ftp://127.0.0.1" })).toThrow(/must use http or https/);
    expect(() => new HttpMessageApi({ apiUrl: "127.0.0.1:5555" })).toThrow(/is not a valid URL/);
  });
});

describe("errors and retries", () => {
  const envelope = { contentTopic: TOPIC, timestampNs: 1n, message: new Uint8Array([1]) };

  it("asks for a fresh token once on code 16 and retries the publish with it", async () => {
    const refreshes: boolean[] = [];
    let issued = 0;
    const authTokenProvider = async ({ refresh }: { refresh: boolean }) => {
      refreshes.push(refresh);
      return `token-${++issued}`;
    };
    fake.handle = (request, response) =>
      request.headers.authorization === "Bearer token-2"
        ? sendJson(response, 200, {})
        : sendJson(response, 401, { code: 16, message: "validating token: token expired", details: [] });
    await api({ authTokenProvider }).publish([envelope]);
    expect(refreshes).toEqual([false, true]);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
  });

  it("gives up after the refreshed token is refused too", async () => {
    fake.handle = (_request, response) => sendJson(response, 401, { code: 16, message: "validating token: bad", details: [] });
    const error = await api().publish([envelope]).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ call: "publish", code: GrpcCode.UNAUTHENTICATED, httpStatus: 401 });
    expect(error.message).toBe("publish: validating token: bad (code 16, HTTP 401)");
    expect(fake.requests).toHaveLength(2);
  });

  it("does not retry other 4xx answers", async () => {
    fake.handle = (_request, response) =>
      sendJson(response, 403, { code: 7, message: "publishing to restricted topic", details: [] });
    const error = await api().publish([envelope]).catch((e) => e);
    expect(error).toMatchObject({ code: 7, httpStatus: 403, call: "publish", transient: false });
    expect(fake.requests).toHaveLength(1);
  });

  it("retries 5xx and network failures, then succeeds", async () => {
    fake.handle = (_request, response, raw) => {
      const n = fake.requests.length;
      if (n === 1) sendJson(response, 503, { code: 14, message: "unavailable" });
      else if (n === 2) raw.socket.destroy(); // connection reset
      else if (n === 3) {
        response.writeHead(502, { "Content-Type": "text/html" });
        response.end("<html>Bad Gateway</html>");
      } else sendJson(response, 200, { envelopes: [] });
    };
    expect(await api().query({ contentTopic: TOPIC })).toEqual({ envelopes: [] });
    expect(fake.requests).toHaveLength(4);
  });

  it("throws the last error once the attempts are used up, with the code derived from a non-JSON answer", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(502, { "Content-Type": "text/html" });
      response.end("<html>Bad Gateway</html>");
    };
    const error = await api({ retry: { ...fastRetry, attempts: 3 } })
      .query({ contentTopic: TOPIC })
      .catch((e) => e);
    expect(error).toMatchObject({ code: GrpcCode.UNAVAILABLE, httpStatus: 502, transient: true, call: "query" });
    expect(error.message).toMatch(/HTTP 502 .*<html>Bad Gateway<\/html>/);
    expect(fake.requests).toHaveLength(3);
  });

  it("reports a network failure as UNAVAILABLE with the socket-level reason", async () => {
    fake.handle = (_request, _response, raw) => void raw.socket.destroy();
    const error = await api({ retry: { attempts: 2, initialDelayMs: 1 } })
      .query({ contentTopic: TOPIC })
      .catch((e) => e);
    expect(error).toMatchObject({ code: GrpcCode.UNAVAILABLE, httpStatus: undefined, transient: true });
    expect(error.message).toMatch(/^query: network error: /);
    expect(fake.requests).toHaveLength(2);
  });

  it("honours a short Retry-After on 429 and refuses to wait out a long one", async () => {
    fake.handle = (_request, response) =>
      fake.requests.length === 1
        ? sendJson(response, 429, { code: 8, message: "rate limited" }, { "Retry-After": "0" })
        : sendJson(response, 200, {});
    await api().query({ contentTopic: TOPIC });
    expect(fake.requests).toHaveLength(2);

    fake.handle = (_request, response) =>
      sendJson(response, 429, { code: 8, message: "slow down", details: [{ retryDelay: "3600s" }] });
    const error = await api().query({ contentTopic: TOPIC }).catch((e) => e);
    expect(error).toMatchObject({ code: 8, httpStatus: 429, retryAfterMs: 3_600_000 });
    expect(fake.requests).toHaveLength(3);
  });

  it("times out an attempt that gets no answer", async () => {
    fake.handle = () => undefined; // never answers
    const error = await api({ retry: { attempts: 1 }, requestTimeoutMs: 50 })
      .query({ contentTopic: TOPIC })
      .catch((e) => e);
    expect(error).toMatchObject({ code: GrpcCode.DEADLINE_EXCEEDED, transient: true });
    expect(error.message).toBe("query: no complete answer within 50 ms (code 4)");
  });
});

describe("paging and batches", () => {
  const envelopeJson = (i: number) => ({ contentTopic: TOPIC, timestampNs: String(i), message: toBase64(new Uint8Array([i])) });
  const cursorJson = (i: number) => ({ index: { digest: toBase64(new Uint8Array([i])), senderTimeNs: String(i) } });

  it("queryAll follows cursors and stops on a page without one", async () => {
    fake.handle = (request, response) => {
      const after = Number(request.json.pagingInfo.cursor?.index.senderTimeNs ?? 0);
      const ids = [after + 1, after + 2].filter((i) => i <= 5);
      sendJson(response, 200, {
        envelopes: ids.map(envelopeJson),
        pagingInfo: ids.length === 2 ? { cursor: cursorJson(ids[1]) } : { cursor: null },
      });
    };
    const all = await api().queryAll({ contentTopic: TOPIC, pageSize: 2 });
    expect(all.map((e) => e.timestampNs)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(fake.requests).toHaveLength(3);
  });

  it("queryAll stops at an empty page even if a cursor came with it", async () => {
    fake.handle = (request, response) =>
      request.json.pagingInfo.cursor
        ? sendJson(response, 200, { envelopes: [], pagingInfo: { cursor: cursorJson(9) } })
        : sendJson(response, 200, { envelopes: [envelopeJson(1)], pagingInfo: { cursor: cursorJson(1) } });
    expect(await api().queryAll({ contentTopic: TOPIC })).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it("queryAll stops at the limit and asks for no more than it needs", async () => {
    fake.handle = (request, response) => {
      const after = Number(request.json.pagingInfo.cursor?.index.senderTimeNs ?? 0);
      const ids = Array.from({ length: request.json.pagingInfo.limit }, (_, i) => after + i + 1);
      sendJson(response, 200, { envelopes: ids.map(envelopeJson), pagingInfo: { cursor: cursorJson(ids.at(-1)!) } });
    };
    const some = await api().queryAll({ contentTopic: TOPIC, limit: 3 });
    expect(some.map((e) => e.timestampNs)).toEqual([1n, 2n, 3n]);
    expect(fake.requests[0].json.pagingInfo.limit).toBe(3);
    expect(fake.requests).toHaveLength(1);
  });

  it("queryAll refuses to loop on a node that repeats its cursor", async () => {
    fake.handle = (_request, response) =>
      sendJson(response, 200, { envelopes: [envelopeJson(1)], pagingInfo: { cursor: cursorJson(1) } });
    await expect(api().queryAll({ contentTopic: TOPIC })).rejects.toThrow(/same cursor twice/);
  });

  it("batchQuery splits into batches of 50 sent in parallel and keeps the order", async () => {
    const open: (() => void)[] = [];
    fake.handle = (request, response) => {
      const answer = () =>
        sendJson(response, 200, {
          responses: request.json.requests.map((q: { contentTopics: string[] }) => ({
            envelopes: [{ contentTopic: q.contentTopics[0], timestampNs: "1", message: "AQ==" }],
          })),
        });
      open.push(answer);
      // All three batches must be in flight at once; answer them last-first to scramble completion order.
      if (open.length === 3) for (const respond of open.reverse()) respond();
    };
    const topics = Array.from({ length: 120 }, (_, i) => `/xmtp/0/t-${i}/proto`);
    const results = await api().batchQuery(topics.map((contentTopic) => ({ contentTopic, pageSize: 5, direction: "descending" })));
    expect(results.map((envelopes) => envelopes[0].contentTopic)).toEqual(topics);
    expect(fake.requests.map((r) => r.json.requests.length).sort()).toEqual([20, 50, 50]);
    expect(fake.requests[0].path).toBe("/message/v1/batch-query");
    expect(fake.requests[0].json.requests[0].pagingInfo).toEqual({ limit: 5, direction: "SORT_DIRECTION_DESCENDING" });
  });

  it("batchQuery of nothing sends nothing", async () => {
    expect(await api().batchQuery([])).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it("batchQuery insists on one response per query", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, {});
    await expect(api().batchQuery([{ contentTopic: TOPIC }])).rejects.toThrow(
      "batchQuery: malformed response: responses is missing",
    );
    fake.handle = (_request, response) => sendJson(response, 200, { responses: [] });
    await expect(api().batchQuery([{ contentTopic: TOPIC }])).rejects.toThrow("0 responses for 1 queries");
  });
});
