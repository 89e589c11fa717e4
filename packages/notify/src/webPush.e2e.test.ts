// Web Push end to end: a real xmtp-node process, the xmtp-notify binary, and the test push service
// (test-support/webPushReceiver.ts), which checks each request's VAPID token and decrypts the message with http_ece as
// the subscribed browser would. Build both binaries first: `npx tsc -b packages/node packages/notify`.
import { describe, expect, it } from "vitest";
import { call, waitUntil } from "./test-support/harness.js";
import { assertPushedExactlyOnce, expectedDeliveries, publishSome, registerWebPush, waitLive, type Published } from "./test-support/deliveries.js";
import { e2eScope } from "./test-support/e2eScope.js";
import { freshEnvelope, startNode, startNotify, type RunningNode, type RunningNotify } from "./test-support/network.js";
import { startWebPushReceiver, type WebPushReceiver } from "./test-support/webPushReceiver.js";

const T1 = "/xmtp/0/m-push-one/proto";
const T2 = "/xmtp/0/m-push-two/proto";
const UNWATCHED = "/xmtp/0/m-push-unwatched/proto";

const scope = e2eScope();
const { defer, tempDir } = scope;

async function launchNotify(nodeUrl: string, dataDir: string): Promise<RunningNotify> {
  const notify = await startNotify(["--node", nodeUrl, "--data-dir", dataDir, "--retry-base-ms", "50", "--retry-max-ms", "500", "--reconnect-max-ms", "300"]);
  defer(() => notify.kill());
  return notify;
}

async function receiver(): Promise<WebPushReceiver> {
  const started = await startWebPushReceiver();
  defer(() => started.close());
  return started;
}

async function vapidKeyOf(notify: RunningNotify): Promise<string> {
  const answer = await call(notify.url, "GET", "/v1/webpush/vapid-public-key");
  expect(answer.status).toBe(200);
  return answer.body.publicKey;
}

describe("Web Push deliveries", () => {
  it("reach each subscribed browser exactly once across a restart of the service and of the node, signed by one VAPID key", async () => {
    const nodeDir = tempDir("xmtp-node-push-");
    let node: RunningNode = await startNode({ dataDir: nodeDir });
    const port = Number(new URL(node.url).port);
    defer(() => node.stop());
    const push = await receiver();
    const notifyDir = tempDir("xmtp-notify-push-");
    let notify = await launchNotify(node.url, notifyDir);
    const vapidKey = await vapidKeyOf(notify);
    const alice = await registerWebPush(notify.url, push.newSubscription(), [T1, T2]);
    const bob = await registerWebPush(notify.url, push.newSubscription(), [T2]);
    await waitLive(notify.url);

    const published: Published = [];
    await publishSome(scope.publisher, node.url, 9, [T1, T2, UNWATCHED], published);
    await push.waitFor(6); // 3 on T1 (alice) + 3 on T2 (alice and bob)

    // The service stops while publishing goes on and stays down for more.
    const publishing = publishSome(scope.publisher, node.url, 15, [T1, T2, UNWATCHED], published);
    await new Promise((r) => setTimeout(r, 30));
    expect(await notify.stop()).toBe(0);
    await publishing;
    await publishSome(scope.publisher, node.url, 6, [T1, T2, UNWATCHED], published);
    notify = await launchNotify(node.url, notifyDir);
    // The key lives in the service's store: browsers subscribed with it keep working after a restart.
    expect(await vapidKeyOf(notify)).toBe(vapidKey);
    await waitLive(notify.url);

    // Then the node restarts, with envelopes published around it.
    await publishSome(scope.publisher, node.url, 6, [T1, T2, UNWATCHED], published);
    expect(await node.stop()).toBe(0);
    node = await startNode({ dataDir: nodeDir, port });
    await publishSome(scope.publisher, node.url, 6, [T1, T2, UNWATCHED], published);
    await waitLive(notify.url);
    await publishSome(scope.publisher, node.url, 6, [T1, T2, UNWATCHED], published);

    await assertPushedExactlyOnce(push, expectedDeliveries([alice, bob], published));
    expect(new Set(push.received().map((p) => p.vapidKey))).toEqual(new Set([vapidKey]));
    expect(push.received().every((p) => p.headers.ttl === "86400")).toBe(true);
  });

  it("sends an envelope too large for a push message without its bytes, and removes the installation of a subscription that is gone", async () => {
    const node = await startNode();
    defer(() => node.dispose());
    const push = await receiver();
    const notify = await launchNotify(node.url, tempDir("xmtp-notify-push-"));
    const subscription = push.newSubscription();
    const installation = await registerWebPush(notify.url, subscription, [T1]);
    await waitLive(notify.url);

    const large = freshEnvelope(T1, 6_000);
    await scope.publisher.publish(node.url, [large]);
    const [pushed] = await push.waitFor(1);
    const document = JSON.parse(pushed.plaintext);
    expect(document.messageOmitted).toBe(true);
    expect(document.envelope.message).toBeUndefined();
    expect(document.envelope.contentTopic).toBe(T1);
    expect(document.deliveryId).toBe(`${installation.id}:${document.digest}`);

    // The browser unsubscribed: its push service answers 410 Gone, now and for ever. The installation goes.
    let gone = 0;
    push.respond = () => (gone++, 410);
    await scope.publisher.publish(node.url, [freshEnvelope(T1)]);
    const auth = { key: installation.accessKey };
    await waitUntil(async () => (await call(notify.url, "GET", `/v1/installations/${installation.id}`, auth)).status === 404, "the installation removed", 10_000);
    const metrics = await (await fetch(notify.url + "/metrics")).text();
    expect(metrics).toMatch(/^xmtp_notify_installations_removed_total 1$/m);
    // Nothing more is sent to the dead subscription.
    await scope.publisher.publish(node.url, [freshEnvelope(T1)]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(gone).toBe(1);
  });
});
