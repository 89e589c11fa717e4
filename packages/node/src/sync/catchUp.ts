// Decides when to pull from which peer: as soon as a peer that speaks the sync protocol is identified (start,
// restart, reconnect, healed partition) and then periodically (anti-entropy), so nothing stays missing for longer
// than one interval. At most one pull per peer runs at a time; a request during a pull schedules one more.
import type { PeerId, Stream } from "@libp2p/interface";
import type { Envelope, StoredEnvelope } from "../store/EnvelopeStore.js";
import { needsPostageCheck, type AdmitFromPeer } from "../postage/peerAdmission.js";
import { ThrottledWarning, type NetworkLogger } from "../p2p/logger.js";
import { pullFromPeer } from "./syncClient.js";
import type { SyncState } from "./syncState.js";
import type { RecentDigests } from "../p2p/recentDigests.js";
import { DEFAULT_SYNC_PAGE_SIZE } from "./syncServer.js";

export interface CatchUpSink {
  ingest(envelopes: readonly Envelope[], origin: "peer"): Promise<unknown>;
}

export interface CatchUpOptions {
  openStream(peer: PeerId): Promise<Stream>;
  sink: CatchUpSink;
  state: SyncState;
  /** What this node stored recently; offered envelopes found here are not transferred. Updated with each page. */
  recent: RecentDigests;
  /** The store's check for what `recent` has forgotten (EnvelopeStore.hasDigests); offered envelopes it holds are not transferred. */
  hasDigests?(digests: readonly Uint8Array[]): Promise<boolean[]>;
  logger: NetworkLogger;
  /** Anti-entropy period; 0 disables the periodic pass. */
  intervalMs: number;
  pageSize?: number;
  pageTimeoutMs?: number;
  /** Postage (docs/postage.md): envelopes on reach topics pass this first; refused ones are not stored. */
  admit?: AdmitFromPeer;
}

export interface CatchUpStats {
  /** Completed pulls (including those that found nothing new). */
  pulls: number;
  failedPulls: number;
  /** Envelopes received from peers by sync, before deduplication. */
  envelopesReceived: number;
  envelopesRejected: number;
  /** Envelopes refused for postage (not stored). */
  envelopesRefused: number;
  /** Envelopes peers offered that this node already had (not transferred). */
  envelopesSkipped: number;
}

interface PeerSyncSlot {
  peer: PeerId;
  running?: Promise<void>;
  again: boolean;
  /** Disconnected while a pull was running: forget the peer once it finishes. */
  gone: boolean;
}

export class CatchUp {
  readonly stats: CatchUpStats = {
    pulls: 0,
    failedPulls: 0,
    envelopesReceived: 0,
    envelopesRejected: 0,
    envelopesRefused: 0,
    envelopesSkipped: 0,
  };
  private readonly peers = new Map<string, PeerSyncSlot>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly failureWarning: ThrottledWarning;
  private readonly refusalWarning: ThrottledWarning;

  constructor(private readonly options: CatchUpOptions) {
    this.failureWarning = new ThrottledWarning(options.logger, "catch-up from peer failed");
    this.refusalWarning = new ThrottledWarning(options.logger, "peer sent an envelope refused for postage");
  }

  /**
   * The page's envelopes that pass postage, in order (a relationship learned from one is known to the next). A check
   * that could not run fails the page, so the position does not move past it and the next pull offers it again.
   */
  private async admitted(envelopes: StoredEnvelope[], peerKey: string): Promise<StoredEnvelope[]> {
    const admit = this.options.admit;
    if (!admit || !envelopes.some((e) => needsPostageCheck(e.contentTopic))) return envelopes;
    const kept: StoredEnvelope[] = [];
    for (const envelope of envelopes) {
      if (!needsPostageCheck(envelope.contentTopic)) {
        kept.push(envelope);
        continue;
      }
      const answer = await admit(envelope);
      if (answer.kind === "unchecked") throw new Error(`postage could not be checked: ${answer.reason}`);
      if (answer.kind === "accept") {
        kept.push(answer.envelope);
      } else {
        this.stats.envelopesRefused++;
        this.refusalWarning.warn({ peer: peerKey, reason: answer.reason });
      }
    }
    return kept;
  }

  start(): void {
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => {
        for (const slot of this.peers.values()) this.request(slot.peer);
      }, this.options.intervalMs);
      this.timer.unref();
    }
  }

  /** A peer that speaks the sync protocol connected (or reconnected): pull from it now. */
  peerAvailable(peer: PeerId): void {
    if (this.stopped) return;
    const key = peer.toString();
    const slot = this.peers.get(key);
    if (slot) slot.gone = false;
    else this.peers.set(key, { peer, again: false, gone: false });
    this.request(peer);
  }

  peerGone(peer: PeerId): void {
    const slot = this.peers.get(peer.toString());
    if (!slot) return;
    if (slot.running) slot.gone = true;
    else this.peers.delete(peer.toString());
  }

  /** Pulls from every known peer now and resolves when all those pulls have finished (for tests and tools). */
  async syncAll(): Promise<void> {
    for (const slot of this.peers.values()) this.request(slot.peer);
    await this.idle();
  }

  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.peers.values()].map((slot) => slot.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const slot of this.peers.values()) slot.again = false;
    await this.idle();
  }

  private request(peer: PeerId): void {
    if (this.stopped) return;
    const slot = this.peers.get(peer.toString());
    if (!slot) return;
    if (slot.running) {
      slot.again = true;
      return;
    }
    slot.running = (async () => {
      do {
        slot.again = false;
        await this.pull(slot.peer);
      } while (slot.again && !this.stopped);
      slot.running = undefined;
      if (slot.gone) this.peers.delete(slot.peer.toString());
    })();
  }

  private async pull(peer: PeerId): Promise<void> {
    const peerKey = peer.toString();
    const from = this.options.state.get(peerKey);
    const startedAt = performance.now();
    let received = 0;
    let skipped = 0;
    try {
      const stream = await this.options.openStream(peer);
      const reached = await pullFromPeer(stream, {
        afterSequence: from,
        pageSize: this.options.pageSize ?? DEFAULT_SYNC_PAGE_SIZE,
        pageTimeoutMs: this.options.pageTimeoutMs ?? 30_000,
        isKnown: (digest) => this.options.recent.has(digest),
        lookUp: this.options.hasDigests,
        onPage: async (page) => {
          this.stats.envelopesReceived += page.envelopes.length;
          this.stats.envelopesRejected += page.rejected;
          this.stats.envelopesSkipped += page.skipped;
          skipped += page.skipped;
          received += page.envelopes.length;
          if (page.rejected > 0) {
            this.options.logger.warn("peer sent invalid envelopes during sync", { peer: peerKey, count: page.rejected });
          }
          const admitted = await this.admitted(page.envelopes, peerKey);
          if (admitted.length > 0) {
            await this.options.sink.ingest(admitted, "peer");
            this.options.recent.addEnvelopes(admitted);
          }
          // Only after the page is committed, so a crash never skips envelopes.
          this.options.state.set(peerKey, page.nextSequence);
        },
      });
      this.stats.pulls++;
      await this.options.state.save();
      if (received > 0) {
        this.options.logger.info("caught up from peer", {
          peer: peerKey,
          received,
          skipped,
          fromSequence: String(from),
          toSequence: String(reached),
          durationMs: Math.round(performance.now() - startedAt),
        });
      }
    } catch (error) {
      this.stats.failedPulls++;
      if (!this.stopped) this.failureWarning.warn({ peer: peerKey, error: String(error) });
      await this.options.state.save().catch(() => {});
    }
  }
}
