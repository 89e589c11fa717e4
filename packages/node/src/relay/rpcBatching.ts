// Gossipsub sends every message in an RPC of its own: publishing or forwarding a burst of n envelopes to a peer
// costs n RPC encodings, n length-prefixed writes and n yamux frames here, and n frame dispatches, n stream reads and
// n RPC decodings at the peer. The protocol allows any number of messages in one RPC (`repeated Message publish`),
// and every implementation handles that; so the messages a node sends to a peer during one event-loop turn are sent
// as one RPC at the end of the turn (as write coalescing does for frames, see coalescedWrites.ts), up to a size that
// any peer accepts.
//
// Only RPCs that carry nothing but messages are held back. An RPC with control messages (GRAFT, PRUNE, IHAVE, ...)
// or subscriptions first sends the peer's held messages, then goes out itself, so the order a peer sees is unchanged.
import type { GossipSub } from "@libp2p/gossipsub";

/**
 * Held messages are sent once they reach this size. Far below any peer's limit for a whole RPC (go-libp2p-pubsub
 * and nwaku accept at least 1 MiB, this node 2 MiB), and at most 5 000 messages, the js-libp2p default.
 */
export const MAX_BATCHED_RPC_BYTES = 64 * 1024;
export const MAX_BATCHED_RPC_MESSAGES = 1000;

/** The parts of an RPC this module looks at (the type gossipsub passes to sendRpc). */
interface Rpc {
  subscriptions: unknown[];
  messages: Array<{ data?: Uint8Array }>;
  control?: unknown;
}

/** The gossipsub internals used: sendRpc is the one place every outgoing RPC passes. */
interface RpcSender {
  sendRpc(id: string, rpc: Rpc): boolean;
  readonly streamsOutbound: Map<string, unknown>;
}

interface HeldRpc {
  messages: Rpc["messages"];
  bytes: number;
}

/**
 * Makes `pubsub` send the messages it sends to each peer during one event-loop turn as one RPC. Returns a function
 * that sends what is held at once (for shutdown). A gossipsub without the expected internals is left as it is.
 */
export function batchGossipRpcs(pubsub: GossipSub): () => void {
  const sender = pubsub as unknown as Partial<RpcSender>;
  if (typeof sender.sendRpc !== "function" || !(sender.streamsOutbound instanceof Map)) return () => {};
  const sendRpc = sender.sendRpc.bind(pubsub) as RpcSender["sendRpc"];
  const streams = sender.streamsOutbound;
  const held = new Map<string, HeldRpc>();
  let scheduled = false;

  const sendHeld = (id: string): void => {
    const batch = held.get(id);
    if (!batch) return;
    held.delete(id);
    sendRpc(id, { subscriptions: [], messages: batch.messages, control: undefined });
  };
  const sendAll = (): void => {
    scheduled = false;
    for (const id of [...held.keys()]) sendHeld(id);
  };

  (pubsub as unknown as RpcSender).sendRpc = (id: string, rpc: Rpc): boolean => {
    const messagesOnly = rpc.messages.length > 0 && rpc.subscriptions.length === 0 && rpc.control === undefined;
    if (!messagesOnly) {
      sendHeld(id);
      return sendRpc(id, rpc);
    }
    // What sendRpc itself would answer: publish counts the peers a message went to.
    if (!streams.has(id)) return false;
    let bytes = 0;
    for (const message of rpc.messages) bytes += message.data?.byteLength ?? 0;
    let batch = held.get(id);
    if (batch && (batch.bytes + bytes > MAX_BATCHED_RPC_BYTES || batch.messages.length + rpc.messages.length > MAX_BATCHED_RPC_MESSAGES)) {
      sendHeld(id);
      batch = undefined;
    }
    if (!batch) {
      batch = { messages: [], bytes: 0 };
      held.set(id, batch);
    }
    batch.messages.push(...rpc.messages);
    batch.bytes += bytes;
    if (!scheduled) {
      scheduled = true;
      setImmediate(sendAll);
    }
    return true;
  };
  return sendAll;
}
