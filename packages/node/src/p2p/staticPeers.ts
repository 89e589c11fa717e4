// Keeps this node connected to the peers named with --peer: dial, and when the connection drops (the peer stopped,
// crashed or was partitioned away) dial again with exponential backoff until it answers.
import { setTimeout as wait } from "node:timers/promises";
import type { Connection, PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { NetworkLogger } from "./logger.js";

/** Waits `ms`, or less when `signal` aborts first (then resolves too: a stop is not an error here). */
const sleepUnlessAborted = (ms: number, signal: AbortSignal): Promise<unknown> => wait(ms, undefined, { signal }).catch(() => undefined);

export interface Dialer {
  dial(address: Multiaddr, options?: { signal?: AbortSignal }): Promise<Connection>;
  getConnections(peer?: PeerId): Connection[];
  addEventListener(type: "peer:disconnect", listener: (event: CustomEvent<PeerId>) => void): void;
  removeEventListener(type: "peer:disconnect", listener: (event: CustomEvent<PeerId>) => void): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_DIAL_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000 };

export class StaticPeers {
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  /** address → the peer id last seen there (learnt on the first dial when the address has no /p2p/ part). */
  readonly peerIds = new Map<string, string>();

  constructor(
    private readonly dialer: Dialer,
    private readonly addresses: Multiaddr[],
    private readonly logger: NetworkLogger,
    private readonly backoff: BackoffOptions = DEFAULT_DIAL_BACKOFF,
  ) {}

  start(): void {
    this.loops = this.addresses.map((address) => this.keepConnected(address));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async keepConnected(address: Multiaddr): Promise<void> {
    const signal = this.abort.signal;
    const text = address.toString();
    let delay = this.backoff.initialMs;
    let failures = 0;
    while (!signal.aborted) {
      let connection: Connection;
      try {
        connection = await this.dialer.dial(address, { signal });
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        // The first failure and then every tenth, so a peer that is down for long does not flood the log.
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn("peer unreachable; retrying", { peer: text, attempts: failures, retryInMs: delay, error: String(error) });
        }
        await sleepUnlessAborted(delay, signal);
        delay = Math.min(delay * 2, this.backoff.maxMs);
        continue;
      }
      const peer = connection.remotePeer;
      const previous = this.peerIds.get(text);
      this.peerIds.set(text, peer.toString());
      this.logger.info("connected to peer", {
        peer: text,
        peerId: peer.toString(),
        ...(previous && previous !== peer.toString() ? { previousPeerId: previous } : {}),
      });
      delay = this.backoff.initialMs;
      failures = 0;
      await this.untilDisconnected(peer, signal);
      if (!signal.aborted) this.logger.warn("lost connection to peer; reconnecting", { peer: text, peerId: peer.toString() });
    }
  }

  private untilDisconnected(peer: PeerId, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.dialer.removeEventListener("peer:disconnect", onDisconnect);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const onDisconnect = (event: CustomEvent<PeerId>) => {
        if (event.detail.equals(peer)) done();
      };
      this.dialer.addEventListener("peer:disconnect", onDisconnect);
      signal.addEventListener("abort", done);
      // The connection may have closed between the dial and registering the listener.
      if (this.dialer.getConnections(peer).length === 0) done();
    });
  }
}
