// How envelopes are laid out in PostgreSQL rows, shared by the store and the commit follower.
import { asUint8Array } from "./driverBytes.js";
import type { StoredEnvelope } from "./EnvelopeStore.js";

// Postgres bigint is signed 64-bit; timestamps are uint64. Shifting by 2^63 keeps the order (as the SQLite store
// does), so ranges and ORDER BY work on the column directly.
const TIMESTAMP_OFFSET = 1n << 63n;
export const toColumn = (timestampNs: bigint) => (timestampNs - TIMESTAMP_OFFSET).toString();
export const fromColumn = (value: string) => BigInt(value) + TIMESTAMP_OFFSET;

/** An envelope row as node-postgres returns it (bigint columns as strings, bytea as Buffer). */
export interface EnvelopeRow {
  seq: string;
  digest: Buffer;
  topic?: string;
  timestamp_ns: string;
  message: Buffer;
}

export function toEnvelope(row: EnvelopeRow, topic: string): StoredEnvelope {
  return {
    contentTopic: topic,
    timestampNs: fromColumn(row.timestamp_ns),
    message: asUint8Array(row.message),
    digest: asUint8Array(row.digest),
  };
}
