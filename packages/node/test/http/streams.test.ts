// subscribe and subscribe-all over real HTTP (docs/protocol/api.md §2.5, §3): NDJSON lines, keep-alives, registration on
// arrival, cleanup when the response closes, and the cut-off of a reader that does not keep up.
import { connect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytesOf, createIdentity, envelopeJson, publish, startTestNode, type Identity, type TestNode } from "./helpers.js";

let node: TestNode;
let alice: Identity;
let counter = 0;
const freshTopic = () => `/xmtp/0/m-stream-${counter++}/proto`;
const KEEP_ALIVE_MS = 150;
const MAX_STREAM_BUFFER = 64 * 1024;

beforeAll(async () => {
  node = await startTestNode({
    http: { streamKeepAliveMs: KEEP_ALIVE_MS, maxStreamBufferBytes: MAX_STREAM_BUFFER, maxBodyBytes: 8 << 20, shutdownGraceMs: 5_000 },
  });
  alice = await createIdentity();
});
afterAll(() => node.dispose());

/** Opens a stream and yields parsed lines as they arrive. */
async function openStream(path: string, body: unknown) {
  const controller = new AbortController();
  const response = await fetch(node.url + path, { method: "POST", body: JSON.stringify(body), signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const rawLines: string[] = [];
  async function nextLine(): Promise<string> {
    for (;;) {
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        rawLines.push(line);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended; unterminated rest: ${JSON.stringify(buffered)}`);
      buffered += decoder.decode(value, { stream: true });
    }
  }
  /** The next envelope line, skipping keep-alives. */
  async function nextEnvelope(): Promise<any> {
    for (;;) {
      const parsed = JSON.parse(await nextLine());
      if (parsed.result && parsed.result.message) return parsed.result;
    }
  }
  return { response, nextLine, nextEnvelope, rawLines, close: () => controller.abort() };
}

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Each test closes its streams; wait until the node has noticed so counts start from zero.
afterEach(() => until(() => node.hub.size === 0, "every subscription of the test to be removed"));

describe("subscribe", () => {
  it("sends headers at once and registers before anything is published", async () => {
    const topic = freshTopic();
    const before = node.hub.size;
    const stream = await openStream("/message/v1/subscribe", { contentTopics: [topic] });
    // fetch resolved: the 200 and its headers arrived with no envelope yet.
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toBe("application/json");
    expect(stream.response.headers.get("access-control-allow-origin")).toBe("*");
    expect(node.hub.size).toBe(before + 1);
    // Published right after the headers: no settle time needed.
    await publish(node, [envelopeJson(topic, 42n, bytesOf("first"))], alice.token());
    expect(await stream.nextEnvelope()).toEqual({ contentTopic: topic, timestampNs: "42", message: Buffer.from("first").toString("base64") });
    stream.close();
  });

  it("delivers only the subscribed topics, each as a newline-terminated {result} line, ephemeral ones too", async () => {
    const [t1, t2, other] = [freshTopic(), `/xmtp/0/mE-stream-${counter++}/proto`, freshTopic()];
    const stream = await openStream("/message/v1/subscribe", { contentTopics: [t1, t2] });
    await publish(node, [envelopeJson(other, 1n, bytesOf("no")), envelopeJson(t1, 2n, bytesOf("a"))], alice.token());
    await publish(node, [envelopeJson(t2, 3n, bytesOf("b")), envelopeJson(t1, 4n, bytesOf("c"))], alice.token());
    const got = [await stream.nextEnvelope(), await stream.nextEnvelope(), await stream.nextEnvelope()];
    expect(got.map((e) => Buffer.from(e.message, "base64").toString())).toEqual(["a", "b", "c"]);
    expect(stream.rawLines.filter((l) => l.includes('"message"'))[0]).toBe(
      `{"result":{"contentTopic":"${t1}","timestampNs":"2","message":"YQ=="}}`,
    );
    stream.close();
  });

  it("does not stream a duplicate publish again", async () => {
    const topic = freshTopic();
    const stream = await openStream("/message/v1/subscribe", { contentTopics: [topic] });
    const e = envelopeJson(topic, 1n, bytesOf("once"));
    await publish(node, [e], alice.token());
    await publish(node, [e], alice.token());
    await publish(node, [envelopeJson(topic, 2n, bytesOf("next"))], alice.token());
    expect(Buffer.from((await stream.nextEnvelope()).message, "base64").toString()).toBe("once");
    expect(Buffer.from((await stream.nextEnvelope()).message, "base64").toString()).toBe("next");
    stream.close();
  });

  it("sends {\"result\":{}} keep-alives on an idle stream", async () => {
    const stream = await openStream("/message/v1/subscribe", { contentTopics: [freshTopic()] });
    expect(await stream.nextLine()).toBe('{"result":{}}');
    expect(await stream.nextLine()).toBe('{"result":{}}');
    stream.close();
  });

  it("removes the subscription when the client goes away", async () => {
    const before = node.hub.size;
    const streams = await Promise.all([1, 2, 3].map(() => openStream("/message/v1/subscribe", { contentTopics: [freshTopic()] })));
    expect(node.hub.size).toBe(before + 3);
    expect(node.api.activeStreams).toBeGreaterThanOrEqual(3);
    for (const s of streams) s.close();
    await until(() => node.hub.size === before, "subscriptions to be removed");
  });
});

describe("closing", () => {
  it("closes the connection when the client half-closes it (no leaked half-open sockets)", async () => {
    const { port } = new URL(node.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const body = JSON.stringify({ contentTopics: [freshTopic()] });
    socket.write(`POST /message/v1/subscribe HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    socket.resume();
    await until(() => node.hub.size === 1, "the subscription");
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.end(); // FIN, as fetch's abort does; the node must drop the stream and its socket
    await closed;
    await until(() => node.hub.size === 0, "the subscription to be removed");
  });
});

describe("subscribe-all", () => {
  it("streams every /xmtp/0/ envelope", async () => {
    const stream = await openStream("/message/v1/subscribe-all", {});
    const [t1, t2] = [freshTopic(), `/xmtp/0/invite-${alice.address}/proto`];
    await publish(node, [envelopeJson("test-not-xmtp", 1n, bytesOf("skip")), envelopeJson(t1, 1n, bytesOf("x"))], alice.token());
    await publish(node, [envelopeJson(t2, 2n, bytesOf("y"))], alice.token());
    expect((await stream.nextEnvelope()).contentTopic).toBe(t1);
    expect((await stream.nextEnvelope()).contentTopic).toBe(t2);
    stream.close();
  });
});

describe("slow subscribers", () => {
  it("ends the stream of a reader that stops reading with an error line, without unbounded buffering", async () => {
    const topic = freshTopic();
    const before = node.hub.size;
    const { port } = new URL(node.url);
    const socket = connect(Number(port), "127.0.0.1");
    const body = JSON.stringify({ contentTopics: [topic] });
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(`POST /message/v1/subscribe HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    const received: Buffer[] = [];
    socket.on("data", (chunk) => received.push(chunk));
    await until(() => node.hub.size === before + 1, "the subscription");
    socket.pause(); // stop reading: kernel buffers fill, then the node's per-stream buffer

    const message = new Uint8Array(96 * 1024).fill(1);
    let published = 0;
    while (node.hub.size > before) {
      if (published >= 2000) throw new Error("the slow stream was never cut off");
      await publish(node, [envelopeJson(topic, BigInt(++published), message.map((_, i) => (i + published) & 0xff))], alice.token());
    }
    // Cut off while the rest of the node keeps serving.
    expect(published).toBeGreaterThan(1);
    const lines = await new Promise<string[]>((resolve) => {
      socket.on("close", () => resolve(Buffer.concat(received).toString().split("\n")));
      socket.resume();
    });
    const errorLine = lines.map((l) => l.trim()).filter((l) => l.startsWith("{")).pop()!;
    expect(JSON.parse(errorLine)).toMatchObject({ error: { code: 8, message: expect.stringContaining("too slow") } });
    // Fewer envelopes reached the reader than were published: the rest were never queued.
    expect(lines.filter((l) => l.startsWith('{"result":{"contentTopic"')).length).toBeLessThan(published);
    socket.destroy();
  });
});
