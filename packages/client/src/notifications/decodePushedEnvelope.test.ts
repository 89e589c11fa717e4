// decodePushedEnvelope on the two forms of a delivery: with the envelope's message, and with it left out
// (`messageOmitted`, a push message too small for it), when the client reads it back from the node by topic,
// timestamp and digest. Real clients and real encryption against a real node (packages/node/dist/main.js).
import { toBase64 } from "@xmtp-ts/crypto";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { envelopeDigestHex } from "../api/digests.js";
import type { Envelope } from "../api/types.js";
import { Client } from "../Client.js";
import { decodePushedEnvelope, parsePushBody } from "./decodePushedEnvelope.js";
import { InvalidPushError, PushedEnvelopeUnavailableError } from "./errors.js";
import type { QueryParams } from "../api/types.js";

let node: RunningNode;
let alice: Client;
let bob: Client;
/** Every query alice's client made (a spy on the real API). */
let aliceQueries: QueryParams[];

beforeAll(async () => {
  node = await startNode();
  const options = { apiUrl: node.url, parallelInvitations: false } as const;
  [alice, bob] = await Promise.all([Client.create(Wallet.createRandom(), options), Client.create(Wallet.createRandom(), options)]);
  aliceQueries = [];
  const query = alice.api.query.bind(alice.api);
  vi.spyOn(alice.api, "query").mockImplementation((params: QueryParams) => {
    aliceQueries.push(params);
    return query(params);
  });
});
afterAll(async () => {
  await node?.stop();
});

/** The body xmtp-notify sends for `envelope`; without the message when `omit`. */
function bodyOf(envelope: Envelope, omit = false): Record<string, unknown> {
  const digest = envelopeDigestHex(envelope);
  return {
    installationId: "inst-1",
    deliveryId: `inst-1:${digest}`,
    digest,
    attempt: 1,
    sentAt: new Date().toISOString(),
    envelope: {
      contentTopic: envelope.contentTopic,
      timestampNs: envelope.timestampNs.toString(),
      ...(omit ? {} : { message: toBase64(envelope.message) }),
    },
    ...(omit ? { messageOmitted: true } : {}),
  };
}

/** The newest envelope on `topic`, as the node has it. */
async function lastOn(topic: string): Promise<Envelope> {
  const envelopes = await bob.api.queryAll({ contentTopic: topic });
  expect(envelopes.length).toBeGreaterThan(0);
  return envelopes.reduce((a, b) => (b.timestampNs >= a.timestampNs ? b : a));
}

/** The queries that looked for one instant on `topic`: what reading an omitted message back costs. */
function pointQueries(topic: string) {
  return aliceQueries.filter((q) => q.contentTopic === topic && q.startTimeNs !== undefined && q.startTimeNs === q.endTimeNs);
}

describe("decodePushedEnvelope", () => {
  it("decodes a delivery that carries the message, without asking the node for it", async () => {
    const conversation = await bob.conversations.newConversation(alice.address);
    await conversation.send("the message is in the push");
    const envelope = await lastOn(conversation.topic);
    const pushed = await decodePushedEnvelope(alice, JSON.stringify(bodyOf(envelope)));
    expect(pushed.kind).toBe("message");
    if (pushed.kind !== "message") throw new Error("unreachable");
    expect(pushed.message.content).toBe("the message is in the push");
    expect(pushed.message.senderAddress).toBe(bob.address);
    expect(pushed.delivery.messageOmitted).toBeUndefined();
    expect(pushed.delivery.digest).toBe(envelopeDigestHex(envelope));
    expect(pointQueries(conversation.topic)).toEqual([]);
  });

  it("reads an omitted message back from the node by topic, timestamp and digest", async () => {
    const conversation = await bob.conversations.newConversation(alice.address);
    await conversation.send("x".repeat(5_000));
    const envelope = await lastOn(conversation.topic);
    // Another envelope on the topic at the very same time: only the digest tells them apart.
    await bob.api.publish([{ contentTopic: conversation.topic, timestampNs: envelope.timestampNs, message: new Uint8Array([1, 2, 3]) }]);
    const sameInstant = await bob.api.queryAll({ contentTopic: conversation.topic, startTimeNs: envelope.timestampNs, endTimeNs: envelope.timestampNs });
    expect(sameInstant).toHaveLength(2);

    const body = bodyOf(envelope, true);
    const parsed = parsePushBody(body);
    expect(parsed.messageOmitted).toBe(true);
    expect(parsed.envelope.message).toHaveLength(0);

    const pushed = await decodePushedEnvelope(alice, JSON.stringify(body));
    expect(pushed.kind).toBe("message");
    if (pushed.kind !== "message") throw new Error("unreachable");
    expect(pushed.message.content).toBe("x".repeat(5_000));
    expect(pushed.message.error).toBeUndefined();
    expect(pushed.delivery.messageOmitted).toBe(true);
    expect(pushed.delivery.envelope.message).toEqual(envelope.message);
    const asked = pointQueries(conversation.topic);
    expect(asked).toHaveLength(1);
    expect(asked[0].startTimeNs).toBe(envelope.timestampNs);
  });

  it("reads an omitted invitation back too", async () => {
    const carol = await Client.create(Wallet.createRandom(), { apiUrl: node.url, parallelInvitations: false });
    const conversation = await carol.conversations.newConversation(alice.address);
    const invitation = await lastOn(`/xmtp/0/invite-${alice.address}/proto`);
    const pushed = await decodePushedEnvelope(alice, bodyOf(invitation, true));
    expect(pushed.kind).toBe("conversation");
    if (pushed.kind !== "conversation") throw new Error("unreachable");
    expect(pushed.conversation.topic).toBe(conversation.topic);
  });

  it("says so when the node does not have the omitted envelope", async () => {
    const conversation = await bob.conversations.newConversation(alice.address);
    await conversation.send("about to be pruned");
    const envelope = await lastOn(conversation.topic);
    const gone = { ...bodyOf(envelope, true), digest: "ab".repeat(32) };
    const error = await decodePushedEnvelope(alice, gone).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushedEnvelopeUnavailableError);
    expect((error as PushedEnvelopeUnavailableError).code).toBe("notify_envelope_unavailable");
    expect((error as PushedEnvelopeUnavailableError).digest).toBe("ab".repeat(32));
  });

  it("refuses an omitted message without a digest, or with a message after all", () => {
    const envelope = { contentTopic: "/xmtp/0/m-abc/proto", timestampNs: 5n, message: new Uint8Array([9]) };
    const { digest: _digest, ...noDigest } = bodyOf(envelope, true);
    expect(() => parsePushBody(noDigest)).toThrow(InvalidPushError);
    expect(() => parsePushBody({ ...bodyOf(envelope, true), digest: "not-hex" })).toThrow(/digest/);
    expect(() => parsePushBody({ ...bodyOf(envelope), messageOmitted: true })).toThrow(/carries one/);
  });
});
