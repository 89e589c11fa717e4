// Connection faults and odd timestamps against a real xmtp-node process (packages/node/dist/main.js; build it
// first), with the service in process (its store is inspected) or as the built binary, and a real webhook receiver.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startReceiver, startTestService, waitUntil, type WebhookReceiver } from "./test-support/harness.js";
import {
  assertExactlyOnce,
  expectedDeliveries,
  publishSome,
  registerWebhook,
  waitLive,
  E2E_SECRET,
  type Published,
} from "./test-support/deliveries.js";
import { e2eScope } from "./test-support/e2eScope.js";
import { freshEnvelope, startNode, startNotify, type RunningNode } from "./test-support/network.js";
import { startProxy } from "./test-support/proxy.js";

const T1 = "/xmtp/0/m-faults-one/proto";
const T2 = "/xmtp/0/m-faults-two/proto";
const OTHER = "/xmtp/0/m-faults-other/proto";

const scope = e2eScope();
const { defer, tempDir } = scope;

async function nodeAndReceiver(nodeArgs: string[] = []): Promise<{ node: RunningNode; receiver: WebhookReceiver }> {
  const node = await startNode({ args: nodeArgs });
  defer(() => node.dispose());
  const receiver = await startReceiver(E2E_SECRET);
  defer(() => receiver.close());
  return { node, receiver };
}

describe("connection faults between the service and the node", () => {
  it("recovers from dropped connections without missing or repeating", async () => {
    const { node, receiver } = await nodeAndReceiver();
    const proxy = await startProxy(node.url);
    defer(() => proxy.close());
    const service = await startTestService({ nodes: [proxy.url], reconnectMaxDelayMs: 200 });
    defer(() => service.dispose());
    const alice = await registerWebhook(service.url, receiver, [T1, T2]);
    await waitLive(service.url);

    const published: Published = [];
    for (let round = 0; round < 3; round++) {
      await publishSome(scope.publisher, node.url, 6, [T1, T2, OTHER], published);
      proxy.cut();
      // Published while the service is reconnecting: catch-up finds them.
      await publishSome(scope.publisher, node.url, 6, [T1, T2, OTHER], published);
      await waitLive(service.url);
    }
    await assertExactlyOnce(receiver, expectedDeliveries([alice], published));
    const connects = Number(/xmtp_notify_stream_connects_total\{[^}]*\} (\d+)/.exec(await service.metrics.render(service.store))?.[1]);
    expect(connects).toBeGreaterThanOrEqual(4);
  });

  it("drops a stream that went silent (no keep-alive) and catches up what it swallowed", async () => {
    const { node, receiver } = await nodeAndReceiver(["--stream-keepalive-ms", "200"]);
    const proxy = await startProxy(node.url);
    defer(() => proxy.close());
    const service = await startTestService({ nodes: [proxy.url], streamIdleTimeoutMs: 1_500, reconnectMaxDelayMs: 200 });
    defer(() => service.dispose());
    const alice = await registerWebhook(service.url, receiver, [T1]);
    await waitLive(service.url);
    const published: Published = [];
    await publishSome(scope.publisher, node.url, 3, [T1], published);
    await receiver.waitFor((r) => r.length === 3);

    // The open stream now loses everything the node sends, and nothing tells the service so.
    proxy.blackHole();
    await publishSome(scope.publisher, node.url, 5, [T1], published);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(3);
    await assertExactlyOnce(receiver, expectedDeliveries([alice], published));
  });
});

describe("the cursor during catch-up", () => {
  it("does not move while a catch-up is still reading the gap, even as newer envelopes stream in", async () => {
    const { node, receiver } = await nodeAndReceiver();
    const proxy = await startProxy(node.url);
    defer(() => proxy.close());
    const dataDir = tempDir("xmtp-notify-faults-");
    // No lookback: catch-up starts exactly at the cursor, so a cursor moved too early would lose the gap for good.
    const overrides = { nodes: [proxy.url], dataDir, catchUpLookbackMs: 0, reconnectMaxDelayMs: 200 };
    let service = await startTestService(overrides);
    defer(() => service.close());
    const alice = await registerWebhook(service.url, receiver, [T1]);
    await waitLive(service.url);
    const published: Published = [];
    await publishSome(scope.publisher, node.url, 2, [T1], published);
    await receiver.waitFor((r) => r.length === 2);
    await service.close();

    // The gap: published while the service is down.
    await publishSome(scope.publisher, node.url, 3, [T1], published);
    proxy.hold("/message/v1/query");
    service = await startTestService(overrides);
    defer(() => service.close());
    const cursorAtStart = await service.store.getCursor(proxy.url);
    expect(cursorAtStart).toBeDefined();
    await waitUntil(() => proxy.held() > 0, "a catch-up query");
    // Newer envelopes arrive on the stream and are delivered, but the cursor stays put.
    await publishSome(scope.publisher, node.url, 3, [T1], published);
    await receiver.waitFor((r) => r.length === 5);
    expect(await service.store.getCursor(proxy.url)).toEqual(cursorAtStart);

    // A crash now (the catch-up never finishes) and a start without the hold: the gap is still found.
    await service.close();
    proxy.release();
    service = await startTestService(overrides);
    defer(() => service.close());
    await assertExactlyOnce(receiver, expectedDeliveries([alice], published));
    const cursorAfter = await service.store.getCursor(proxy.url);
    expect(cursorAfter!.timestampNs).toBeGreaterThan(cursorAtStart!.timestampNs);
  });
});

describe("timestamps chosen by publishers", () => {
  it("a future-dated envelope does not move the cursor past the clock, so nothing after it is skipped", async () => {
    const { node, receiver } = await nodeAndReceiver();
    const dataDir = tempDir("xmtp-notify-faults-");
    let service = await startTestService({ nodes: [node.url], dataDir });
    defer(() => service.close());
    const alice = await registerWebhook(service.url, receiver, [T1]);
    await waitLive(service.url);

    const published: Published = [];
    const future = { ...freshEnvelope(T1), timestampNs: ((BigInt(Date.now()) + 86_400_000n) * 1_000_000n).toString() };
    await scope.publisher.publish(node.url, [future]);
    published.push(future);
    await receiver.waitFor((r) => r.length === 1);
    const cursor = await service.store.getCursor(node.url);
    expect(cursor!.timestampNs).toBeLessThanOrEqual(BigInt(Date.now()) * 1_000_000n);

    // Published while the service is down with an honest timestamp: found by the catch-up after the restart.
    await service.close();
    await publishSome(scope.publisher, node.url, 3, [T1], published);
    service = await startTestService({ nodes: [node.url], dataDir });
    defer(() => service.close());
    await assertExactlyOnce(receiver, expectedDeliveries([alice], published));
  });

  it("catches up more than a page (100) of envelopes on one topic", async () => {
    const { node, receiver } = await nodeAndReceiver();
    const dataDir = tempDir("xmtp-notify-faults-");
    let service = await startTestService({ nodes: [node.url], dataDir });
    defer(() => service.close());
    const alice = await registerWebhook(service.url, receiver, [T1]);
    await waitLive(service.url);
    await service.close();

    const published: Published = [];
    const base = BigInt(Date.now()) * 1_000_000n;
    for (let batch = 0; batch < 5; batch++) {
      const envelopes = Array.from({ length: 50 }, (_, i) => ({ ...freshEnvelope(T1), timestampNs: (base + BigInt(batch * 50 + i)).toString() }));
      await scope.publisher.publish(node.url, envelopes);
      published.push(...envelopes);
    }
    service = await startTestService({ nodes: [node.url], dataDir });
    defer(() => service.close());
    await assertExactlyOnce(receiver, expectedDeliveries([alice], published));
    // One installation's deliveries go out in order: here, the order of the timestamps.
    const order = receiver.received.map((r) => BigInt(r.body.envelope.timestampNs));
    expect(order).toEqual([...order].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});

describe("the binary killed (SIGKILL) in the middle of a run", () => {
  it("misses nothing; a delivery in flight at the kill may come again, with the same delivery id", async () => {
    const { node, receiver } = await nodeAndReceiver();
    const dataDir = tempDir("xmtp-notify-faults-");
    const args = ["--node", node.url, "--data-dir", dataDir, "--retry-base-ms", "50", "--reconnect-max-ms", "300"];
    let notify = await startNotify(args);
    defer(() => notify.kill());
    const alice = await registerWebhook(notify.url, receiver, [T1, T2]);
    await waitLive(notify.url);
    const published: Published = [];
    const publishing = publishSome(scope.publisher, node.url, 40, [T1, T2, OTHER], published);
    await new Promise((r) => setTimeout(r, 150));
    await notify.kill();
    await publishing;
    notify = await startNotify(args);
    defer(() => notify.kill());
    const expected = expectedDeliveries([alice], published);
    await waitUntil(() => new Set(receiver.received.map((r) => r.body.deliveryId)).size >= expected.length, "every delivery", 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect([...new Set(receiver.received.map((r) => r.body.deliveryId as string))].sort()).toEqual(expected);
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
    // At most the deliveries that were in flight (one per installation) repeat.
    expect(receiver.received.length - expected.length).toBeLessThanOrEqual(1);
  });
});

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;
if (!postgresUrl && process.env.CI) {
  it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
    throw new Error('XMTP_TEST_POSTGRES_URL is not set but CI is: run `eval "$(bash .ci/postgres.sh)"` first');
  });
}

describe.skipIf(!postgresUrl)("with PostgreSQL (--db)", () => {
  it("delivers exactly once across a restart of the service binary", async () => {
    const { node, receiver } = await nodeAndReceiver();
    const db = new URL(postgresUrl!);
    const schema = `notify_e2e_${process.pid}_${Date.now()}`;
    db.searchParams.set("schema", schema);
    defer(async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    const args = ["--node", node.url, "--db", db.toString(), "--data-dir", tempDir("xmtp-notify-faults-"), "--reconnect-max-ms", "300"];
    let notify = await startNotify(args);
    defer(() => notify.kill());
    expect(notify.logs.join("\n")).not.toContain(db.password);
    const alice = await registerWebhook(notify.url, receiver, [T1]);
    const bob = await registerWebhook(notify.url, receiver, [T1, T2]);
    await waitLive(notify.url);
    const published: Published = [];
    await publishSome(scope.publisher, node.url, 9, [T1, T2, OTHER], published);
    const publishing = publishSome(scope.publisher, node.url, 20, [T1, T2, OTHER], published);
    await new Promise((r) => setTimeout(r, 40));
    expect(await notify.stop()).toBe(0);
    await publishing;
    notify = await startNotify(args);
    defer(() => notify.kill());
    await waitLive(notify.url);
    await publishSome(scope.publisher, node.url, 6, [T1, T2, OTHER], published);
    await assertExactlyOnce(receiver, expectedDeliveries([alice, bob], published));
  });
});
