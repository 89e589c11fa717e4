// An in-memory stand-in for the node's store and ingest, for unit tests of the relay and sync modules.
import { toHex } from "@xmtp-ts/crypto";
import type { DigestPage, Envelope, EnvelopeStore, PruneResult, RetentionRule, StoredEnvelope } from "../../store/EnvelopeStore.js";
import { envelopeDigest } from "../../store/digest.js";
import { isEphemeralTopic } from "../../ingest.js";

export function envelopeDigestOf(envelope: Envelope): Uint8Array {
  return envelopeDigest(envelope.contentTopic, envelope.message);
}

export class MemoryStore implements EnvelopeStore {
  readonly rows: { sequence: bigint; envelope: StoredEnvelope }[] = [];
  private readonly digests = new Set<string>();
  /** Sequences are never reused, also after prune() deleted the last rows. */
  private lastSequence = 0n;

  async append(envelopes: StoredEnvelope[]): Promise<StoredEnvelope[]> {
    const added: StoredEnvelope[] = [];
    for (const envelope of envelopes) {
      const key = toHex(envelope.digest);
      if (this.digests.has(key)) continue;
      this.digests.add(key);
      this.rows.push({ sequence: ++this.lastSequence, envelope });
      added.push(envelope);
    }
    return added;
  }

  async query(): Promise<never> {
    throw new Error("MemoryStore does not answer queries");
  }

  /** Appends are complete when they resolve. */
  async flushCommitted(): Promise<void> {}

  async readDigestsSince(afterSequence: bigint, limit: number): Promise<DigestPage> {
    const rows = this.rows.filter((row) => row.sequence > afterSequence).slice(0, limit);
    return {
      sequences: rows.map((row) => row.sequence),
      digests: rows.map((row) => row.envelope.digest),
      messageBytes: rows.map((row) => row.envelope.message.byteLength),
      nextSequence: rows.length > 0 ? rows[rows.length - 1].sequence : afterSequence,
    };
  }

  async hasDigests(digests: readonly Uint8Array[]): Promise<boolean[]> {
    return digests.map((digest) => this.digests.has(toHex(digest)));
  }

  async readBySequence(sequences: readonly bigint[]): Promise<StoredEnvelope[]> {
    return sequences.flatMap((sequence) => this.rows.filter((row) => row.sequence === sequence).map((row) => row.envelope));
  }

  /** The rows `rule` selects, oldest arrival first (as the real stores define it; no batching cost to model). */
  private prunable(rule: RetentionRule): { sequence: bigint; envelope: StoredEnvelope }[] {
    const inClass = this.rows.filter((row) => row.envelope.contentTopic.startsWith(rule.topicPrefix));
    if (rule.olderThanNs !== undefined) return inClass.filter((row) => row.envelope.timestampNs < rule.olderThanNs);
    const byTopic = new Map<string, { sequence: bigint; envelope: StoredEnvelope }[]>();
    for (const row of inClass) {
      const list = byTopic.get(row.envelope.contentTopic) ?? [];
      list.push(row);
      byTopic.set(row.envelope.contentTopic, list);
    }
    const doomed = new Set<bigint>();
    for (const list of byTopic.values()) {
      // Newest first: highest timestamp, then latest arrival.
      list.sort((a, b) =>
        a.envelope.timestampNs !== b.envelope.timestampNs
          ? a.envelope.timestampNs > b.envelope.timestampNs ? -1 : 1
          : a.sequence > b.sequence ? -1 : 1,
      );
      for (const row of list.slice(rule.keepNewest)) doomed.add(row.sequence);
    }
    return inClass.filter((row) => doomed.has(row.sequence));
  }

  async prune(rule: RetentionRule, limit: number): Promise<PruneResult> {
    const doomed = new Set(this.prunable(rule).slice(0, limit).map((row) => row.sequence));
    let messageBytes = 0;
    for (let i = this.rows.length - 1; i >= 0; i--) {
      const row = this.rows[i];
      if (!doomed.has(row.sequence)) continue;
      this.rows.splice(i, 1);
      this.digests.delete(toHex(row.envelope.digest));
      messageBytes += row.envelope.message.byteLength;
    }
    return { envelopes: doomed.size, messageBytes };
  }

  async countPrunable(rule: RetentionRule): Promise<PruneResult> {
    const rows = this.prunable(rule);
    return { envelopes: rows.length, messageBytes: rows.reduce((sum, row) => sum + row.envelope.message.byteLength, 0) };
  }

  async close(): Promise<void> {}
}

/**
 * Mirrors the node's ingest: store what is not ephemeral (once), and report what was new to listeners. Like the node's
 * ingest it takes the digest an envelope already carries (relay and catch-up compute it when they validate), but
 * checks it, so a wrong one fails the ingest instead of being stored.
 */
export class MemoryIngest {
  readonly delivered: Envelope[] = [];
  /** Envelopes that arrived carrying their digest. */
  carriedDigests = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly store: MemoryStore) {}

  async ingest(envelopes: readonly (Envelope | StoredEnvelope)[], _origin: "local" | "peer"): Promise<StoredEnvelope[]> {
    const stored = envelopes.filter((e) => !isEphemeralTopic(e.contentTopic)).map((e) => {
      const digest = envelopeDigestOf(e);
      if ("digest" in e) {
        if (toHex(e.digest) !== toHex(digest)) throw new Error(`envelope carries a wrong digest ${toHex(e.digest)}`);
        this.carriedDigests++;
      }
      return { ...e, digest };
    });
    const added = await this.store.append(stored);
    this.delivered.push(...added, ...envelopes.filter((e) => isEphemeralTopic(e.contentTopic)));
    for (const wake of this.waiters.splice(0)) wake();
    return added;
  }

  /** Resolves once `predicate` holds for the delivered envelopes (re-checked after every ingest). */
  async until(predicate: (delivered: Envelope[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.delivered)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}; delivered ${this.delivered.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
