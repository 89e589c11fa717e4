// An in-memory stand-in for the node's store and ingest, for unit tests of the relay and sync modules.
import { toHex } from "@xmtp-ts/crypto";
import type { DigestPage, Envelope, EnvelopeStore, StoredEnvelope } from "../../store/EnvelopeStore.js";
import { envelopeDigest } from "../../store/digest.js";
import { isEphemeralTopic } from "../../ingest.js";

export function envelopeDigestOf(envelope: Envelope): Uint8Array {
  return envelopeDigest(envelope.contentTopic, envelope.message);
}

export class MemoryStore implements EnvelopeStore {
  readonly rows: { sequence: bigint; envelope: StoredEnvelope }[] = [];
  private readonly digests = new Set<string>();

  async append(envelopes: StoredEnvelope[]): Promise<StoredEnvelope[]> {
    const added: StoredEnvelope[] = [];
    for (const envelope of envelopes) {
      const key = toHex(envelope.digest);
      if (this.digests.has(key)) continue;
      this.digests.add(key);
      this.rows.push({ sequence: BigInt(this.rows.length + 1), envelope });
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

  async readBySequence(sequences: readonly bigint[]): Promise<StoredEnvelope[]> {
    return sequences.flatMap((sequence) => this.rows.filter((row) => row.sequence === sequence).map((row) => row.envelope));
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
