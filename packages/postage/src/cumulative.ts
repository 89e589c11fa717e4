// A stamp's `cumulative` (docs/postage.md §3.6): the total wei a payer owes an operator, as the uint256 of the
// EIP-712 voucher, carried big-endian in at most 32 bytes. Only the minimal encoding is accepted (no leading zero
// byte; zero is the empty string): the voucher signature covers the number, not its bytes, so allowing padding
// would let anyone re-encode a stamp into different proof bytes that still verify.
import { fromHex, toHex } from "@xmtp-ts/crypto";

export const MAX_CUMULATIVE_BYTES = 32;
const UINT256_LIMIT = 1n << 256n;

export class InvalidCumulativeError extends Error {
  readonly code = "invalid_cumulative";
  constructor(readonly reason: string) {
    super(`stamp cumulative: ${reason}`);
    this.name = "InvalidCumulativeError";
  }
}

/** The minimal big-endian bytes of a uint256 (empty for zero). */
export function encodeCumulative(value: bigint): Uint8Array {
  if (value < 0n || value >= UINT256_LIMIT) throw new InvalidCumulativeError(`${value} is not a uint256`);
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return fromHex(hex.length % 2 === 0 ? hex : "0" + hex);
}

/** The uint256 of minimal big-endian bytes; longer than 32 bytes or with a leading zero byte is an error. */
export function decodeCumulative(bytes: Uint8Array): bigint {
  if (bytes.length > MAX_CUMULATIVE_BYTES) {
    throw new InvalidCumulativeError(`${bytes.length} bytes is more than the ${MAX_CUMULATIVE_BYTES} of a uint256`);
  }
  if (bytes.length === 0) return 0n;
  if (bytes[0] === 0) throw new InvalidCumulativeError("leading zero byte (the encoding must be minimal)");
  return BigInt("0x" + toHex(bytes));
}
