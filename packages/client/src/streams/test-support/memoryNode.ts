// A tiny in-memory message node on a FakeNode, for stream tests that need to script what a real node never does
// on purpose: error lines, stalls, garbage, envelopes stored but never pushed to a stream.
import type { ServerResponse } from "node:http";
import { fromBase64, toBase64 } from "@xmtp-ts/crypto";
import { sendJson, startFakeNode, type FakeNode } from "../../api/test-support/fakeNode.js";

export interface StoredEnvelope {
  contentTopic: string;
  timestampNs: string;
  message: string;
}

export interface OpenStream {
  topics: string[];
  response: ServerResponse;
  closed: boolean;
  /** Resolves when the client has gone (the response closed). */
  whenClosed: Promise<void>;
}

export interface MemoryNode {
  fake: FakeNode;
  url: string;
  stored: StoredEnvelope[];
  streams: OpenStream[];
  /** Stores an envelope and, unless `pushToStreams` is false, writes it to the open streams of its topic. */
  publish(topic: string, timestampNs: bigint, message: Uint8Array, pushToStreams?: boolean): void;
  /** Called for every new subscribe before it is answered; may answer itself (return true). */
  onSubscribe?: (stream: OpenStream) => boolean | void;
  /** Resolves when at least `count` streams have been opened in total. */
  waitForStreams(count: number): Promise<void>;
  openStreams(): OpenStream[];
  close(): Promise<void>;
}

export async function startMemoryNode(): Promise<MemoryNode> {
  const fake = await startFakeNode();
  const streamWaiters: { count: number; resolve: () => void }[] = [];
  const node: MemoryNode = {
    fake,
    url: fake.url,
    stored: [],
    streams: [],
    publish(contentTopic, timestampNs, message, pushToStreams = true) {
      const envelope = { contentTopic, timestampNs: timestampNs.toString(), message: toBase64(message) };
      node.stored.push(envelope);
      if (!pushToStreams) return;
      for (const stream of node.openStreams()) {
        // A stream whose answer is being held back has not been registered yet.
        if (stream.topics.includes(contentTopic) && stream.response.headersSent) stream.response.write(JSON.stringify({ result: envelope }) + "\n");
      }
    },
    waitForStreams(count) {
      if (node.streams.length >= count) return Promise.resolve();
      return new Promise((resolve) => streamWaiters.push({ count, resolve }));
    },
    openStreams: () => node.streams.filter((stream) => !stream.closed),
    close: () => fake.close(),
  };

  const answerQuery = (query: any) => {
    const topic = query.contentTopics[0];
    const start = BigInt(query.startTimeNs ?? 0);
    const limit = query.pagingInfo?.limit || 100;
    const matching = node.stored
      .filter((e) => e.contentTopic === topic && BigInt(e.timestampNs) >= start)
      .sort((a, b) => (BigInt(a.timestampNs) < BigInt(b.timestampNs) ? -1 : 1));
    // The cursor's digest is just the position, base64-encoded: opaque to the client anyway.
    const from = query.pagingInfo?.cursor ? fromBase64(query.pagingInfo.cursor.index.digest)[0] + 1 : 0;
    const page = matching.slice(from, from + limit);
    const last = from + page.length - 1;
    return page.length === limit
      ? { envelopes: page, pagingInfo: { cursor: { index: { digest: toBase64(new Uint8Array([last])), senderTimeNs: page.at(-1)!.timestampNs } } } }
      : { envelopes: page, pagingInfo: { cursor: null } };
  };

  fake.handle = (request, response) => {
    if (request.path === "/message/v1/query") return sendJson(response, 200, answerQuery(request.json));
    if (request.path === "/message/v1/batch-query") {
      return sendJson(response, 200, { responses: request.json.requests.map(answerQuery) });
    }
    if (request.path === "/message/v1/subscribe") {
      const stream: OpenStream = {
        topics: request.json.contentTopics,
        response,
        closed: false,
        whenClosed: new Promise((resolve) => response.once("close", resolve)),
      };
      response.once("close", () => (stream.closed = true));
      node.streams.push(stream);
      if (!node.onSubscribe?.(stream)) {
        response.writeHead(200, { "Content-Type": "application/json" });
        response.flushHeaders();
      }
      for (const waiter of streamWaiters.splice(0)) {
        if (node.streams.length >= waiter.count) waiter.resolve();
        else streamWaiters.push(waiter);
      }
      return;
    }
    sendJson(response, 404, { code: 5, message: `no route ${request.path}` });
  };
  return node;
}
