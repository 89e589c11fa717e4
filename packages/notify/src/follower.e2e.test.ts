// End to end, with no mock of the node: a real xmtp-node process (packages/node/dist/main.js), the xmtp-notify
// binary (packages/notify/dist/main.js), a real webhook receiver, envelopes published through the node's HTTP API.
// Build both first: `npx tsc -b packages/node packages/notify`.
// Each test asserts that the receiver gets exactly one delivery, with a valid HMAC signature, per (installation,
// matching envelope), across a restart of the service or of the node in the middle of the run.
import { describe, expect, it } from "vitest";
import { call, startReceiver } from "./test-support/harness.js";
import {
  E2E_SECRET as SECRET,
  assertExactlyOnce,
  expectedDeliveries,
  publishSome as publishWith,
  registerWebhook,
  waitLive as waitLiveAt,
  type Published,
} from "./test-support/deliveries.js";
import { e2eScope } from "./test-support/e2eScope.js";
import { freshEnvelope, startNode, startNotify, type RunningNode, type RunningNotify } from "./test-support/network.js";

const T1 = "/xmtp/0/m-e2e-one/proto";
const T2 = "/xmtp/0/m-e2e-two/proto";
const UNWATCHED = "/xmtp/0/m-e2e-unwatched/proto";

const scope = e2eScope();
const { defer, tempDir } = scope;
const publishSome = (nodeUrl: string, count: number, topics: string[], into: Published) => publishWith(scope.publisher, nodeUrl, count, topics, into);
const waitLive = (notify: RunningNotify) => waitLiveAt(notify.url);
const register = (notify: RunningNotify, receiver: Parameters<typeof registerWebhook>[1], topics: string[]) => registerWebhook(notify.url, receiver, topics);

async function launchNotify(nodeUrls: string[], dataDir: string, extra: string[] = []): Promise<RunningNotify> {
  const notify = await startNotify([
    ...nodeUrls.flatMap((url) => ["--node", url]),
    "--data-dir",
    dataDir,
    "--retry-base-ms",
    "50",
    "--retry-max-ms",
    "500",
    "--reconnect-max-ms",
    "300",
    ...extra,
  ]);
  defer(() => notify.kill());
  return notify;
}

describe("following a real node", () => {
  it("delivers exactly once across a restart of the service, including what was published while it was down", async () => {
    const node = await startNode();
    defer(() => node.dispose());
    const receiver = await startReceiver(SECRET);
    defer(() => receiver.close());
    const dataDir = tempDir("xmtp-notify-e2e-");
    let notify = await launchNotify([node.url], dataDir);
    const alice = await register(notify, receiver, [T1, T2]);
    const bob = await register(notify, receiver, [T2]);
    await waitLive(notify);

    const published: Published = [];
    await publishSome(node.url, 12, [T1, T2, UNWATCHED], published);
    await receiver.waitFor((r) => r.length >= 8); // 4 on T1 (alice) + 4 on T2 (alice and bob)

    // Stop the service while publishing goes on, publish more while it is down, start it again.
    const publishing = publishSome(node.url, 30, [T1, T2, UNWATCHED], published);
    await new Promise((r) => setTimeout(r, 40));
    expect(await notify.stop()).toBe(0);
    await publishing;
    await publishSome(node.url, 9, [T1, T2, UNWATCHED], published);
    const deliveredWhileDown = receiver.received.length;

    notify = await launchNotify([node.url], dataDir);
    await waitLive(notify);
    await publishSome(node.url, 9, [T1, T2, UNWATCHED], published);
    await assertExactlyOnce(receiver, expectedDeliveries([alice, bob], published));
    expect(receiver.received.length).toBeGreaterThan(deliveredWhileDown);
  });

  it("delivers exactly once across a restart of the node", async () => {
    const nodeDir = tempDir("xmtp-node-e2e-");
    let node: RunningNode = await startNode({ dataDir: nodeDir });
    const port = Number(new URL(node.url).port);
    defer(() => node.stop());
    const receiver = await startReceiver(SECRET);
    defer(() => receiver.close());
    const notify = await launchNotify([node.url], tempDir("xmtp-notify-e2e-"));
    const alice = await register(notify, receiver, [T1]);
    const bob = await register(notify, receiver, [T1, T2]);
    await waitLive(notify);

    const published: Published = [];
    await publishSome(node.url, 10, [T1, T2, UNWATCHED], published);
    expect(await node.stop()).toBe(0);
    node = await startNode({ dataDir: nodeDir, port });
    // Published as soon as the node is back: some before the service has reconnected (found by catch-up), some after.
    await publishSome(node.url, 10, [T1, T2, UNWATCHED], published);
    await waitLive(notify);
    await publishSome(node.url, 10, [T1, T2, UNWATCHED], published);
    await assertExactlyOnce(receiver, expectedDeliveries([alice, bob], published));
    const metrics = await (await fetch(notify.url + "/metrics")).text();
    expect(Number(/xmtp_notify_stream_connects_total\{node="[^"]+"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it("delivers each envelope once when it follows two nodes that both have it", async () => {
    const first = await startNode();
    defer(() => first.dispose());
    const second = await startNode();
    defer(() => second.dispose());
    const receiver = await startReceiver(SECRET);
    defer(() => receiver.close());
    const notify = await launchNotify([first.url, second.url], tempDir("xmtp-notify-e2e-"));
    const alice = await register(notify, receiver, [T1]);
    await waitLive(notify);
    const published: Published = [];
    for (let i = 0; i < 8; i++) {
      const envelope = freshEnvelope(T1);
      // The same envelope published to both nodes (as a relay would put it on both).
      await scope.publisher.publish(first.url, [envelope]);
      await scope.publisher.publish(second.url, [envelope]);
      published.push(envelope);
    }
    await assertExactlyOnce(receiver, expectedDeliveries([alice], published));
  });

  it("stops delivering a topic once unsubscribed, and everything once the installation is deleted", async () => {
    const node = await startNode();
    defer(() => node.dispose());
    const receiver = await startReceiver(SECRET);
    defer(() => receiver.close());
    const notify = await launchNotify([node.url], tempDir("xmtp-notify-e2e-"));
    const alice = await register(notify, receiver, [T1, T2]);
    await waitLive(notify);
    const delivered: Published = [];
    await publishSome(node.url, 4, [T1, T2], delivered);
    await receiver.waitFor((r) => r.length === 4);

    const unsubscribed = await call(notify.url, "POST", `/v1/installations/${alice.id}/unsubscribe`, { key: alice.accessKey, body: { topics: [T1] } });
    expect(unsubscribed.body.topics).toEqual([T2]);
    const ignored: Published = [];
    await publishSome(node.url, 2, [T1], ignored);
    await publishSome(node.url, 2, [T2], delivered);
    await assertExactlyOnce(receiver, expectedDeliveries([alice], delivered));

    expect((await call(notify.url, "DELETE", `/v1/installations/${alice.id}`, { key: alice.accessKey })).status).toBe(204);
    await publishSome(node.url, 2, [T1, T2], ignored);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.received).toHaveLength(6);
  });

  it("refuses forged access keys on the running binary", async () => {
    const node = await startNode();
    defer(() => node.dispose());
    const receiver = await startReceiver(SECRET);
    defer(() => receiver.close());
    const notify = await launchNotify([node.url], tempDir("xmtp-notify-e2e-"));
    const alice = await register(notify, receiver, [T1]);
    const forged = "A".repeat(43);
    expect((await call(notify.url, "POST", `/v1/installations/${alice.id}/subscribe`, { key: forged, body: { topics: [T2] } })).status).toBe(403);
    expect((await call(notify.url, "DELETE", `/v1/installations/${alice.id}`, { key: forged })).status).toBe(403);
    expect((await call(notify.url, "GET", `/v1/installations/${alice.id}`, { key: alice.accessKey })).body.topics).toEqual([T1]);
  });
});
