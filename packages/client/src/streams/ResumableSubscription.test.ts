// The resumable subscription against a scripted in-memory node: drops of every kind, gap filling, dedupe,
// permanent failures and closing. The same guarantees are checked against the real node in
// ResumableSubscription.integration.test.ts.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError, HttpMessageApi } from "../api/index.js";
import type { Envelope, Subscription } from "../api/types.js";
import { StreamDroppedError, SubscriptionClosedError } from "./index.js";
import { startMemoryNode, type MemoryNode, type OpenStream } from "./test-support/memoryNode.js";

let node: MemoryNode;
let api: HttpMessageApi;
const open: Subscription[] = [];

beforeEach(async () => {
  node = await startMemoryNode();
  api = new HttpMessageApi({
    apiUrl: node.url,
    retry: { attempts: 2, initialDelayMs: 1 },
    subscription: { reconnectInitialDelayMs: 5, reconnectMaxDelayMs: 20 },
  });
});

afterEach(async () => {
  for (const subscription of open.splice(0)) await subscription.close();
  await node.close();
});

const A = "/xmtp/0/m-a/proto";
const B = "/xmtp/0/m-b/proto";
const now = BigInt(Date.now()) * 1_000_000n;
const msg = (n: number) => new Uint8Array([n]);

function subscribe(topics: string[], options: Parameters<HttpMessageApi["subscribe"]>[1] = {}) {
  const lost: unknown[] = [];
  const subscription = api.subscribe(topics, { onConnectionLost: (error) => lost.push(error), ...options });
  open.push(subscription);
  return { subscription, lost };
}

async function take(subscription: Subscription, count: number): Promise<Envelope[]> {
  const out: Envelope[] = [];
  while (out.length < count) {
    const result = await subscription.next();
    if (result.done) throw new Error(`subscription ended after ${out.length} envelopes`);
    out.push(result.value);
  }
  return out;
}

const ids = (envelopes: Envelope[]) => envelopes.map((e) => `${e.contentTopic === A ? "a" : "b"}${e.message[0]}`);

describe("delivery", () => {
  it("delivers envelopes, skipping keep-alives and blank lines, with lines split across writes", async () => {
    const { subscription, lost } = subscribe([A]);
    await subscription.ready;
    const [stream] = node.openStreams();
    stream.response.write('{"result":{}}\n\n');
    const line = JSON.stringify({ result: { contentTopic: A, timestampNs: "7", message: "AQ==" } }) + "\n";
    stream.response.write(line.slice(0, 10));
    stream.response.write(line.slice(10) + '{"result":{}}\n');
    node.publish(A, now, msg(2));
    expect(ids(await take(subscription, 2))).toEqual(["a1", "a2"]);
    expect(lost).toEqual([]);
  });

  it("keeps order and loses nothing when the consumer is slower than the stream", async () => {
    const { subscription } = subscribe([A], { maxQueuedEnvelopes: 2 });
    await subscription.ready;
    for (let i = 0; i < 40; i++) node.publish(A, now + BigInt(i), msg(i));
    const got: number[] = [];
    for (let i = 0; i < 40; i++) {
      got.push((await take(subscription, 1))[0].message[0]);
      await new Promise((resolve) => setImmediate(resolve)); // let the reader refill between reads
    }
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("sends the topics in the subscribe request", async () => {
    const { subscription } = subscribe([A, B]);
    await subscription.ready;
    const request = node.fake.requests.find((r) => r.path === "/message/v1/subscribe")!;
    expect(request.json).toEqual({ contentTopics: [A, B] });
    expect(request.headers["x-client-version"]).toMatch(/^xmtp-ts\//);
  });
});

describe("dropped connections", () => {
  it("after an error line: reports the drop, reconnects and delivers what was published meanwhile, once", async () => {
    const { subscription, lost } = subscribe([A, B]);
    await subscription.ready;
    node.publish(A, now + 1n, msg(1));
    expect(ids(await take(subscription, 1))).toEqual(["a1"]);

    const [first] = node.openStreams();
    first.response.end('{"error":{"code":13,"message":"internal trouble","details":[]}}\n');
    // Published while no stream was open: only a query can find them.
    node.publish(A, now + 2n, msg(2), false);
    node.publish(B, now + 3n, msg(3), false);
    node.publish(A, now + 4n, msg(4), false);
    // The new stream replays everything it has, like a node that pushes right as the gap is queried.
    node.onSubscribe = (stream) => {
      stream.response.writeHead(200);
      for (const e of node.stored.filter((e) => stream.topics.includes(e.contentTopic))) {
        stream.response.write(JSON.stringify({ result: e }) + "\n");
      }
      return true;
    };
    const after = await take(subscription, 3);
    expect(ids(after.filter((e) => e.contentTopic === A))).toEqual(["a2", "a4"]);
    expect(ids(after.filter((e) => e.contentTopic === B))).toEqual(["b3"]);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(StreamDroppedError);
    expect((lost[0] as Error).message).toMatch(/the node ended the stream: subscribe: internal trouble/);

    node.publish(B, now + 5n, msg(5));
    expect(ids(await take(subscription, 1))).toEqual(["b5"]);
    expect(node.openStreams()).toHaveLength(1);
  });

  it("after the node closes the body", async () => {
    const { subscription, lost } = subscribe([A]);
    await subscription.ready;
    node.openStreams()[0].response.end();
    node.publish(A, now + 1n, msg(1), false);
    expect(ids(await take(subscription, 1))).toEqual(["a1"]);
    expect((lost[0] as Error).message).toBe("the node closed the stream");
  });

  it("after a garbage line", async () => {
    const { subscription, lost } = subscribe([A]);
    await subscription.ready;
    node.openStreams()[0].response.write("<html>oops</html>\n");
    node.publish(A, now + 1n, msg(1), false);
    expect(ids(await take(subscription, 1))).toEqual(["a1"]);
    expect((lost[0] as Error).message).toMatch(/not JSON/);
  });

  it("after a stall longer than the stall timeout", async () => {
    const { subscription, lost } = subscribe([A], { stallTimeoutMs: 150 });
    await subscription.ready;
    node.publish(A, now + 1n, msg(1), false);
    expect(ids(await take(subscription, 1))).toEqual(["a1"]);
    expect((lost[0] as Error).message).toBe("the stream sent nothing for 150 ms");
    await node.streams[0].whenClosed;
  });

  it("after failed reconnects (5xx) it keeps trying and reports each failure", async () => {
    const { subscription, lost } = subscribe([A]);
    await subscription.ready;
    let refusals = 0;
    node.onSubscribe = (stream) => {
      if (refusals >= 2) return false;
      refusals++;
      stream.response.writeHead(503, { "Content-Type": "application/json" });
      stream.response.end(JSON.stringify({ code: 14, message: "try later" }));
      return true;
    };
    node.openStreams()[0].response.end();
    node.publish(A, now + 1n, msg(1), false);
    expect(ids(await take(subscription, 1))).toEqual(["a1"]);
    expect(lost.map((e) => (e as Error).message)).toEqual([
      "the node closed the stream",
      "subscribe: try later (code 14, HTTP 503)",
      "subscribe: try later (code 14, HTTP 503)",
    ]);
  });

  it("does not deliver envelopes from before the subscription started when filling a gap", async () => {
    node.publish(A, now - 3_600_000_000_000n, msg(1), false); // an hour old
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.openStreams()[0].response.end();
    node.publish(A, now + 2n, msg(2), false);
    expect(ids(await take(subscription, 1))).toEqual(["a2"]);
  });
});

describe("what the node held before the start", () => {
  const secondsAgo = (s: number) => BigInt(Date.now() - s * 1000) * 1_000_000n;

  it("is not replayed after a drop, even within the clock-skew allowance or dated ahead", async () => {
    node.publish(A, secondsAgo(3), msg(1), false);
    node.publish(A, secondsAgo(-60), msg(9), false); // its sender's clock runs a minute ahead
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.openStreams()[0].response.end();
    node.publish(A, secondsAgo(0), msg(2), false);
    expect(ids(await take(subscription, 1))).toEqual(["a2"]);
    // Had the gap query replayed the envelope dated ahead, it would come before this one.
    node.publish(A, secondsAgo(0) + 1n, msg(3));
    expect(ids(await take(subscription, 1))).toEqual(["a3"]);
  });

  it("is not replayed by updateTopics, on the new topics nor on the old ones", async () => {
    node.publish(A, secondsAgo(3), msg(1), false);
    node.publish(B, secondsAgo(2), msg(2), false);
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.publish(A, secondsAgo(0), msg(3));
    expect(ids(await take(subscription, 1))).toEqual(["a3"]);
    await subscription.updateTopics([A, B]);
    node.publish(B, secondsAgo(0), msg(4));
    expect(ids(await take(subscription, 1))).toEqual(["b4"]);
  });

  it("what arrives while the first stream is being opened is delivered, once", async () => {
    node.onSubscribe = (stream) => {
      node.onSubscribe = undefined;
      node.publish(A, secondsAgo(0), msg(1), false); // stored before the node has registered the stream
      stream.response.writeHead(200);
      stream.response.flushHeaders();
      return true;
    };
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.publish(A, secondsAgo(0) + 1n, msg(2));
    expect(ids(await take(subscription, 2))).toEqual(["a1", "a2"]);
    node.openStreams()[0].response.end();
    node.publish(A, secondsAgo(0) + 2n, msg(3), false);
    expect(ids(await take(subscription, 1))).toEqual(["a3"]);
  });

  it("a sender whose clock runs ahead does not make the next gap query skip what comes after", async () => {
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.publish(A, secondsAgo(-3600), msg(1)); // dated an hour ahead
    expect(ids(await take(subscription, 1))).toEqual(["a1"]);
    node.openStreams()[0].response.end();
    node.publish(A, secondsAgo(0), msg(2), false);
    expect(ids(await take(subscription, 1))).toEqual(["a2"]);
  });
});

describe("resuming and topics", () => {
  it("with startTimeNs, fills the gap from there even on the first connection and filters older envelopes", async () => {
    node.publish(A, 100n, msg(1), false);
    node.publish(A, 200n, msg(2), false);
    node.publish(A, 300n, msg(3), false);
    const { subscription } = subscribe([A], { startTimeNs: 200n });
    await subscription.ready;
    node.publish(A, 150n, msg(4)); // live, but older than the start
    node.publish(A, 400n, msg(5));
    expect(ids(await take(subscription, 3))).toEqual(["a2", "a3", "a5"]);
  });

  it("pages through a long gap", async () => {
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.openStreams()[0].response.end();
    for (let i = 0; i < 250; i++) node.publish(A, now + BigInt(i), new Uint8Array([i % 256, i >> 8]), false);
    const got = await take(subscription, 250);
    expect(got.map((e) => e.timestampNs - now)).toEqual(Array.from({ length: 250 }, (_, i) => BigInt(i)));
  });

  it("updateTopics opens the new stream before closing the old one and loses nothing on either topic", async () => {
    const { subscription, lost } = subscribe([A]);
    await subscription.ready;
    let held: OpenStream | undefined;
    node.onSubscribe = (stream) => {
      // Hold the new stream's answer so we can publish while both exist.
      node.onSubscribe = undefined;
      held = stream;
      return true;
    };
    const switched = subscription.updateTopics([A, B]);
    await node.waitForStreams(2);
    node.publish(A, now + 1n, msg(1)); // reaches the old stream only
    node.publish(B, now + 2n, msg(2), false); // no stream has B yet
    held!.response.writeHead(200);
    held!.response.flushHeaders();
    await switched;
    node.publish(B, now + 3n, msg(3));
    expect(ids(await take(subscription, 3)).sort()).toEqual(["a1", "b2", "b3"]);
    await node.streams[0].whenClosed;
    expect(node.openStreams().map((s) => s.topics)).toEqual([[A, B]]);
    expect(lost).toEqual([]);
  });

  it("stops delivering a topic that was removed", async () => {
    const { subscription } = subscribe([A, B]);
    await subscription.ready;
    await subscription.updateTopics([B]);
    node.publish(A, now + 1n, msg(1));
    node.publish(B, now + 2n, msg(2));
    expect(ids(await take(subscription, 1))).toEqual(["b2"]);
  });
});

describe("ending", () => {
  it("a permanent refusal ends the iteration with the node's error", async () => {
    node.onSubscribe = (stream) => {
      stream.response.writeHead(400, { "Content-Type": "application/json" });
      stream.response.end(JSON.stringify({ code: 3, message: "topic is invalid", details: [] }));
      return true;
    };
    const { subscription, lost } = subscribe([A]);
    const error = await subscription.next().catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 3, httpStatus: 400, call: "subscribe" });
    await expect(subscription.ready).rejects.toBe(error);
    expect(await subscription.next()).toEqual({ done: true, value: undefined });
    expect(lost).toEqual([]);
  });

  it("return() aborts the request, ends pending reads and rejects ready if it never was", async () => {
    node.onSubscribe = () => true; // never answers
    const { subscription } = subscribe([A]);
    await node.waitForStreams(1);
    const pending = subscription.next();
    expect(await subscription.return!()).toEqual({ done: true, value: undefined });
    expect(await pending).toEqual({ done: true, value: undefined });
    await expect(subscription.ready).rejects.toBeInstanceOf(SubscriptionClosedError);
    await expect(subscription.updateTopics([B])).rejects.toThrow(/closed subscription/);
    await node.streams[0].whenClosed; // the test would time out if the request were not aborted
  });

  it("an AbortSignal closes it", async () => {
    const controller = new AbortController();
    const { subscription } = subscribe([A], { signal: controller.signal });
    await subscription.ready;
    const pending = subscription.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it("is an async iterable usable with for await", async () => {
    const { subscription } = subscribe([A]);
    await subscription.ready;
    node.publish(A, now + 1n, msg(1));
    node.publish(A, now + 2n, msg(2));
    const seen: number[] = [];
    for await (const envelope of subscription) {
      seen.push(envelope.message[0]);
      if (seen.length === 2) break; // calls return()
    }
    expect(seen).toEqual([1, 2]);
    expect(await subscription.next()).toEqual({ done: true, value: undefined });
  });

  it("refuses bad topics up front", () => {
    expect(() => api.subscribe([])).toThrow("subscribe needs a non-empty array of content topics");
    expect(() => api.subscribe([A, ""])).toThrow("subscribe: topics[1] must be a non-empty string");
  });
});

describe("topic sets too big to snapshot their start", () => {
  const secondsAgo = (s: number) => BigInt(Date.now() - s * 1000) * 1_000_000n;
  const queriesSeen = () => node.fake.requests.filter((r) => r.path.includes("query")).length;

  it("open without a query, deliver what comes after ready, and fill a later gap from the stream's start", async () => {
    node.publish(A, secondsAgo(3600), msg(1), false); // an hour old: before any start window
    const { subscription } = subscribe([A, B], { startSnapshotMaxTopics: 1 });
    await subscription.ready;
    expect(queriesSeen()).toBe(0);
    node.publish(B, secondsAgo(0), msg(2));
    expect(ids(await take(subscription, 1))).toEqual(["b2"]);
    node.openStreams()[0].response.end();
    node.publish(A, secondsAgo(0) + 1n, msg(3), false); // only a gap query finds it
    expect(ids(await take(subscription, 1))).toEqual(["a3"]);
    expect(queriesSeen()).toBeGreaterThan(0);
  });

  it("still snapshot a topic set at or under the limit", async () => {
    const { subscription } = subscribe([A, B], { startSnapshotMaxTopics: 2 });
    await subscription.ready;
    expect(queriesSeen()).toBeGreaterThan(0);
  });
});
