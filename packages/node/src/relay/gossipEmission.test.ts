import { describe, expect, it } from "vitest";
import type { GossipSub } from "@libp2p/gossipsub";
import { skipGossipWithoutCandidates } from "./gossipEmission.js";

function fakeGossipsub() {
  const calls: Array<Map<string, Set<string>>> = [];
  const pubsub = {
    emitGossip(peersToGossipByTopic: Map<string, Set<string>>) {
      calls.push(peersToGossipByTopic);
    },
  };
  skipGossipWithoutCandidates(pubsub as unknown as GossipSub);
  return { pubsub, calls };
}

describe("skipGossipWithoutCandidates", () => {
  it("passes on only the topics that have peers to gossip to", () => {
    const { pubsub, calls } = fakeGossipsub();
    pubsub.emitGossip(new Map([["a", new Set<string>()], ["b", new Set(["peer1"])]]));
    expect(calls).toHaveLength(1);
    expect([...calls[0]]).toEqual([["b", new Set(["peer1"])]]);
  });

  it("does not call gossipsub at all when no topic has a candidate", () => {
    const { pubsub, calls } = fakeGossipsub();
    pubsub.emitGossip(new Map([["a", new Set<string>()]]));
    pubsub.emitGossip(new Map());
    expect(calls).toEqual([]);
  });

  it("leaves a gossipsub without emitGossip as it is", () => {
    const other = { publish() {} };
    skipGossipWithoutCandidates(other as unknown as GossipSub);
    expect(Object.keys(other)).toEqual(["publish"]);
  });
});
