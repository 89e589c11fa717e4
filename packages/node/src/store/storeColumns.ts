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

/**
 * The topics starting with `prefix` as a range of the (topic, timestamp_ns) index: `low` <= topic < `high` in binary
 * (UTF-8 byte, i.e. code point) order, `high` absent when no string bounds them (an empty prefix, or one ending in
 * U+10FFFF only). `high` is the prefix with its last code point incremented: a string is in the range exactly when it
 * starts with the prefix. Never a LIKE pattern, so nothing in a prefix is ever taken for a wildcard.
 */
export function topicPrefixRange(prefix: string): { low: string; high: string | undefined } {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last >= 0x10ffff) continue; // nothing follows it: bound by the previous code point instead
    // Surrogates are not characters (UTF-8 cannot encode them): the next code point after U+D7FF is U+E000.
    const next = last + 1 >= 0xd800 && last + 1 <= 0xdfff ? 0xe000 : last + 1;
    return { low: prefix, high: String.fromCodePoint(...points, next) };
  }
  return { low: prefix, high: undefined };
}

/**
 * The inclusive column bound of a retention rule's `olderThanNs` (timestamps strictly before it): the column of
 * `olderThanNs - 1`, capped at the largest timestamp; undefined when no timestamp is before it (0 or less).
 */
export function olderThanColumnBound<C>(olderThanNs: bigint, toColumn: (timestampNs: bigint) => C): C | undefined {
  if (olderThanNs <= 0n) return undefined;
  return toColumn(olderThanNs - 1n > MAX_TIMESTAMP_NS ? MAX_TIMESTAMP_NS : olderThanNs - 1n);
}

/** Checks a prune batch size (a positive integer) and a rule's keepNewest (a non-negative integer). */
export function checkPruneArguments(rule: { keepNewest?: number }, limit: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new RangeError(`prune limit must be a positive integer, got ${limit}`);
  if (rule.keepNewest !== undefined && (!Number.isSafeInteger(rule.keepNewest) || rule.keepNewest < 0)) {
    throw new RangeError(`retention keepNewest must be a non-negative integer, got ${rule.keepNewest}`);
  }
}
