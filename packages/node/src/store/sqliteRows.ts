// How envelopes are laid out in SQLite rows (better-sqlite3 with safeIntegers: integer columns as bigint).
import type { StoredEnvelope } from "./EnvelopeStore.js";
import { TIMESTAMP_OFFSET, envelopeOfRow } from "./storeColumns.js";

// timestamp_ns holds timestamp - 2^63 (storeColumns.ts).
export const toColumn = (timestampNs: bigint) => timestampNs - TIMESTAMP_OFFSET;
export const fromColumn = (value: bigint) => value + TIMESTAMP_OFFSET;

/** An envelope row as better-sqlite3 returns it with safeIntegers (integers as bigint, blobs as Buffer). */
export interface EnvelopeRow {
  seq: bigint;
  digest: Buffer;
  topic?: string;
  timestamp_ns: bigint;
  message: Buffer;
}

export function toEnvelope(row: EnvelopeRow, topic: string): StoredEnvelope {
  return envelopeOfRow(row, topic, fromColumn(row.timestamp_ns));
}
