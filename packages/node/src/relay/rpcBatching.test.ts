import { describe, expect, it } from "vitest";
import type { GossipSub } from "@libp2p/gossipsub";
import { MAX_BATCHED_RPC_BYTES, batchGossipRpcs } from "./rpcBatching.js";

interface SentRpc {
  id: string;
  messages: Array<{ data?: Uint8Array }>;
  control?: unknown;
  subscriptions: unknown[];
}

/** The two gossipsub internals the batching uses, recording what reaches the wire. */
function fakeGossipsub(peersWithStreams: string[]) {
  const sent: SentRpc[] = [];
  const pubsub = {
    streamsOutbound: new Map(peersWithStreams.map((id) => [id, {}])),
    sendRpc(id: string, rpc: Omit<SentRpc, "id">): boolean {
      if (!this.streamsOutbound.has(id)) return false;
      sent.push({ id, ...rpc });
      return true;
    },
  };
  const sendAll = batchGossipRpcs(pubsub as unknown as GossipSub);
  return { pubsub, sent, sendAll };
}

const message = (n: number, bytes = 4) => ({ data: new Uint8Array(bytes).fill(n) });
const messagesRpc = (...messages: Array<{ data: Uint8Array }>) => ({ subscriptions: [], messages, control: undefined });
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const firstBytes = (rpc: SentRpc) => rpc.messages.map((m) => m.data![0]);

describe("batchGossipRpcs", () => {
  it("sends the messages of one turn to a peer as one RPC, in order, at the end of the turn", async () => {
    const { pubsub, sent } = fakeGossipsub(["b", "c"]);
    expect(pubsub.sendRpc("b", messagesRpc(message(1)))).toBe(true);
    expect(pubsub.sendRpc("c", messagesRpc(message(1)))).toBe(true);
    expect(pubsub.sendRpc("b", messagesRpc(message(2), message(3)))).toBe(true);
    expect(sent).toEqual([]);
    await endOfTurn();
    expect(sent.map((rpc) => [rpc.id, firstBytes(rpc)])).toEqual([
      ["b", [1, 2, 3]],
      ["c", [1]],
    ]);
    expect(sent[0].control).toBeUndefined();
    expect(sent[0].subscriptions).toEqual([]);
  });

  it("answers false, and holds nothing, for a peer without an outbound stream", async () => {
    const { pubsub, sent } = fakeGossipsub(["b"]);
    expect(pubsub.sendRpc("gone", messagesRpc(message(1)))).toBe(false);
    await endOfTurn();
    expect(sent).toEqual([]);
  });

  it("sends held messages before an RPC with control or subscriptions, which goes out at once", async () => {
    const { pubsub, sent } = fakeGossipsub(["b"]);
    pubsub.sendRpc("b", messagesRpc(message(1)));
    const graft = { subscriptions: [], messages: [], control: { graft: [{ topicID: "t" }] } };
    pubsub.sendRpc("b", graft);
    const subscribe = { subscriptions: [{ topic: "t", subscribe: true }], messages: [message(9)], control: undefined };
    pubsub.sendRpc("b", subscribe);
    pubsub.sendRpc("b", messagesRpc(message(2)));
    expect(sent.map((rpc) => [firstBytes(rpc), rpc.control !== undefined, rpc.subscriptions.length])).toEqual([
      [[1], false, 0],
      [[], true, 0],
      [[9], false, 1],
    ]);
    await endOfTurn();
    expect(sent.map(firstBytes)).toEqual([[1], [], [9], [2]]);
  });

  it("starts a new RPC before a batch would pass the size limit", async () => {
    const { pubsub, sent } = fakeGossipsub(["b"]);
    const half = MAX_BATCHED_RPC_BYTES / 2;
    pubsub.sendRpc("b", messagesRpc(message(1, half)));
    pubsub.sendRpc("b", messagesRpc(message(2, half)));
    expect(sent).toEqual([]);
    // 1 and 2 fill a batch exactly; 3 would pass the limit, so that batch leaves when 3 arrives.
    pubsub.sendRpc("b", messagesRpc(message(3, 1)));
    expect(sent.map(firstBytes)).toEqual([[1, 2]]);
    await endOfTurn();
    expect(sent.map(firstBytes)).toEqual([[1, 2], [3]]);
    const big = message(4, MAX_BATCHED_RPC_BYTES * 2);
    pubsub.sendRpc("b", messagesRpc(big));
    await endOfTurn();
    expect(sent[2].messages).toEqual([big]);
  });

  it("sends what is held when asked (shutdown)", () => {
    const { pubsub, sent, sendAll } = fakeGossipsub(["b"]);
    pubsub.sendRpc("b", messagesRpc(message(5)));
    sendAll();
    expect(sent.map(firstBytes)).toEqual([[5]]);
  });
});
