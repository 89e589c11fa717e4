// Random, wrong-typed, mutated, huge and deeply nested requests against the HTTP API of a real in-process node.
// For every request: no 5xx, an error body of the documented shape for every refusal, nothing stored by a refused
// request, nothing logged at error level, and the node still serving afterwards.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromBase64, toBase64 } from "@xmtp-ts/crypto";
import { createJsonLogger } from "../../src/log.js";
import { readSince } from "../../src/store/test-support/readSince.js";
import { createIdentity, envelopeJson, nowNs, startTestNode, type Identity, type TestNode } from "../http/helpers.js";
import { securityConfig } from "../security/helpers.js";
import { fuzzParameters, mutatedBytes, mutatedText } from "./support.js";

const PATHS = [
  "/message/v1/publish",
  "/message/v1/query",
  "/message/v1/batch-query",
  "/message/v1/subscribe",
  "/message/v1/subscribe-all",
];

let node: TestNode;
let identity: Identity;
let token: string;
const errorLogs: string[] = [];
let sequence = 0n;

beforeAll(async () => {
  const logger = createJsonLogger({
    level: "warn",
    sink: {
      write(line: string) {
        if (JSON.parse(line).level === "error") errorLogs.push(line);
      },
    },
  });
  // Every security check stays on the path, with ceilings no fuzz run reaches: a rate-limited 429 would stop the
  // fuzzer from reaching the token parser and the codec behind it.
  const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };
  node = await startTestNode(
    {
      security: securityConfig({
        rateLimits: { publish: unlimited, read: unlimited, subscribe: unlimited, authFailures: unlimited },
        limits: { maxStreamsPerClient: 1e6 },
      }),
    },
    { logger },
  );
  identity = await createIdentity();
  token = identity.token();
});

/** Answers seen per endpoint and status, printed at the end so a run shows what it exercised. */
const seen = new Map<string, number>();

afterAll(async () => {
  console.log(`[fuzz] HTTP answers: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  await node?.dispose();
});

beforeEach(() => {
  errorLogs.length = 0;
});

interface Sent {
  path: string;
  body: string | Uint8Array;
  headers: Record<string, string>;
}

async function send(request: Sent): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const response = await fetch(node.url + request.path, {
    method: "POST",
    headers: request.headers,
    body: typeof request.body === "string" ? request.body : Buffer.from(request.body),
    signal: controller.signal,
  });
  if (response.status === 200 && request.path.includes("subscribe")) {
    // A stream never ends by itself; its headers are the answer.
    controller.abort();
    return { status: 200, text: "" };
  }
  return { status: response.status, text: await response.text() };
}

/** Sends the request and checks every invariant; returns the status. */
async function check(request: Sent): Promise<number> {
  sequence = (await node.store.readDigestsSince(sequence, 1_000_000)).nextSequence;
  const { status, text } = await send(request);
  const key = `${request.path.replace("/message/v1/", "")} ${status}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
  expect(status, `${request.path} → ${status} ${text.slice(0, 300)}`).toBeLessThan(500);
  if (status !== 200) {
    const body = JSON.parse(text);
    expect(Number.isInteger(body.code) && body.code > 0, text).toBe(true);
    expect(typeof body.message).toBe("string");
    expect(body.details).toEqual([]);
    const storedSince = await readSince(node.store, sequence, 10);
    expect(storedSince.envelopes, `refused ${request.path} stored something`).toHaveLength(0);
  }
  expect(errorLogs, "the node logged an internal error").toEqual([]);
  return status;
}

const TOPIC = "/xmtp/0/m-fuzz/proto";

/** Any JSON-ish value, including the wrong types for every field. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.base64String({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(TOPIC, "/xmtp/0/contact-0x0000000000000000000000000000000000000000/proto", "", "1", "-1", "SORT_DIRECTION_ASCENDING"),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

const envelopeShape = fc.record(
  { contentTopic: anyValue, content_topic: anyValue, timestampNs: anyValue, message: anyValue },
  { requiredKeys: [] },
);
const queryShape = fc.record(
  {
    contentTopics: fc.oneof(anyValue, fc.array(anyValue, { maxLength: 3 })),
    startTimeNs: anyValue,
    endTimeNs: anyValue,
    pagingInfo: fc.oneof(
      anyValue,
      fc.record(
        {
          limit: anyValue,
          direction: anyValue,
          cursor: fc.oneof(anyValue, fc.record({ index: fc.record({ digest: anyValue, senderTimeNs: anyValue }) })),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

/** Bodies shaped like real requests but with random and wrong-typed fields. */
const shapedBody: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ envelopes: fc.oneof(anyValue, fc.array(envelopeShape, { maxLength: 4 })) }),
  queryShape,
  fc.record({ requests: fc.oneof(anyValue, fc.array(queryShape, { maxLength: 4 })) }),
);

function authorizationOf(kind: number, randomText: string, randomBytes: Uint8Array): Record<string, string> {
  switch (kind) {
    case 0:
      return {};
    case 1:
      return { authorization: `Bearer ${token}` };
    case 2:
      return { authorization: `Bearer ${randomText}` };
    case 3:
      return { authorization: `Bearer ${toBase64(randomBytes)}` };
    default:
      return { authorization: randomText };
  }
}

const headersArb = fc
  .tuple(
    fc.integer({ min: 0, max: 4 }),
    fc.string({ minLength: 1, maxLength: 60 }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom("text/plain;charset=UTF-8", "application/json", "application/x-www-form-urlencoded", "application/grpc", "nonsense"),
  )
  .map(([kind, text, bytes, contentType]) => ({ ...authorizationOf(kind, text, bytes), "content-type": contentType }));

const FUZZ_TIMEOUT = 60_000;

describe("HTTP API fuzzing", () => {
  it(
    "survives random JSON values on every endpoint",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 4 }), headersArb, async (path, value, headers) => {
          await check({ path, body: JSON.stringify(value) ?? "null", headers });
        }),
        fuzzParameters("random JSON values", 400),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    "survives request-shaped bodies with wrong-typed and random fields",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...PATHS), shapedBody, headersArb, async (path, value, headers) => {
          await check({ path, body: JSON.stringify(value), headers });
        }),
        fuzzParameters("request-shaped bodies", 600),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    "survives byte-mutated valid requests, with a valid or mutated token",
    async () => {
      const valid: Record<string, string> = {
        "/message/v1/publish": JSON.stringify({ envelopes: [envelopeJson(TOPIC, nowNs(), new Uint8Array([1, 2, 3]))] }),
        "/message/v1/query": JSON.stringify({
          contentTopics: [TOPIC],
          pagingInfo: { limit: 5, direction: "SORT_DIRECTION_ASCENDING", cursor: { index: { digest: toBase64(new Uint8Array(32)), senderTimeNs: "1" } } },
        }),
        "/message/v1/batch-query": JSON.stringify({ requests: [{ contentTopics: [TOPIC], pagingInfo: { limit: 5 } }] }),
        "/message/v1/subscribe": JSON.stringify({ contentTopics: [TOPIC] }),
      };
      const tokenBytes = fromBase64(token);
      const mutatedRequest = fc.constantFrom(...Object.keys(valid)).chain((path) =>
        fc.record({
          path: fc.constant(path),
          body: fc.oneof(mutatedText(valid[path]), mutatedBytes(new TextEncoder().encode(valid[path]))),
          // null: the genuine token.
          tokenBytes: fc.option(mutatedBytes(tokenBytes), { nil: null }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(mutatedRequest, async ({ path, body, tokenBytes: mutated }) => {
          const auth = mutated === null ? token : toBase64(mutated);
          await check({ path, body, headers: { authorization: `Bearer ${auth}` } });
        }),
        fuzzParameters("mutated requests", 800),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    "authenticates well-formed publishes only with the genuine token, storing nothing otherwise",
    async () => {
      const tokenBytes = fromBase64(token);
      const topicArb = fc.constantFrom(TOPIC, `/xmtp/0/contact-${identity.address}/proto`, "/xmtp/0/mE-fuzz/proto", "/xmtp/0/invite-x/proto");
      const envelopeArb = fc.record({ topic: topicArb, message: fc.uint8Array({ minLength: 1, maxLength: 64 }), ts: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) });
      const tokenArb = fc.oneof(
        fc.constant({ kind: "genuine", value: token }),
        mutatedBytes(tokenBytes).map((b) => ({ kind: "mutated", value: toBase64(b) })),
        fc.uint8Array({ maxLength: 400 }).map((b) => ({ kind: "random", value: toBase64(b) })),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(envelopeArb, { minLength: 1, maxLength: 3 }), tokenArb, async (envelopes, auth) => {
          const body = JSON.stringify({ envelopes: envelopes.map((e) => envelopeJson(e.topic, e.ts, e.message)) });
          const status = await check({ path: "/message/v1/publish", body, headers: { authorization: `Bearer ${auth.value}` } });
          if (auth.kind === "genuine") expect(status).toBe(200);
          // A mutation may leave the signed parts intact (e.g. appended unknown bytes); then it is still alice's.
          else expect([200, 401]).toContain(status);
        }),
        fuzzParameters("publishes with genuine, mutated and random tokens", 300),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    "survives arbitrary bytes as a body",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...PATHS), fc.uint8Array({ maxLength: 2000 }), async (path, body) => {
          await check({ path, body, headers: { authorization: `Bearer ${token}` } });
        }),
        fuzzParameters("arbitrary bytes", 300),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    "refuses huge and deeply nested values without crashing or storing",
    async () => {
      const deepArray = "[".repeat(200_000) + "]".repeat(200_000);
      const deepObject = '{"envelopes":'.repeat(50_000) + "[]" + "}".repeat(50_000);
      const hugeTopic = JSON.stringify({ contentTopics: ["/xmtp/0/" + "a".repeat(3_000_000) + "/proto"] });
      const manyTopics = JSON.stringify({ contentTopics: Array.from({ length: 300_000 }, (_, i) => `/xmtp/0/t${i}/proto`) });
      const manyEnvelopes = JSON.stringify({
        envelopes: Array.from({ length: 100_000 }, () => ({ contentTopic: TOPIC, timestampNs: "1", message: "" })),
      });
      const hugeNumbers = JSON.stringify({
        contentTopics: [TOPIC],
        startTimeNs: "9".repeat(5000),
        endTimeNs: 1e308,
        pagingInfo: { limit: 1e300, direction: -1 },
      });
      const hugeMessage = JSON.stringify({ envelopes: [{ contentTopic: TOPIC, timestampNs: "1", message: "A".repeat(6_000_000) }] });
      const manyKeys = "{" + Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(",") + "}";
      const bodies = { deepArray, deepObject, hugeTopic, manyTopics, manyEnvelopes, hugeNumbers, hugeMessage, manyKeys };
      for (const path of PATHS) {
        for (const [name, body] of Object.entries(bodies)) {
          const status = await check({ path, body, headers: { authorization: `Bearer ${token}` } });
          // None of these is a valid publish. Reads may accept some (unknown fields are ignored, as protojson
          // does), which is fine: the invariants checked above hold either way.
          if (path === "/message/v1/publish") expect(status, `${name} was published`).not.toBe(200);
        }
      }
    },
    FUZZ_TIMEOUT,
  );

  it("still serves normally after all of it", async () => {
    const message = new Uint8Array([9, 9, 9]);
    const published = await send({
      path: "/message/v1/publish",
      body: JSON.stringify({ envelopes: [envelopeJson("/xmtp/0/m-after-fuzz/proto", nowNs(), message)] }),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(published.status).toBe(200);
    const queried = await send({
      path: "/message/v1/query",
      body: JSON.stringify({ contentTopics: ["/xmtp/0/m-after-fuzz/proto"] }),
      headers: {},
    });
    expect(JSON.parse(queried.text).envelopes).toHaveLength(1);
  });
});
