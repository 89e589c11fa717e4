// The message API's answers as the fast paths write them: every header in one writeHead (request id included, on
// every kind of answer), exact Content-Length for any UTF-8 body, and query pages served from the envelope cache
// that still show what was published after they were cached.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
