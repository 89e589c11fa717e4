// How envelopes are laid out in PostgreSQL rows, shared by the store and the commit follower.
import type { StoredEnvelope } from "./EnvelopeStore.js";
import { TIMESTAMP_OFFSET, envelopeOfRow } from "./storeColumns.js";

// timestamp_ns holds timestamp - 2^63 (storeColumns.ts), as a string like every bigint node-postgres exchanges.
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
  return envelopeOfRow(row, topic, fromColumn(row.timestamp_ns));
}
