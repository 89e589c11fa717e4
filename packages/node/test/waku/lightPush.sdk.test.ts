// A real @waku/sdk 0.0.36 light node against started node binaries, over WebSocket: what it LightPushes is stored,
// streamed and relayed like an HTTP publish; what the node refuses comes back as a failure with nothing stored.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Protocols, type LightNode } from "@waku/sdk";
import { eventually, queryAll, startRelayNode, subscribe, type RelayNode } from "../network/support.js";

import { WAKU_ARGS, lightNodeFor } from "./support.js";

const nodes: RelayNode[] = [];
const lights: LightNode[] = [];
afterEach(async () => {
  await Promise.all(lights.splice(0).map((light) => light.stop()));
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.dispose()));
});

const bytes = (text: string) => new TextEncoder().encode(text);
const base64 = (text: string) => Buffer.from(text).toString("base64");

describe("@waku/sdk LightPush through an xmtp-ts node", () => {
  it("is stored, streamed to HTTP subscribers and relayed to the rest of the network", { timeout: 90_000 }, async () => {
    const a = await startRelayNode({ extraArgs: WAKU_ARGS });
    const b = await startRelayNode({ peers: [a.multiaddr] });
    const c = await startRelayNode({ peers: [b.multiaddr] });
    nodes.push(a, b, c);
    const topic = `/xmtp/0/m-waku-lightpush-${Date.now()}/proto`;
    const stream = await subscribe(a, [topic]);
    const light = await lightNodeFor(a, [Protocols.LightPush]);
    lights.push(light);
    const encoder = light.createEncoder({ contentTopic: topic });
    for (const text of ["first from waku", "second from waku"]) {
      const result = await light.lightPush.send(encoder, { payload: bytes(text) });
      expect(result.failures, JSON.stringify(result.failures)).toEqual([]);
      expect(result.successes.map(String)).toEqual([a.peerId]);
    }
    const expected = [base64("first from waku"), base64("second from waku")];
    expect((await queryAll(a, topic)).map((e) => e.message)).toEqual(expected);
    await eventually(() => stream.envelopes.length === 2, "both pushes on the HTTP stream at A");
    expect(stream.envelopes.map((e) => e.message)).toEqual(expected);
    stream.close();
    // Relayed like an HTTP publish: A - B - C.
    await eventually(async () => (await queryAll(c, topic)).length === 2, "both pushes at C");
    expect((await queryAll(c, topic)).map((e) => e.message)).toEqual(expected);
  });

  it("comes back as a failure for an owner-only topic, with nothing stored", { timeout: 60_000 }, async () => {
    const node = await startRelayNode({ extraArgs: WAKU_ARGS });
    nodes.push(node);
    const light = await lightNodeFor(node, [Protocols.LightPush]);
    lights.push(light);
    // A contact bundle topic may be written only by its wallet; LightPush carries no token to prove it (refused 403;
    // the SDK reports any refusal as "Remote peer rejected"). Oversized and malformed pushes are refused by the SDK
    // itself before they are sent; the node's own checks for them are in src/waku/lightPush.test.ts.
    const contactTopic = "/xmtp/0/contact-0x9b1c4C2E75d423391AEF02C34A6B8b1F36FaC7bd/proto";
    const forged = await light.lightPush.send(light.createEncoder({ contentTopic: contactTopic }), { payload: bytes("not the owner") });
    expect(forged.successes).toEqual([]);
    expect(forged.failures.map((failure) => String(failure.error))).toEqual(["Remote peer rejected"]);
    expect(await queryAll(node, contactTopic)).toEqual([]);
    // The node still serves the light node afterwards.
    const topic = `/xmtp/0/m-waku-after-refusal-${Date.now()}/proto`;
    const fine = await light.lightPush.send(light.createEncoder({ contentTopic: topic }), { payload: bytes("fits") });
    expect(fine.failures).toEqual([]);
    expect((await queryAll(node, topic)).map((e) => e.message)).toEqual([base64("fits")]);
  });
});
