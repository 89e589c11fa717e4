// The gossipsub the Waku relay runs on: the libp2p service configured as Waku relay expects (unsigned messages,
// Waku message ids, room for the largest envelope), and the adjustments made to it once created, before it sends
// anything. The libp2p host takes the service from here; WakuRelay then uses the instance.
import "../p2p/promiseWithResolvers.js";
import { gossipsub, StrictNoSign, type GossipSub } from "@libp2p/gossipsub";
import { MAX_RELAYED_MESSAGE_BYTES } from "../p2p/validation.js";
import { WakuRelay } from "./wakuRelay.js";
import { batchGossipRpcs } from "./rpcBatching.js";
import { skipGossipWithoutCandidates } from "./gossipEmission.js";
import { relayMessageId, relayMessageIdKey } from "./messageId.js";

const SEEN_TTL_MS = 30_000;

/** The gossipsub service factory for the libp2p host's `services`. */
export function wakuGossipsub() {
  return gossipsub({
    globalSignaturePolicy: StrictNoSign,
    fallbackToFloodsub: false,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    msgIdFn: relayMessageId,
    // Message ids are remembered (seen cache, and our own publishes) for 30 s instead of gossipsub's 2 min: at
    // thousands of envelopes per second the two caches hold hundreds of thousands of ids, which old-generation
    // GC keeps walking. Gossip asks for a message only within a few heartbeats, so a duplicate arriving later
    // than 30 s is rare, and costs one forward and a dedupe in the store, not a loop.
    seenTTL: SEEN_TTL_MS,
    msgIdToStrFn: relayMessageIdKey,
    // Room for one 1 MiB envelope plus the WakuMessage and RPC framing.
    maxInboundDataLength: 2 * MAX_RELAYED_MESSAGE_BYTES,
  });
}

/**
 * Makes a created gossipsub speak the Waku relay protocol and batch and trim what it sends. Call it before the host
 * starts; returns the function that sends the RPCs still held by the batching (call it on stop).
 */
export function prepareWakuGossipsub(pubsub: GossipSub): () => void {
  WakuRelay.useWakuProtocol(pubsub);
  // Before anything is sent: every RPC gossipsub sends goes through the batching.
  const sendHeldRpcs = batchGossipRpcs(pubsub);
  skipGossipWithoutCandidates(pubsub);
  return sendHeldRpcs;
}
