// Waku Filter across instances: a real @waku/sdk light node subscribed through one instance is pushed what is
// published on another, because every instance feeds its Filter subscribers from the shared commits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Protocols, type IDecodedMessage, type LightNode } from "@waku/sdk";
import { lightNodeFor, WAKU_ARGS } from "../../packages/node/test/waku/support.js";
import { createIdentity, envelopeJson, nowNs, publish } from "../../packages/node/test/http/helpers.js";
import { eventually, type RelayNode } from "../../packages/node/test/network/support.js";
import { startCluster, type Cluster } from "../support/cluster.js";

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;

/** An instance as the Waku helpers know a relay node: its peer id, from its "relay listening" line. */
function asRelayNode(cluster: Cluster, index: number): RelayNode {
  const instance = cluster.instances[index];
  const line = instance.logs.find((l) => l.includes('"msg":"relay listening"'));
  if (!line) throw new Error(`instance ${index} logged no "relay listening" line`);
  const record = JSON.parse(line) as { peerId: string; multiaddrs: string[] };
  return { ...instance, peerId: record.peerId, multiaddr: record.multiaddrs[0], p2pPort: 0 };
}

describe.skipIf(!postgresUrl)("Waku Filter on a cluster", () => {
  let cluster: Cluster;
  let light: LightNode | undefined;
  beforeAll(async () => {
    cluster = await startCluster({ postgresUrl: postgresUrl!, args: ["--p2p-host", "127.0.0.1", "--p2p-port", "0", ...WAKU_ARGS] });
  });
  afterAll(async () => {
    await light?.stop();
    await cluster?.dispose();
  });

  it("pushes to a light node on one instance what is published on the others", { timeout: 90_000 }, async () => {
    light = await lightNodeFor(asRelayNode(cluster, 0), [Protocols.Filter]);
    const topic = `/xmtp/0/m-cluster-filter-${Date.now()}/proto`;
    const received: IDecodedMessage[] = [];
    const decoder = light.createDecoder({ contentTopic: topic });
    expect(await light.filter.subscribe(decoder, (message) => void received.push(message))).toBe(true);

    const alice = await createIdentity();
    for (const index of [1, 2]) {
      const answer = await publish(cluster.instances[index], [envelopeJson(topic, nowNs(), Buffer.from(`from instance ${index}`).toString("base64"))], alice.token());
      expect(answer.status).toBe(200);
    }
    await eventually(() => received.length === 2, "both envelopes pushed to the light node");
    expect(received.map((message) => Buffer.from(message.payload).toString())).toEqual(["from instance 1", "from instance 2"]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received).toHaveLength(2);
  });
});
