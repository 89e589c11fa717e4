// The node's libp2p host: its identity (the node key), where it listens, and how connections are made (TCP and
// optionally WebSocket, Noise, yamux and mplex, identify). What runs on top of it (the Waku relay, catch-up sync, the
// Waku services) is added by the caller, which passes the libp2p services it needs and registers its protocols.
import "./promiseWithResolvers.js";
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from "libp2p";
import type { ServiceMap } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { mplex } from "@libp2p/mplex";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { identify, type Identify } from "@libp2p/identify";
import { loadOrCreateNodeKey } from "./nodeKey.js";
import { listenAddress } from "./peerAddress.js";
import { withCoalescedFrames, withCoalescedWrites } from "./coalescedWrites.js";

// mplex (libp2p 3) closes a connection on which the remote opens more new streams than this in a second, whatever
// their protocol. Every Waku request is a new stream, so this is a light node's request rate ceiling: its own rate
// limits (LightPush, Store, Filter) refuse far earlier, with a status instead of a cut connection.
const MPLEX_NEW_STREAMS_PER_SECOND = 1_000;

export interface Libp2pHostOptions<Services extends ServiceMap> {
  /** Holds the node key, so the peer id survives restarts. */
  dataDir: string;
  listenHost: string;
  /** 0 picks a free port. */
  listenPort: number;
  /** A WebSocket listen port beside TCP (Waku light nodes dial WebSocket only); 0 picks a free port. */
  wsPort?: number;
  /** The services the protocols on top need (e.g. gossipsub); identify is always added. */
  services: ServiceFactoryMap<Services>;
}

export interface Libp2pHost<Services extends ServiceMap> {
  /** Not started: the caller registers its protocol handlers first, then starts it. */
  libp2p: Libp2p<Services & { identify: Identify }>;
  /** Whether the node key was created now, i.e. this is a new peer id. */
  createdNodeKey: boolean;
}

export async function createLibp2pHost<Services extends ServiceMap>(
  options: Libp2pHostOptions<Services>,
): Promise<Libp2pHost<Services>> {
  const listen = [listenAddress(options.listenHost, options.listenPort)];
  if (options.wsPort !== undefined) listen.push(`${listenAddress(options.listenHost, options.wsPort)}/ws`);
  const { privateKey, created } = await loadOrCreateNodeKey(options.dataDir);
  const services = { ...options.services, identify: identify() } as ServiceFactoryMap<Services & { identify: Identify }>;
  const libp2p = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen },
    transports: [withCoalescedWrites(tcp()), webSockets()],
    connectionEncrypters: [noise()],
    // yamux for our own peers; mplex for js-waku light nodes, which offer nothing else. js-waku opens streams for
    // several protocols at once when it connects, which mplex's default (5 new streams a second) would punish by
    // closing the connection.
    streamMuxers: [withCoalescedFrames(yamux()), mplex({ disconnectThreshold: MPLEX_NEW_STREAMS_PER_SECOND })],
    services,
  });
  return { libp2p, createdNodeKey: created };
}
