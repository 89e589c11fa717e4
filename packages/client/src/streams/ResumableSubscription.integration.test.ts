// Real connection cuts against the real node: the subscriber talks to the node through a loopback TCP proxy the
// test can sever, freeze or re-point at a restarted node; the publisher talks to the node directly.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { HttpMessageApi } from "../api/index.js";
import type { Envelope, Subscription } from "../api/types.js";
import { testIdentity } from "../api/test-support/walletToken.js";
import { startTcpProxy, type TcpProxy } from "./test-support/tcpProxy.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(options: Parameters<typeof startNode>[0] = {}): Promise<RunningNode> {
  const started = await startNode(options);
  // SIGKILL: no test here needs a clean shutdown, and a SIGTERMed node may sit in its grace period.
  cleanups.push(async () => {
    await started.kill();
    if (!options.dataDir) rmSync(started.dataDir, { recursive: true, force: true });
  });
  return started;
}

async function proxyTo(target: RunningNode): Promise<TcpProxy> {
  const proxy = await startTcpProxy(Number(new URL(target.url).port));
  cleanups.push(() => proxy.close());
  return proxy;
}

async function publisher(target: RunningNode) {
  const me = await testIdentity();
  return new HttpMessageApi({ apiUrl: target.url, authTokenProvider: me.provider });
}

/** A subscriber through `proxy` that records every reported drop. */
function subscriber(proxy: TcpProxy, topics: string[], stallTimeoutMs?: number) {
  const api = new HttpMessageApi({
    apiUrl: proxy.url,
    retry: { attempts: 2, initialDelayMs: 10 },
    subscription: { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, stallTimeoutMs },
  });
  const lost: unknown[] = [];
  let notifyLost: () => void = () => undefined;
  const firstLoss = new Promise<void>((resolve) => (notifyLost = resolve));
  const subscription = api.subscribe(topics, {
    onConnectionLost: (error) => {
      lost.push(error);
      notifyLost();
    },
  });
  cleanups.push(() => subscription.close());
  return { subscription, lost, firstLoss };
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

let serial = 0;
const topicName = (name: string) => `/xmtp/0/m-${name}-${process.pid}-${Date.now()}-${serial++}/proto`;
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const label = (envelope: Envelope) => new TextDecoder().decode(envelope.message);

/** Publishes `count` envelopes labelled `<prefix><i>` with increasing timestamps, in several requests. */
async function publishSeries(api: HttpMessageApi, topic: string, prefix: string, from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    await api.publish([{ contentTopic: topic, timestampNs: nowNs() + BigInt(i), message: new TextEncoder().encode(`${prefix}${i}`) }]);
  }
}

/** Nothing else is pending: the next thing delivered is a fresh sentinel, not a repeat. */
async function expectNextIsSentinel(api: HttpMessageApi, subscription: Subscription, topic: string) {
  await api.publish([{ contentTopic: topic, timestampNs: nowNs() + 1_000_000n, message: new TextEncoder().encode("sentinel") }]);
  expect(label((await take(subscription, 1))[0])).toBe("sentinel");
}

describe("resumable subscription on a real node", () => {
  it("delivers what was published while the connection was cut, exactly once and in order per topic", async () => {
    const server = await node();
    const proxy = await proxyTo(server);
    const pub = await publisher(server);
    const [a, b] = [topicName("a"), topicName("b")];
    const { subscription, lost, firstLoss } = subscriber(proxy, [a, b]);
    await subscription.ready;

    await publishSeries(pub, a, "a", 0, 2);
    await publishSeries(pub, b, "b", 0, 1);
    expect((await take(subscription, 3)).map(label).sort()).toEqual(["a0", "a1", "b0"]);

    proxy.setDown(true);
    proxy.sever();
    await firstLoss;
    await publishSeries(pub, a, "a", 2, 10);
    await publishSeries(pub, b, "b", 1, 5);
    proxy.setDown(false);

    const during = await take(subscription, 15);
    expect(during.filter((e) => e.contentTopic === a).map(label)).toEqual(
      Array.from({ length: 10 }, (_, i) => `a${i + 2}`),
    );
    expect(during.filter((e) => e.contentTopic === b).map(label)).toEqual(
      Array.from({ length: 5 }, (_, i) => `b${i + 1}`),
    );
    await expectNextIsSentinel(pub, subscription, b);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect((lost[0] as Error).message).toMatch(/stream failed|closed the stream|network error/);
  });

  it("survives a node restart on the same data directory", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "xmtp-h3-restart-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await node({ dataDir });
    const proxy = await proxyTo(first);
    const topic = topicName("restart");
    const { subscription, lost, firstLoss } = subscriber(proxy, [topic]);
    await subscription.ready;
    await publishSeries(await publisher(first), topic, "m", 0, 3);
    expect((await take(subscription, 3)).map(label)).toEqual(["m0", "m1", "m2"]);

    // Keep the subscriber away until the new node has the outage's envelopes, so they can only come from the gap.
    proxy.setDown(true);
    await first.stop();
    await firstLoss;
    const second = await node({ dataDir });
    await publishSeries(await publisher(second), topic, "m", 3, 6);
    proxy.setTargetPort(Number(new URL(second.url).port));
    proxy.setDown(false);

    expect((await take(subscription, 6)).map(label)).toEqual(["m3", "m4", "m5", "m6", "m7", "m8"]);
    await expectNextIsSentinel(await publisher(second), subscription, topic);
    expect(lost.length).toBeGreaterThanOrEqual(1);
  });

  it("treats a frozen connection as dropped once nothing, not even a keep-alive, arrives", async () => {
    const server = await node({ args: ["--stream-keepalive-ms", "50"] });
    const proxy = await proxyTo(server);
    const pub = await publisher(server);
    const topic = topicName("stall");
    const { subscription, lost, firstLoss } = subscriber(proxy, [topic], 1_000);
    await subscription.ready;
    await publishSeries(pub, topic, "s", 0, 1);
    expect((await take(subscription, 1)).map(label)).toEqual(["s0"]);

    proxy.freeze();
    await publishSeries(pub, topic, "s", 1, 3);
    await firstLoss;
    expect((lost[0] as Error).message).toBe("the stream sent nothing for 1000 ms");
    expect((await take(subscription, 3)).map(label)).toEqual(["s1", "s2", "s3"]);
    await expectNextIsSentinel(pub, subscription, topic);
  });

  it("updateTopics while envelopes keep coming loses none on old or new topics and repeats none", async () => {
    const server = await node();
    const proxy = await proxyTo(server);
    const pub = await publisher(server);
    const [a, b, c] = [topicName("a"), topicName("b"), topicName("c")];
    const { subscription } = subscriber(proxy, [a]);
    await subscription.ready;

    const published: Record<string, string[]> = { [a]: [], [b]: [], [c]: [] };
    // Publishes started; one in flight may already be stored when updateTopics starts, yet be counted later.
    let started = 0;
    const base = nowNs();
    let running = true;
    const pump = (async () => {
      for (let i = 0; running; i++) {
        const batch = [a, b, c].map((topic) => ({
          contentTopic: topic,
          timestampNs: base + BigInt(i), // strictly increasing per topic
          message: new TextEncoder().encode(`${topic.slice(8, 9)}${i}`),
        }));
        started++;
        await pub.publish(batch);
        for (const envelope of batch) published[envelope.contentTopic].push(label(envelope));
      }
    })();

    const received: Envelope[] = [];
    const drain = (async () => {
      for await (const envelope of subscription) {
        received.push(envelope);
        if (label(envelope) === "done") break;
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 100));
    const bBefore = published[b].length;
    await subscription.updateTopics([a, b]);
    const bLiveFrom = started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cBefore = published[c].length;
    await subscription.updateTopics([a, b, c]);
    const cLiveFrom = started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    running = false;
    await pump;
    await pub.publish([{ contentTopic: a, timestampNs: base + 10_000_000n, message: new TextEncoder().encode("done") }]);
    await drain;

    const on = (topic: string) => received.filter((e) => e.contentTopic === topic).map(label);
    expect(on(a)).toEqual([...published[a], "done"]);
    // New topics: everything published once updateTopics resolved, in order, nothing twice, and nothing the node
    // had before updateTopics was called (a gap query reaching back for clock skew must not bring those back).
    for (const [topic, before, from] of [
      [b, bBefore, bLiveFrom],
      [c, cBefore, cLiveFrom],
    ] as const) {
      const got = on(topic);
      expect(new Set(got).size).toBe(got.length);
      expect(got).toEqual(published[topic].slice(published[topic].length - got.length));
      expect(got.length).toBeGreaterThanOrEqual(published[topic].length - from);
      expect(got.length).toBeLessThanOrEqual(published[topic].length - before);
    }
  });
});
