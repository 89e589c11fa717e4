// Where `snapshot create` reads envelopes from: any EnvelopeStore through its catch-up reads (PostgreSQL, tests), or
// a SQLite database file opened read-only beside the node that keeps serving it (docs/storage.md §6).
import Database from "better-sqlite3";
import type { Envelope, EnvelopeStore } from "../store/EnvelopeStore.js";
import type { PostageLedger } from "../store/postageLedger.js";
import { digestKey } from "../store/digest.js";
import { asUint8Array } from "../store/driverBytes.js";
import { fromColumn } from "../store/sqliteRows.js";
import type { SnapshotStoreKind } from "./snapshotFormat.js";

export interface SnapshotPage {
  /** Ascending by sequence, each with its postage proof if the store keeps one. */
  envelopes: Envelope[];
  /** Pass as `afterSequence` for the next page. */
  nextSequence: bigint;
  /** Nothing is left at or below `upTo`. */
  done: boolean;
}

export interface SnapshotSource {
  readonly kind: SnapshotStoreKind;
  /** The highest sequence stored now (0 when empty) and how many envelopes are at or below it. */
  head(): Promise<{ sequence: bigint; count: number }>;
  /** Up to `limit` envelopes with afterSequence < sequence <= upTo, ascending. */
  readPage(afterSequence: bigint, upTo: bigint, limit: number): Promise<SnapshotPage>;
  close(): Promise<void>;
}

const HEAD_SCAN_PAGE = 10_000;

/**
 * A source over the store contract: the head by paging `readDigestsSince` (32 bytes and a length per envelope), the
 * envelopes by `readDigestsSince` + `readBySequence`, the proofs from the store's postage ledger. `close` closes the
 * store.
 */
export function storeSnapshotSource(store: EnvelopeStore & { postage?: PostageLedger }, kind: SnapshotStoreKind): SnapshotSource {
  return {
    kind,
    async head() {
      let sequence = 0n;
      let count = 0;
      for (;;) {
        const page = await store.readDigestsSince(sequence, HEAD_SCAN_PAGE);
        count += page.sequences.length;
        sequence = page.nextSequence;
        if (page.sequences.length < HEAD_SCAN_PAGE) return { sequence, count };
      }
    },
    async readPage(afterSequence, upTo, limit) {
      const page = await store.readDigestsSince(afterSequence, limit);
      let end = page.sequences.findIndex((s) => s > upTo);
      const done = end !== -1 || page.sequences.length < limit || page.nextSequence === upTo;
      if (end === -1) end = page.sequences.length;
      if (end === 0) return { envelopes: [], nextSequence: afterSequence, done: true };
      const stored = await store.readBySequence(page.sequences.slice(0, end));
      const proofs = store.postage && stored.length > 0 ? await store.postage.readProofs(stored.map((e) => e.digest)) : new Map<string, Uint8Array>();
      const envelopes = stored.map((e): Envelope => {
        const postage = proofs.get(digestKey(e.digest));
        return { contentTopic: e.contentTopic, timestampNs: e.timestampNs, message: e.message, ...(postage ? { postage } : {}) };
      });
      return { envelopes, nextSequence: page.sequences[end - 1], done };
    },
    close: () => store.close(),
  };
}

/**
 * A node's SQLite database opened read-only: one short read per page (WAL lets it read beside the node's writer and
 * never holds it up), no schema change, no checkpoint on close — the store's own open and close would do both.
 */
export function openSqliteSnapshotSource(path: string): SnapshotSource {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  const hasProofs = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'postage_proofs'").get() !== undefined;
  const maxSeq = db.prepare("SELECT max(seq) FROM envelopes").pluck().safeIntegers(true);
  const countUpTo = db.prepare("SELECT count(*) FROM envelopes WHERE seq <= ?").pluck().safeIntegers(true);
  const page = db
    .prepare(
      hasProofs
        ? `SELECT e.seq, e.topic, e.timestamp_ns, e.message, p.proof FROM envelopes e LEFT JOIN postage_proofs p ON p.digest = e.digest
           WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq LIMIT ?`
        : `SELECT seq, topic, timestamp_ns, message, NULL AS proof FROM envelopes WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    )
    .safeIntegers(true);
  type Row = { seq: bigint; topic: string; timestamp_ns: bigint; message: Buffer; proof: Buffer | null };
  return {
    kind: "sqlite",
    async head() {
      const sequence = (maxSeq.get() as bigint | null) ?? 0n;
      return { sequence, count: Number(countUpTo.get(sequence) as bigint) };
    },
    async readPage(afterSequence, upTo, limit) {
      const rows = page.all(afterSequence, upTo, limit) as Row[];
      const envelopes = rows.map((row): Envelope => {
        const envelope: Envelope = { contentTopic: row.topic, timestampNs: fromColumn(row.timestamp_ns), message: asUint8Array(row.message) };
        if (row.proof) envelope.postage = asUint8Array(row.proof);
        return envelope;
      });
      const nextSequence = rows.length > 0 ? rows[rows.length - 1].seq : afterSequence;
      return { envelopes, nextSequence, done: rows.length < limit || nextSequence === upTo };
    },
    async close() {
      db.close();
    },
  };
}
