// A real @waku/sdk 0.0.36 light node reading an xmtp-ts node's store through Waku Store v3: every envelope published
// over HTTP comes back, paged by message-hash cursors without gaps or repeats in both directions; and a LightPush at
// one end of a three-node line is served by Store at the other.
import { afterAll, describe, expect, it } from "vitest";
import { Protocols, type IDecodedMessage, type LightNode } from "@waku/sdk";
import { createIdentity, envelopeJson, publish } from "../http/helpers.js";
import { eventually, queryAll, startRelayNode, type RelayNode } from "../network/support.js";

import { WAKU_ARGS, lightNodeFor } from "./support.js";
const nodes: RelayNode[] = [];
const lights: LightNode[] = [];
afterAll(async () => {
  await Promise.all(lights.map((light) => light.stop()));
  await Promise.all(nodes.map((node) => node.dispose()));
});

async function readAll(light: LightNode, topic: string, options: { paginationForward: boolean; paginationLimit: number }) {
  const pages: number[] = [];
  const texts: string[] = [];
  for await (const page of light.store.queryGenerator([light.createDecoder({ contentTopic: topic })], options)) {
    const messages = (await Promise.all(page)).filter((m): m is IDecodedMessage => m !== undefined);
    pages.push(messages.length);
    texts.push(...messages.map((m) => Buffer.from(m.payload).toString()));
  }
  return { pages, texts };
}

describe("@waku/sdk Store through an xmtp-ts node", () => {
  it("pages through a few hundred envelopes published over HTTP, both directions, by hash cursor", { timeout: 120_000 }, async () => {
    const node = await startRelayNode({ extraArgs: WAKU_ARGS });
    nodes.push(node);
    const topic = `/xmtp/0/m-waku-store-${Date.now()}/proto`;
    const alice = await createIdentity();
    const base = BigInt(Date.now()) * 1_000_000n;
    const count = 230;
    // Ten envelopes share each timestamp, so paging must order ties by arrival as the HTTP query does.
    const envelopes = Array.from({ length: count }, (_, i) =>
      envelopeJson(topic, base + BigInt(Math.floor(i / 10)) * 1_000_000n, Buffer.from(`message ${i}`).toString("base64")),
    );
    for (let i = 0; i < count; i += 100) expect((await publish(node, envelopes.slice(i, i + 100), alice.token())).status).toBe(200);
    const published = (await queryAll(node, topic)).map((e) => Buffer.from(e.message, "base64").toString());
    expect(published).toHaveLength(count);

    const light = await lightNodeFor(node, [Protocols.Store]);
    lights.push(light);
    const forward = await readAll(light, topic, { paginationForward: true, paginationLimit: 50 });
    expect(forward.texts).toEqual(published);
    expect(forward.pages.slice(0, 4)).toEqual([50, 50, 50, 50]);
    const backward = await readAll(light, topic, { paginationForward: false, paginationLimit: 50 });
    // Backward: the newest page first, each page oldest first (as Waku store nodes answer).
    const expectedBackward: string[] = [];
    for (let end = count; end > 0; end -= 50) expectedBackward.push(...published.slice(Math.max(0, end - 50), end));
    expect(backward.texts).toEqual(expectedBackward);
    expect(backward.pages).toEqual([50, 50, 50, 50, 30]);
  });

  it("serves at C what a light node pushed at A (A - B - C)", { timeout: 120_000 }, async () => {
    const a = await startRelayNode({ extraArgs: WAKU_ARGS });
    const b = await startRelayNode({ peers: [a.multiaddr] });
    const c = await startRelayNode({ peers: [b.multiaddr], extraArgs: WAKU_ARGS });
    nodes.push(a, b, c);
    const topic = `/xmtp/0/m-waku-line-${Date.now()}/proto`;
    const pusher = await lightNodeFor(a, [Protocols.LightPush]);
    lights.push(pusher);
    const result = await pusher.lightPush.send(pusher.createEncoder({ contentTopic: topic }), { payload: Buffer.from("pushed at A") });
    expect(result.failures).toEqual([]);
    await eventually(async () => (await queryAll(c, topic)).length === 1, "the push relayed to C");
    const reader = await lightNodeFor(c, [Protocols.Store]);
    lights.push(reader);
    const { texts } = await readAll(reader, topic, { paginationForward: true, paginationLimit: 20 });
    expect(texts).toEqual(["pushed at A"]);
  });
});
