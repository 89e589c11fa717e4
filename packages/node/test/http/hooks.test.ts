// The request-path extension points other layers plug into (security, metrics, extra routes).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, GrpcCode } from "../../src/index.js";
import type { ApiHooks } from "../../src/http/api.js";
import { bytesOf, createIdentity, envelopeJson, everythingStored, post, publish, startTestNode, type Identity, type TestNode } from "./helpers.js";

let node: TestNode;
let alice: Identity;
const responses: Array<{ path: string; status: number; code?: number }> = [];
const released: string[] = [];
const readBytes: Array<[string, number]> = [];
const DENIED_TOPIC = "/xmtp/0/m-denied/proto";

const hooks: ApiHooks = {
  handleOther(_req, res, path) {
    if (path !== "/custom/hello") return false;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return true;
  },
  validatePublish(envelopes) {
    if (envelopes.length > 2) throw new ApiError(GrpcCode.RESOURCE_EXHAUSTED, "too many envelopes in one publish");
  },
  authorizePublish(caller, envelopes) {
    if (envelopes.some((e) => e.contentTopic === DENIED_TOPIC)) {
      throw new ApiError(GrpcCode.PERMISSION_DENIED, `wallet ${caller.walletAddress} is denied`);
    }
  },
  beforeRead(queries) {
    if (queries.some((q) => q.topic === DENIED_TOPIC)) throw new ApiError(GrpcCode.RESOURCE_EXHAUSTED, "slow down");
  },
  afterRead(messageBytes, req) {
    readBytes.push([req.url!, messageBytes]);
  },
  beforeSubscribe(topics) {
    if (topics !== "all" && topics.includes(DENIED_TOPIC)) throw new ApiError(GrpcCode.RESOURCE_EXHAUSTED, "too many streams");
    return () => void released.push(topics === "all" ? "all" : topics.join(","));
  },
  onResponse: (info) => void responses.push(info),
};

beforeAll(async () => {
  node = await startTestNode({}, { hooks });
  alice = await createIdentity();
});
afterAll(() => node.dispose());

describe("ApiHooks", () => {
  it("serves extra routes and still 404s the rest", async () => {
    const res = await fetch(node.url + "/custom/hello");
    expect([res.status, await res.text()]).toEqual([200, "ok"]);
    expect((await post(node.url, "/elsewhere", {})).status).toBe(404);
  });

  it("lets a publish check refuse before and after authentication, storing nothing", async () => {
    const many = [1, 2, 3].map((i) => envelopeJson("/xmtp/0/m-ok/proto", BigInt(i), bytesOf(`m${i}`)));
    const tooMany = await publish(node, many); // refused before the (missing) token is even looked at
    expect([tooMany.status, tooMany.body.code]).toEqual([429, 8]);
    const denied = await publish(node, [envelopeJson(DENIED_TOPIC, 1n, bytesOf("x"))], alice.token());
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(`wallet ${alice.address} is denied`);
    expect(await everythingStored(node)).toHaveLength(0);
    expect((await publish(node, [envelopeJson("/xmtp/0/m-ok/proto", 1n, bytesOf("fine"))], alice.token())).status).toBe(200);
  });

  it("lets read and subscribe checks refuse, and releases a stream's slot when it closes", async () => {
    expect((await post(node.url, "/message/v1/query", { contentTopics: [DENIED_TOPIC] })).status).toBe(429);
    expect((await post(node.url, "/message/v1/batch-query", { requests: [{ contentTopics: ["/a"] }, { contentTopics: [DENIED_TOPIC] }] })).status).toBe(429);
    expect((await post(node.url, "/message/v1/subscribe", { contentTopics: [DENIED_TOPIC] })).status).toBe(429);
    const controller = new AbortController();
    const stream = await fetch(node.url + "/message/v1/subscribe", { method: "POST", body: JSON.stringify({ contentTopics: ["/a", "/b"] }), signal: controller.signal });
    expect(stream.status).toBe(200);
    expect(released).toEqual([]);
    controller.abort();
    for (let i = 0; i < 200 && released.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(released).toEqual(["/a,/b"]);
  });

  it("reports the message bytes each read returned, once per request, and nothing for an empty read", async () => {
    const topic = "/xmtp/0/m-read-bytes/proto";
    // Two publishes: this node's validatePublish hook refuses more than 2 envelopes at once.
    for (const sizes of [[1, 2], [3]]) {
      const envelopes = sizes.map((i) => envelopeJson(topic, BigInt(i), new Uint8Array(100 * i).fill(i)));
      expect((await publish(node, envelopes, alice.token())).status).toBe(200);
    }
    readBytes.length = 0;
    await post(node.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 2, direction: "SORT_DIRECTION_ASCENDING" } });
    await post(node.url, "/message/v1/query", { contentTopics: ["/xmtp/0/m-nothing-here/proto"] });
    await post(node.url, "/message/v1/batch-query", {
      requests: [{ contentTopics: [topic] }, { contentTopics: ["/xmtp/0/m-nothing-here/proto"] }, { contentTopics: [topic], pagingInfo: { limit: 1 } }],
    });
    expect(readBytes).toEqual([
      ["/message/v1/query", 300],
      ["/message/v1/batch-query", 600 + 300],
    ]);
  });

  it("reports every answered request with its status and refusal code", () => {
    expect(responses).toContainEqual(expect.objectContaining({ path: "/message/v1/publish", status: 403, code: 7 }));
    expect(responses).toContainEqual(expect.objectContaining({ path: "/message/v1/publish", status: 200, code: undefined }));
    expect(responses).toContainEqual(expect.objectContaining({ path: "/message/v1/query", status: 429, code: 8 }));
    expect(responses.every((r) => typeof (r as { durationMs?: number }).durationMs === "number")).toBe(true);
  });
});
