// What the SQLite and PostgreSQL stores share about their envelope columns. Each converts with its driver's types
// (SQLite bigint, node-postgres strings); the mapping and the bounds are the same.
import { asUint8Array } from "./driverBytes.js";
import type { StoredEnvelope } from "./EnvelopeStore.js";

/**
 * Both databases have signed 64-bit integers; timestamps are uint64. A column holds timestamp - 2^63, which maps
 * [0, 2^64) onto the signed range and keeps the order, so ranges and ORDER BY work on the column directly.
 */
export const TIMESTAMP_OFFSET = 1n << 63n;
const MAX_TIMESTAMP_NS = (1n << 64n) - 1n;

// Sequence bounds that no row reaches, for "no cursor" and "cursor envelope unknown".
export const BEFORE_ALL_SEQ = -1n;
export const AFTER_ALL_SEQ = (1n << 63n) - 1n;

/** The timestamp column range of a query: its start and end times, or every timestamp where it has none. */
export function timestampColumnRange<C>(
  query: { startTimeNs?: bigint; endTimeNs?: bigint },
  toColumn: (timestampNs: bigint) => C,
): { low: C; high: C } {
  return { low: toColumn(query.startTimeNs ?? 0n), high: toColumn(query.endTimeNs ?? MAX_TIMESTAMP_NS) };
}

/** An envelope from a row's digest and message, with its topic and timestamp (already converted from the column). */
export function envelopeOfRow(row: { digest: Buffer; message: Buffer }, topic: string, timestampNs: bigint): StoredEnvelope {
  return { contentTopic: topic, timestampNs, message: asUint8Array(row.message), digest: asUint8Array(row.digest) };
}
