// Clients streaming through the balancer when the instance carrying their streams is killed (docs/scale-out.md,
// "Failover"): our client's resumable stream reconnects through another instance and misses and repeats nothing;
// the public SDK re-subscribes by itself, and its queries keep working.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecodedMessage } from "../../packages/client/src/index.js";
import { ourClient, sdkClient, sdkReceives, take } from "../../packages/client/test/support/peers.js";
import { startCluster, type Cluster } from "../support/cluster.js";

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;

/** The instances that hold at least one open stream, read from their own /metrics. */
async function instancesWithStreams(cluster: Cluster): Promise<number[]> {
  const holding: number[] = [];
  for (const [index, instance] of cluster.instances.entries()) {
    if (instance.process.exitCode !== null || instance.process.signalCode !== null) continue;
    const metrics = await (await fetch(`${instance.url}/metrics`)).text();
    const open = Number(/^xmtp_active_streams (\d+)/m.exec(metrics)?.[1] ?? "0");
    if (open > 0) holding.push(index);
  }
  return holding;
}

describe.skipIf(!postgresUrl)("clients through the balancer when an instance is killed", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ postgresUrl: postgresUrl!, args: ["--stream-keepalive-ms", "2000"] });
  });
  afterAll(async () => {
    await cluster?.dispose();
  });

  it("our client's stream resumes elsewhere with nothing missed or repeated; the SDK re-subscribes and still queries", async () => {
    const sender = await ourClient(cluster.url);
    const receiver = await ourClient(cluster.url);
    const sdkReceiver = await sdkClient(cluster.url);
    const toOurs = await sender.conversations.newConversation(receiver.address);
    const toSdk = await sender.conversations.newConversation(sdkReceiver.address);
    const oursSide = (await receiver.conversations.list()).find((c) => c.topic === toOurs.topic)!;
    const sdkSide = (await sdkReceiver.conversations.list()).find((c: { topic: string }) => c.topic === toSdk.topic);
    expect(oursSide).toBeDefined();
    expect(sdkSide).toBeDefined();

    const oursStream = await oursSide.streamMessages();
    const sdkStream = (await sdkSide.streamMessages())[Symbol.asyncIterator]();
    // The SDK's first message proves its stream is registered (it subscribes without waiting for the node).
    const first = await sdkReceives<{ content: string }>(sdkStream, (i) => toSdk.send(`sdk before ${i}`));
    expect(first.content).toMatch(/^sdk before \d+$/);

    const total = 60;
    let killed: number[] = [];
    for (let n = 0; n < total; n++) {
      await toOurs.send(`m${n}`);
      if (n === 20) {
        // Kill every instance that carries a stream (ours, the SDK's; the two may share one), leaving one alive.
        const holding = await instancesWithStreams(cluster);
        expect(holding.length).toBeGreaterThan(0);
        killed = holding.slice(0, cluster.instances.length - 1);
        await Promise.all(killed.map((index) => cluster.killInstance(index)));
      }
    }
    expect(killed.length).toBeGreaterThan(0);
    const received = await take<DecodedMessage>(oursStream, total, 30_000);
    expect(received.map((m) => m.content)).toEqual(Array.from({ length: total }, (_, n) => `m${n}`));
    // Nothing repeated afterwards either.
    const extra = await Promise.race([oursStream.next(), new Promise((resolve) => setTimeout(() => resolve("none"), 2_000))]);
    expect(extra).toBe("none");
    await oursStream.return();

    // The SDK re-subscribes through the balancer (it does not fill the gap: messages sent while it reconnects are
    // only in queries) and its stream carries new messages again.
    const afterKill = await sdkReceives<{ content: string }>(sdkStream, (i) => toSdk.send(`sdk after ${i}`));
    expect(afterKill.content).toMatch(/^sdk after \d+$/);
    const sdkMessages: Array<{ content: string }> = await sdkSide.messages();
    const sentToSdk = (await toSdk.messages()).map((m) => m.content);
    expect(sdkMessages.map((m) => m.content)).toEqual(sentToSdk);
    expect(sentToSdk).toContain(afterKill.content);
    await sdkStream.return?.();
    for (const index of killed) await cluster.restartInstance(index);
  });
});
