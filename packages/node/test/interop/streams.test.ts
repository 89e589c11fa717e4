// Interop: the public SDK's live streams (conversation, all messages, new conversations, ephemeral) over the
// node's newline-delimited subscribe endpoint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import {
  createClient,
  newWallet,
  nextFromStream,
  rawQuery,
  sleep,
  startInteropNode,
  STREAM_SETTLE_MS,
  takeFromStream,
  texts,
  type SdkClient,
  type SdkConversation,
  type SdkMessage,
} from "./sdk.js";

let node: RunningNode;

beforeAll(async () => {
  node = await startInteropNode();
});

afterAll(async () => {
  await node?.dispose();
});

function clients(count: number, options: { legacy?: boolean[] } = {}): Promise<SdkClient[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      createClient(node, newWallet(), { publishLegacyContact: options.legacy?.[i] ?? false }),
    ),
  );
}

describe("conversation.streamMessages", () => {
  it("delivers the peer's new messages in order, and the sender's own", async () => {
    const [alice, bob] = await clients(2);
    const aliceSide = await alice.conversations.newConversation(bob.address);
    await aliceSide.send("before the stream");
    const bobSide = (await bob.conversations.list())[0];
    expect(bobSide.topic).toBe(aliceSide.topic);

    const stream = await bobSide.streamMessages();
    try {
      await sleep(STREAM_SETTLE_MS);
      await aliceSide.send("live 1");
      await aliceSide.send("live 2");
      await bobSide.send("own reply");
      const received = await takeFromStream<SdkMessage>(stream, 3, "conversation message");
      expect(texts(received)).toEqual(["live 1", "live 2", "own reply"]);
      expect(received.map((m) => m.senderAddress)).toEqual([alice.address, alice.address, bob.address]);
    } finally {
      await stream.return();
    }
  });
});

describe("conversations.streamAllMessages", () => {
  it("delivers messages of existing and newly started conversations", async () => {
    const [alice, bob, carol] = await clients(3);
    const existing = await alice.conversations.newConversation(bob.address);
    await existing.send("setup");

    const stream = await bob.conversations.streamAllMessages();
    try {
      await sleep(STREAM_SETTLE_MS);
      await existing.send("in the existing conversation");
      const first = await nextFromStream<SdkMessage>(stream, "message of the existing conversation");
      expect(first.content).toBe("in the existing conversation");
      expect(first.contentTopic).toBe(existing.topic);

      // A conversation started after the stream: the SDK learns it from the invite and re-subscribes.
      const fresh = await carol.conversations.newConversation(bob.address);
      await fresh.send("in a new conversation");
      const second = await nextFromStream<SdkMessage>(stream, "message of the new conversation");
      expect(second.content).toBe("in a new conversation");
      expect(second.senderAddress).toBe(carol.address);
      expect(second.contentTopic).toBe(fresh.topic);
    } finally {
      await stream.return(undefined);
    }
  });
});

describe("conversations.stream", () => {
  it("announces a new v2 conversation from its invitation", async () => {
    const [alice, bob] = await clients(2);
    const stream = await bob.conversations.stream();
    try {
      await sleep(STREAM_SETTLE_MS);
      const started = await alice.conversations.newConversation(bob.address, {
        conversationId: "xmtp.org/interop/stream",
        metadata: {},
      });
      const announced = await nextFromStream<SdkConversation>(stream, "new conversation");
      expect(announced.conversationVersion).toBe("v2");
      expect(announced.topic).toBe(started.topic);
      expect(announced.peerAddress).toBe(alice.address);
      expect(announced.context?.conversationId).toBe("xmtp.org/interop/stream");
    } finally {
      await stream.return();
    }
  });

  it("announces a new v1 conversation from its intro", async () => {
    const [alice, legacy] = await clients(2, { legacy: [false, true] });
    const stream = await legacy.conversations.stream();
    try {
      await sleep(STREAM_SETTLE_MS);
      const started = await alice.conversations.newConversation(legacy.address);
      expect(started.conversationVersion).toBe("v1");
      await started.send("intro for the stream");
      const announced = await nextFromStream<SdkConversation>(stream, "new v1 conversation");
      expect(announced.conversationVersion).toBe("v1");
      expect(announced.peerAddress).toBe(alice.address);
      expect(announced.topic).toBe(started.topic);
    } finally {
      await stream.return();
    }
  });
});

describe("ephemeral messages", () => {
  it("reach a live ephemeral stream and are never stored", async () => {
    const [alice, bob] = await clients(2);
    const aliceSide = await alice.conversations.newConversation(bob.address);
    await aliceSide.send("stored");
    const bobSide = (await bob.conversations.list())[0];

    const stream = await bobSide.streamEphemeral();
    try {
      await sleep(STREAM_SETTLE_MS);
      await aliceSide.send("typing…", { ephemeral: true });
      const received = await nextFromStream<SdkMessage>(stream, "ephemeral message");
      expect(received.content).toBe("typing…");
      expect(received.senderAddress).toBe(alice.address);
    } finally {
      await stream.return();
    }
    const ephemeralTopic = aliceSide.topic.replace("/xmtp/0/m-", "/xmtp/0/mE-");
    expect(await rawQuery(node, ephemeralTopic)).toEqual([]);
    expect(texts(await bobSide.messages())).toEqual(["stored"]);
  });
});
