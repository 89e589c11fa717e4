// A real @waku/sdk 0.0.36 light node subscribed through Waku Filter to an xmtp-ts node: it is pushed what is
// published over HTTP (and so what any XMTP client sends), live, and nothing after it unsubscribes.
import { afterAll, describe, expect, it } from "vitest";
import { Protocols, type IDecodedMessage, type LightNode } from "@waku/sdk";
import { WAKU_ARGS, lightNodeFor } from "./support.js";
import { createIdentity, envelopeJson, nowNs, publish } from "../http/helpers.js";
import { eventually, startRelayNode, type RelayNode } from "../network/support.js";

let node: RelayNode | undefined;
let light: LightNode | undefined;
afterAll(async () => {
  await light?.stop();
  await node?.dispose();
});

describe("@waku/sdk Filter through an xmtp-ts node", () => {
  it("pushes envelopes published over HTTP to the light node, until it unsubscribes", { timeout: 90_000 }, async () => {
    node = await startRelayNode({ extraArgs: WAKU_ARGS });
    light = await lightNodeFor(node, [Protocols.Filter]);

    const topic = `/xmtp/0/m-waku-filter-${Date.now()}/proto`;
    const received: IDecodedMessage[] = [];
    const decoder = light.createDecoder({ contentTopic: topic });
    expect(await light.filter.subscribe(decoder, (message) => void received.push(message))).toBe(true);

    const alice = await createIdentity();
    const timestamps = [nowNs(), nowNs() + 1n];
    for (const [i, timestampNs] of timestamps.entries()) {
      const answer = await publish(node, [envelopeJson(topic, timestampNs, Buffer.from(`over http ${i}`).toString("base64"))], alice.token());
      expect(answer.status).toBe(200);
    }
    await eventually(() => received.length === 2, "both envelopes pushed to the light node");
    expect(received.map((message) => Buffer.from(message.payload).toString())).toEqual(["over http 0", "over http 1"]);
    expect(received.map((message) => message.contentTopic)).toEqual([topic, topic]);
    expect(received.map((message) => BigInt(message.timestamp!.getTime()) * 1_000_000n)).toEqual(
      timestamps.map((t) => (t / 1_000_000n) * 1_000_000n),
    );

    await light.filter.unsubscribe(decoder);
    const after = await publish(node, [envelopeJson(topic, nowNs() + 2n, Buffer.from("after unsubscribe").toString("base64"))], alice.token());
    expect(after.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received).toHaveLength(2);
  });
});
