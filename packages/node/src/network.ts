// The node's peer-to-peer side, assembled: a libp2p host (p2p/) running the Waku relay (relay/), the catch-up sync
// protocol (sync/) and optionally the Waku service protocols (waku/), kept connected to the static peers. This module
// loads libp2p, so the node imports it lazily, only when --p2p-port is given.
import "./p2p/promiseWithResolvers.js";
import type { Libp2p } from "libp2p";
import type { GossipSub } from "@libp2p/gossipsub";
import type { Envelope, EnvelopeStore } from "./store/EnvelopeStore.js";
import { DEFAULTS } from "./config.js";
import type { AdmitFromPeer } from "./postage/peerAdmission.js";
import type { PostageLedger } from "./store/postageLedger.js";
import type { NetworkLogger } from "./p2p/logger.js";
import { createLibp2pHost } from "./p2p/libp2pHost.js";
import { parsePeerAddress } from "./p2p/peerAddress.js";
import { StaticPeers, DEFAULT_DIAL_BACKOFF, type BackoffOptions } from "./p2p/staticPeers.js";
import { RecentDigests } from "./p2p/recentDigests.js";
import { WakuRelay, type PeerEnvelopeSink } from "./relay/wakuRelay.js";
import { prepareWakuGossipsub, wakuGossipsub } from "./relay/wakuGossipsub.js";
import { CatchUp } from "./sync/catchUp.js";
import { MAX_INBOUND_SYNC_STREAMS, SyncServer } from "./sync/syncServer.js";
import { SYNC_PROTOCOL } from "./sync/syncMessages.js";
import { SyncState } from "./sync/syncState.js";
import { startWakuServices, xmtpShard, type WakuServices, type WakuServicesOptions } from "./waku/services.js";
import { pubsubTopicOf, type WakuShardingConfig } from "./waku/sharding.js";

export interface PeerNetworkOptions {
  /** Holds the node key (stable peer id) and the per-peer sync positions. */
  dataDir: string;
  listenHost: string;
  /** 0 picks a free port. */
  listenPort: number;
  /** --peer values: multiaddrs with or without /p2p/<id>. */
  peers: string[];
  store: Pick<EnvelopeStore, "readDigestsSince" | "readBySequence" | "hasDigests">;
  /** Receives envelopes from peers (relay and catch-up) with origin "peer". */
  ingest: PeerEnvelopeSink;
  /**
   * Resolves once everything the store committed before the call is on disk; needed when the ingest commits
   * envelopes from peers without waiting for the disk (catch-up positions are saved only behind it).
   */
  durabilityBarrier?: () => Promise<void>;
  logger: NetworkLogger;
  /** Anti-entropy period in ms; 0 disables it (catch-up still runs on every connection). */
  syncIntervalMs?: number;
  syncPageSize?: number;
  dialBackoff?: BackoffOptions;
  /** A WebSocket listen port beside TCP (Waku light nodes dial WebSocket only); 0 picks a free port. */
  wsPort?: number;
  /** The Waku service protocols (Metadata, LightPush); absent: the node serves only relay and sync. */
  waku?: Omit<WakuServicesOptions, "logger" | "relayPeerCount">;
  /**
   * The cluster and shard count that place the relay's sharded topic, when the Waku services are off (with them on,
   * `waku.sharding` is used). Default: the node's defaults (cluster 0, 8 shards).
   */
  sharding?: WakuShardingConfig;
  /** Postage (docs/postage.md): the check of reach-topic envelopes from peers, and the proofs served by catch-up. */
  postage?: { admit: AdmitFromPeer; proofs: Pick<PostageLedger, "readProofs"> };
}

export interface Network {
  peerId: string;
  /** Listen addresses including /p2p/<peer id>. */
  multiaddrs: string[];
  relay: WakuRelay;
  catchUp: CatchUp;
  libp2p: Libp2p<{ pubsub: GossipSub }>;
  /** Relays envelopes that passed this node's publish checks (the node's ingest calls this for local publishes). */
  broadcast(envelopes: readonly Envelope[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetwork(options: PeerNetworkOptions): Promise<Network> {
  const staticPeerAddresses = options.peers.map(parsePeerAddress);
  const { libp2p, createdNodeKey } = await createLibp2pHost({
    dataDir: options.dataDir,
    listenHost: options.listenHost,
    listenPort: options.listenPort,
    wsPort: options.wsPort,
    services: { pubsub: wakuGossipsub() },
  });
  const state = await SyncState.load(options.dataDir, options.logger, { durabilityBarrier: options.durabilityBarrier });
  const sendHeldRpcs = prepareWakuGossipsub(libp2p.services.pubsub);

  const recent = new RecentDigests();
  const sharding = options.waku?.sharding ?? options.sharding ?? { clusterId: DEFAULTS.wakuClusterId, shardCount: DEFAULTS.wakuShardCount };
  const shardedTopic = pubsubTopicOf(sharding.clusterId, xmtpShard(sharding));
  const relay = new WakuRelay(libp2p.services.pubsub, options.ingest, options.logger, {
    recent,
    shardedTopic,
    admit: options.postage?.admit,
  });
  const syncServer = new SyncServer(options.store, options.logger, options.postage?.proofs);
  const catchUp = new CatchUp({
    openStream: (peer) => libp2p.dialProtocol(peer, SYNC_PROTOCOL),
    sink: options.ingest,
    state,
    recent,
    hasDigests: (digests) => options.store.hasDigests(digests),
    logger: options.logger,
    intervalMs: options.syncIntervalMs ?? DEFAULTS.syncIntervalMs,
    pageSize: options.syncPageSize,
    admit: options.postage?.admit,
  });
  const staticPeers = new StaticPeers(libp2p, staticPeerAddresses, options.logger, options.dialBackoff ?? DEFAULT_DIAL_BACKOFF);

  libp2p.addEventListener("peer:identify", (event) => {
    if (event.detail.protocols.includes(SYNC_PROTOCOL)) catchUp.peerAvailable(event.detail.peerId);
  });
  libp2p.addEventListener("peer:disconnect", (event) => catchUp.peerGone(event.detail));

  await libp2p.handle(SYNC_PROTOCOL, syncServer.handle, { maxInboundStreams: MAX_INBOUND_SYNC_STREAMS });
  let waku: WakuServices | undefined;
  if (options.waku) {
    waku = await startWakuServices(libp2p, {
      ...options.waku,
      logger: options.logger,
      // The peers that hear a push: those on the sharded topic, and the older nodes on the legacy topic only.
      relayPeerCount: () => relay.relayPeerCount(),
    });
  }
  await libp2p.start();
  relay.start();
  catchUp.start();
  staticPeers.start();

  const peerId = libp2p.peerId.toString();
  const multiaddrs = libp2p.getMultiaddrs().map((address) => address.toString());
  options.logger.info("relay listening", { peerId, multiaddrs, newPeerId: createdNodeKey, staticPeers: options.peers, pubsubTopics: relay.topics });

  let stopping: Promise<void> | undefined;
  return {
    peerId,
    multiaddrs,
    relay,
    catchUp,
    libp2p,
    broadcast: (envelopes) => relay.broadcast(envelopes),
    stop() {
      stopping ??= (async () => {
        await staticPeers.stop();
        waku?.stop();
        // Stopping libp2p aborts the streams of pulls still running, so they end quickly; wait for them after.
        const pullsFinished = catchUp.stop();
        await relay.stop();
        sendHeldRpcs();
        syncServer.abortAll();
        await libp2p.stop();
        await pullsFinished;
      })();
      return stopping;
    },
  };
}
