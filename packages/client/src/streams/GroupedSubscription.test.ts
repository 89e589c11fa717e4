// Topic sets bigger than one stream takes: split into groups, merged, and changed group by group.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HttpMessageApi } from "../api/index.js";
import type { Envelope, Subscription } from "../api/types.js";
import { startMemoryNode, type MemoryNode } from "./test-support/memoryNode.js";

let node: MemoryNode;
let api: HttpMessageApi;
const open: Subscription[] = [];

beforeEach(async () => {
  node = await startMemoryNode();
  api = new HttpMessageApi({
    apiUrl: node.url,
    retry: { attempts: 2, initialDelayMs: 1 },
    subscription: { reconnectInitialDelayMs: 5, reconnectMaxDelayMs: 20, maxTopicsPerStream: 3 },
  });
});

afterEach(async () => {
  for (const subscription of open.splice(0)) await subscription.close();
  await node.close();
});

const topic = (n: number) => `/xmtp/0/m-t${n}/proto`;
const topics = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => topic(from + i));
const now = () => BigInt(Date.now()) * 1_000_000n;

async function take(subscription: Subscription, count: number): Promise<Envelope[]> {
  const out: Envelope[] = [];
  while (out.length < count) {
    const result = await subscription.next();
    if (result.done) throw new Error(`subscription ended after ${out.length} envelopes`);
    out.push(result.value);
  }
  return out;
}

function subscribe(list: string[]): Subscription {
  const subscription = api.subscribe(list);
  open.push(subscription);
  return subscription;
}

describe("GroupedSubscription", () => {
  it("splits 8 topics into streams of at most 3 and delivers every topic's envelopes once", async () => {
    const subscription = subscribe(topics(0, 8));
    await subscription.ready;
    const streams = node.openStreams();
    expect(streams.map((s) => s.topics.length).sort()).toEqual([2, 3, 3]);
    expect(new Set(streams.flatMap((s) => s.topics))).toEqual(new Set(topics(0, 8)));
    for (let i = 0; i < 8; i++) node.publish(topic(i), now(), Uint8Array.of(i));
    const got = await take(subscription, 8);
    expect(got.map((e) => e.message[0]).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("adds topics to the last group with room, then opens a new group; untouched groups keep their stream", async () => {
    const subscription = subscribe(topics(0, 4)); // groups [0,1,2] [3]
    await subscription.ready;
    const [first] = node.openStreams().filter((s) => s.topics.includes(topic(0)));
    await subscription.updateTopics(topics(0, 8)); // [0,1,2] [3,4,5] [6,7]
    // The replaced stream of the changed group closes once its successor is live.
    await expect.poll(() => node.openStreams().map((s) => s.topics.length).sort()).toEqual([2, 3, 3]);
    expect(node.openStreams()).toContain(first);
    node.publish(topic(7), now(), Uint8Array.of(77));
    node.publish(topic(0), now(), Uint8Array.of(70));
    const got = await take(subscription, 2);
    expect(got.map((e) => e.message[0]).sort()).toEqual([70, 77]);
  });

  it("closes a group whose topics were all removed and delivers nothing more of them", async () => {
    const subscription = subscribe(topics(0, 6)); // [0,1,2] [3,4,5]
    await subscription.ready;
    await subscription.updateTopics(topics(0, 3));
    await expect.poll(() => node.openStreams().length).toBe(1);
    node.publish(topic(4), now(), Uint8Array.of(4));
    node.publish(topic(1), now(), Uint8Array.of(1));
    const [got] = await take(subscription, 1);
    expect(got.contentTopic).toBe(topic(1));
  });

  it("ends every group on return() and refuses topic changes afterwards", async () => {
    const subscription = subscribe(topics(0, 7));
    await subscription.ready;
    expect(node.openStreams()).toHaveLength(3);
    const waiting = subscription.next();
    await subscription.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await expect.poll(() => node.openStreams().length).toBe(0);
    await expect(subscription.updateTopics(topics(0, 2))).rejects.toThrow(/closed/);
  });

  it("refuses a bad group size", () => {
    const bad = new HttpMessageApi({ apiUrl: node.url, subscription: { maxTopicsPerStream: 0 } });
    expect(() => bad.subscribe([topic(0)])).toThrow(/maxTopicsPerStream must be a positive integer/);
  });
});
