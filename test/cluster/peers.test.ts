// A cluster whose instances are also relay peers of another node (docs/scale-out.md): a publish at the outside node
// is relayed to the instances and streamed on every one of them once, although several instances ingest it; a
// publish at any instance reaches the outside node. The outside node is an ordinary SQLite node.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentity, envelopeJson, nowNs, post, type Identity } from "../../packages/node/test/http/helpers.js";
import { startRelayNode, type RelayNode } from "../../packages/node/test/network/support.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { openEnvelopeStream, type EnvelopeStreamReader, type StreamedEnvelope } from "../support/envelopeStream.js";

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;
const topic = `/xmtp/0/m-cluster-peers-${randomBytes(3).toString("hex")}/proto`;
const labelOf = (e: StreamedEnvelope) => Buffer.from(e.message, "base64").toString();

describe.skipIf(!postgresUrl)("a cluster whose instances relay with another node", () => {
  let outside: RelayNode;
  let cluster: Cluster;
  let alice: Identity;
  const streams: EnvelopeStreamReader[] = [];
  const publishAt = async (url: string, label: string) => {
    const answer = await post(url, "/message/v1/publish", { envelopes: [envelopeJson(topic, nowNs(), Buffer.from(label).toString("base64"))] }, {
      authorization: `Bearer ${alice.token()}`,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  };

  beforeAll(async () => {
    alice = await createIdentity();
    outside = await startRelayNode();
    cluster = await startCluster({
      postgresUrl: postgresUrl!,
      args: ["--p2p-host", "127.0.0.1", "--p2p-port", "0", "--sync-interval-ms", "500", "--peer", outside.multiaddr],
    });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await cluster?.dispose();
    await outside?.dispose();
  });

  it("streams a relayed publish once on every instance, and relays every instance's publishes out", async () => {
    for (const instance of cluster.instances) streams.push(await openEnvelopeStream(instance.url, "/message/v1/subscribe", { contentTopics: [topic] }));
    const outsideStream = await openEnvelopeStream(outside.url, "/message/v1/subscribe", { contentTopics: [topic] });
    streams.push(outsideStream);
    // The relay mesh forms after the instances dial the outside node: publish until the first one crosses.
    let attempt = 0;
    const deadline = Date.now() + 20_000;
    while (streams[0].envelopes.length === 0) {
      if (Date.now() > deadline) throw new Error("nothing published at the outside node reached the cluster within 20 s");
      await publishAt(outside.url, `outside-${attempt++}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await publishAt(outside.url, "outside-last");
    for (const [i, instance] of cluster.instances.entries()) await publishAt(instance.url, `instance-${i}`);

    const expected = [...Array.from({ length: attempt }, (_, n) => `outside-${n}`), "outside-last", "instance-0", "instance-1", "instance-2"].sort();
    for (const [i, s] of streams.entries()) {
      const got = (await s.atLeast(expected.length, i < 3 ? `instance ${i}` : "the outside node")).map(labelOf);
      expect([...got].sort(), i < 3 ? `instance ${i}` : "outside").toEqual(expected);
    }
    // Several instances ingested the relayed envelopes; the shared store kept and streamed each once.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const s of streams) expect(s.envelopes).toHaveLength(expected.length);
    const stored = await post(cluster.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 100 } });
    expect((stored.body.envelopes as StreamedEnvelope[]).map(labelOf).sort()).toEqual(expected);
  });
});
