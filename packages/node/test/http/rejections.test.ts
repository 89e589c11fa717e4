// Every publish-auth rule (docs/protocol/api.md §4, §2.2) and every bad-input rule, over real HTTP: the right 4xx, a gRPC
// code and a message naming the problem, nothing stored, and the node still serving afterwards.
import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthToken } from "@xmtp-ts/crypto";
import {
  bytesOf,
  createIdentity,
  envelopeJson,
  everythingStored,
  nowNs,
  post,
  publish,
  startTestNode,
  type Identity,
  type TestNode,
} from "./helpers.js";

const MAX_BODY = 64 * 1024;
let node: TestNode;
let alice: Identity;
let bob: Identity;
const TOPIC = "/xmtp/0/m-rejections/proto";
const good = () => envelopeJson(TOPIC, nowNs(), bytesOf(`ok-${Math.random()}`));

beforeAll(async () => {
  node = await startTestNode({ http: { maxBodyBytes: MAX_BODY, maxStreamBufferBytes: 1 << 20, streamKeepAliveMs: 30_000, shutdownGraceMs: 5_000 } });
  [alice, bob] = await Promise.all([createIdentity(), createIdentity()]);
});
afterAll(() => node.dispose());

let storedBefore = 0;
async function expectNothingStored() {
  expect((await everythingStored(node)).length).toBe(storedBefore);
}
afterEach(async () => {
  // The node survived whatever the test sent.
  const health = await post(node.url, "/message/v1/query", { contentTopics: [TOPIC] });
  expect(health.status).toBe(200);
});

async function expectRefused(
  res: { status: number; body: any },
  status: number,
  code: number,
  message: RegExp,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ code, details: [] });
  expect(res.body.message).toMatch(message);
  await expectNothingStored();
}

describe("publish authentication (401, code 16)", () => {
  it("refuses a missing token", async () => {
    storedBefore = (await everythingStored(node)).length;
    await expectRefused(await publish(node, [good()]), 401, 16, /^validating token: missing Authorization header/);
  });

  it("refuses a token that is not base64 or not a token", async () => {
    storedBefore = (await everythingStored(node)).length;
    await expectRefused(await publish(node, [good()], "not_base64-at-all"), 401, 16, /^validating token: cannot decode token/);
    await expectRefused(await publish(node, [good()], "AAAA"), 401, 16, /^validating token: /);
    await expectRefused(await post(node.url, "/message/v1/publish", { envelopes: [good()] }, { authorization: "Token abc" }), 401, 16, /not of the form "Bearer <token>"/);
  });

  it("refuses auth data signed by the wrong key", async () => {
    storedBefore = (await everythingStored(node)).length;
    const forged = createAuthToken({ identityKey: alice.identityKey, identityPrivateKey: bob.identityPrivateKey, walletAddress: alice.address, createdNs: nowNs() });
    await expectRefused(await publish(node, [good()], forged), 401, 16, /auth data signature does not match the identity key/);
  });

  it("refuses a token claiming another wallet than the one that signed the identity key", async () => {
    storedBefore = (await everythingStored(node)).length;
    const forged = createAuthToken({ identityKey: alice.identityKey, identityPrivateKey: alice.identityPrivateKey, walletAddress: bob.address, createdNs: nowNs() });
    await expectRefused(await publish(node, [envelopeJson(`/xmtp/0/contact-${bob.address}/proto`, nowNs(), bytesOf("x"))], forged), 401, 16, /wallet address mismatch/);
  });

  it("refuses an expired token", async () => {
    storedBefore = (await everythingStored(node)).length;
    const expired = alice.token(nowNs() - 3_601_000_000_000n);
    await expectRefused(await publish(node, [good()], expired), 401, 16, /^validating token: token expired$/);
  });
});

describe("restricted topics (403, code 7)", () => {
  it("lets a wallet write its own contact and privatestore topics", async () => {
    const res = await publish(node, [
      envelopeJson(`/xmtp/0/contact-${alice.address}/proto`, nowNs(), bytesOf("my bundle")),
      envelopeJson(`/xmtp/0/privatestore-${alice.address}/key_bundle/proto`, nowNs(), bytesOf("my keys")),
    ], alice.token());
    expect(res.status).toBe(200);
  });

  it.each([
    ["another wallet's contact topic", () => `/xmtp/0/contact-${bob.address}/proto`],
    ["another wallet's privatestore topic", () => `/xmtp/0/privatestore-${bob.address}/key_bundle/proto`],
    ["its own address not in EIP-55 form", () => `/xmtp/0/contact-${alice.address.toLowerCase()}/proto`],
  ])("refuses %s and stores nothing of the request", async (_, topicOf) => {
    storedBefore = (await everythingStored(node)).length;
    const topic = topicOf();
    const res = await publish(node, [good(), envelopeJson(topic, nowNs(), bytesOf("hijack"))], alice.token());
    await expectRefused(res, 403, 7, /^publishing to restricted topic/);
    expect(res.body.message).toContain(topic);
  });
});

describe("bad input (400, code 3; nothing stored)", () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ["malformed JSON", () => '{"envelopes":[', /request body is not valid JSON/],
    ["a JSON array body", () => "[]", /request must be a JSON object, got an array/],
    ["envelopes of the wrong type", () => ({ envelopes: { contentTopic: TOPIC } }), /envelopes must be an array, got an object/],
    ["no envelopes", () => ({ envelopes: [] }), /envelopes must not be empty/],
    ["a topic of the wrong type", () => ({ envelopes: [{ ...good(), contentTopic: 42 }] }), /envelopes\[0\]\.contentTopic must be a string, got number 42/],
    ["URL-safe base64 (-)", () => ({ envelopes: [{ ...good(), message: "ab-d" }] }), /envelopes\[0\]\.message is not standard base64: .*"-"/],
    ["URL-safe base64 (_)", () => ({ envelopes: [{ ...good(), message: "ab_d" }] }), /message is not standard base64: .*"_"/],
    ["base64 with a space", () => ({ envelopes: [{ ...good(), message: "ab d" }] }), /message is not standard base64/],
    ["base64 with a stray character", () => ({ envelopes: [{ ...good(), message: "ab*d" }] }), /message is not standard base64/],
    ["a non-numeric timestamp", () => ({ envelopes: [{ ...good(), timestampNs: "soon" }] }), /envelopes\[0\]\.timestampNs must be a non-negative decimal integer string/],
    ["a negative timestamp", () => ({ envelopes: [{ ...good(), timestampNs: "-1" }] }), /timestampNs must be a non-negative/],
    ["a negative numeric timestamp", () => ({ envelopes: [{ ...good(), timestampNs: -1 }] }), /timestampNs must be a non-negative safe integer/],
    ["an unsafe numeric timestamp", () => ({ envelopes: [{ ...good(), timestampNs: 1795659984974000000 }] }), /safe integer/],
    ["an empty topic", () => ({ envelopes: [{ ...good(), contentTopic: "" }] }), /envelopes\[0\]\.contentTopic must not be empty/],
    ["a topic over 300 characters", () => ({ envelopes: [{ ...good(), contentTopic: "/xmtp/0/" + "x".repeat(293) }] }), /contentTopic is longer than 300 bytes/],
    ["an empty message", () => ({ envelopes: [{ ...good(), message: "" }] }), /envelopes\[0\]\.message must not be empty/],
    ["a bad second envelope after a good one", () => ({ envelopes: [good(), { ...good(), message: "%%%%" }] }), /envelopes\[1\]\.message is not standard base64/],
  ];
  it.each(cases)("publish with %s", async (_, body, message) => {
    storedBefore = (await everythingStored(node)).length;
    const res = await post(node.url, "/message/v1/publish", body(), { authorization: `Bearer ${alice.token()}` });
    await expectRefused(res, 400, 3, message);
  });

  it("refuses a message over 1,048,214 bytes", async () => {
    const big = await startTestNode();
    try {
      const over = Buffer.alloc(1_048_215, 7).toString("base64");
      const res = await publish(big, [envelopeJson(TOPIC, 1n, over)], alice.token());
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 3, message: expect.stringMatching(/message is 1048215 bytes, more than the 1048214 allowed/) });
      expect(await everythingStored(big)).toHaveLength(0);
    } finally {
      await big.dispose();
    }
  });

  const queryCases: Array<[string, string, unknown, RegExp]> = [
    ["query", "an empty topic list", { contentTopics: [] }, /contentTopics must name a content topic/],
    ["query", "no topic list", {}, /contentTopics must name a content topic/],
    ["query", "a limit over 100", { contentTopics: [TOPIC], pagingInfo: { limit: 101 } }, /^cannot exceed 100 rows per query$/],
    ["query", "a bad direction", { contentTopics: [TOPIC], pagingInfo: { direction: "SIDEWAYS" } }, /direction must be SORT_DIRECTION_ASCENDING/],
    ["query", "a non-numeric time bound", { contentTopics: [TOPIC], endTimeNs: "later" }, /endTimeNs must be a non-negative decimal/],
    ["batch-query", "more than 50 queries", { requests: Array.from({ length: 51 }, () => ({ contentTopics: [TOPIC] })) }, /cannot exceed 50 queries per batch, got 51/],
    ["batch-query", "a sub-query with no topics", { requests: [{ contentTopics: [TOPIC] }, { contentTopics: [] }] }, /requests\[1\]\.contentTopics must name a content topic/],
    ["batch-query", "requests of the wrong type", { requests: "all" }, /requests must be an array/],
    ["subscribe", "an empty topic list", { contentTopics: [] }, /contentTopics must name at least one content topic/],
    ["subscribe", "malformed JSON", "{", /request body is not valid JSON/],
  ];
  it.each(queryCases)("%s with %s", async (rpc, _, body, message) => {
    storedBefore = (await everythingStored(node)).length;
    const res = await post(node.url, `/message/v1/${rpc}`, body);
    await expectRefused(res, 400, 3, message);
  });

  it("answers unknown paths with 404 code 5", async () => {
    storedBefore = (await everythingStored(node)).length;
    await expectRefused(await post(node.url, "/message/v2/publish", { envelopes: [good()] }, { authorization: `Bearer ${alice.token()}` }), 404, 5, /unknown path "\/message\/v2\/publish"/);
    await expectRefused(await post(node.url, "/", {}), 404, 5, /unknown path "\/"/);
  });
});

describe("oversized bodies (413, code 8)", () => {
  /** Sends `total` bytes in chunks; reports the response and whether it came before the body was finished. */
  function sendLargeBody(options: { declareLength: boolean; total: number }) {
    return new Promise<{ status: number; body: any; answeredBeforeBodyEnd: boolean }>((resolve, reject) => {
      const url = new URL(node.url + "/message/v1/publish");
      const headers: Record<string, string | number> = { authorization: `Bearer ${alice.token()}` };
      if (options.declareLength) headers["content-length"] = options.total;
      const req = httpRequest(url, { method: "POST", headers });
      let sent = 0;
      let finished = false;
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()), answeredBeforeBodyEnd: !finished }));
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        while (sent < options.total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", () => setTimeout(pump, 5));
          // Trickle so the server sees the overflow long before the client is done.
          return void setTimeout(pump, 5);
        }
        finished = true;
        req.end();
      };
      pump();
    });
  }

  it("refuses an oversized Content-Length before reading the body", async () => {
    storedBefore = (await everythingStored(node)).length;
    const res = await sendLargeBody({ declareLength: true, total: 4 * MAX_BODY });
    expect(res.answeredBeforeBodyEnd).toBe(true);
    await expectRefused(res, 413, 8, new RegExp(`request body is larger than ${MAX_BODY} bytes`));
  });

  it("refuses an oversized chunked body while it is still arriving", async () => {
    storedBefore = (await everythingStored(node)).length;
    const res = await sendLargeBody({ declareLength: false, total: 64 * MAX_BODY });
    expect(res.answeredBeforeBodyEnd).toBe(true);
    await expectRefused(res, 413, 8, /request body is larger than/);
  });
});
