// Every heartbeat, gossipsub collects the ids of every message of its last few heartbeats for each topic and shuffles
// them, and only then looks at whom to send that IHAVE gossip to: peers of the topic outside the mesh. In a network
// small enough that every peer is in the mesh (the usual case for XMTP nodes) there is nobody, and at thousands of
// envelopes per second the collecting alone was 2-3 % of a relaying node's time. Topics without candidates are left
// out before gossipsub collects anything; for the others nothing changes.
import type { GossipSub } from "@libp2p/gossipsub";

/** The gossipsub internal used: emitGossip(peers to gossip to, by topic), called once per heartbeat. */
interface GossipEmitter {
  emitGossip(peersToGossipByTopic: Map<string, Set<string>>): void;
}

/** Makes `pubsub` skip gossip for topics that have no peer to gossip to. A gossipsub without emitGossip is left as it is. */
export function skipGossipWithoutCandidates(pubsub: GossipSub): void {
  const emitter = pubsub as unknown as Partial<GossipEmitter>;
  if (typeof emitter.emitGossip !== "function") return;
  const emitGossip = emitter.emitGossip.bind(pubsub) as GossipEmitter["emitGossip"];
  (pubsub as unknown as GossipEmitter).emitGossip = (peersToGossipByTopic) => {
    let withCandidates: Map<string, Set<string>> | undefined;
    for (const [topic, peers] of peersToGossipByTopic) {
      if (peers.size === 0) continue;
      (withCandidates ??= new Map()).set(topic, peers);
    }
    if (withCandidates) emitGossip(withCandidates);
  };
}
