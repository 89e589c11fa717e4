// A record's `order` is a signed 64-bit integer: SQLite stores it as its native INTEGER, IndexedDB as 8 big-endian
// bytes with the sign bit flipped (binary keys compare byte by byte, so that keeps the numeric order). Nanosecond
// timestamps, the common use, fit until the year 2262.

export const MIN_ORDER = -(1n << 63n);
export const MAX_ORDER = (1n << 63n) - 1n;

/** The order of a put, checked: 0n when absent. */
export function checkOrder(order: unknown): bigint {
  if (order === undefined) return 0n;
  if (typeof order !== "bigint") throw new TypeError(`a record's order must be a bigint (got ${typeof order})`);
  if (order < MIN_ORDER || order > MAX_ORDER) {
    throw new RangeError(`a record's order must be a signed 64-bit integer (got ${order})`);
  }
  return order;
}

export interface OrderRange {
  from: bigint;
  to: bigint;
}

/** The inclusive range of a list, clamped to the orders that exist; undefined when it holds no order at all. */
export function orderRange(from: unknown, to: unknown): OrderRange | undefined {
  for (const [name, bound] of [["from", from], ["to", to]] as const) {
    if (bound !== undefined && typeof bound !== "bigint") throw new TypeError(`list option ${name} must be a bigint`);
  }
  const low = (from as bigint | undefined) ?? MIN_ORDER;
  const high = (to as bigint | undefined) ?? MAX_ORDER;
  if (low > high || low > MAX_ORDER || high < MIN_ORDER) return undefined;
  return { from: low < MIN_ORDER ? MIN_ORDER : low, to: high > MAX_ORDER ? MAX_ORDER : high };
}

/** 8 bytes that sort like the order: big-endian with the sign bit flipped. */
export function orderToBytes(order: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, order);
  bytes[0] ^= 0x80;
  return bytes;
}

export function orderFromBytes(bytes: Uint8Array): bigint {
  const copy = bytes.slice(0, 8);
  copy[0] ^= 0x80;
  return new DataView(copy.buffer).getBigInt64(0);
}
