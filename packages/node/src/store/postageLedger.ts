// What a node keeps for postage (docs/postage.md), beside its envelopes and in the same database: the proofs that came
// with envelopes, the relationships it learned and the vouchers it accepted for its operator
// (docs/postage.md §3.4, §3.6). Both stores implement it and pass one conformance suite (postageLedgerConformance.ts).
import { asUint8Array } from "./driverBytes.js";

/** The latest voucher a payer gave this node's operator, and how much of it is already redeemed on chain. */
export interface AcceptedVoucher {
  /** Lower-case 0x addresses. */
  operator: string;
  payer: string;
  /** Wei owed in total, this voucher included. */
  cumulative: bigint;
  /** The digest of the envelope the voucher paid for. */
  digest: Uint8Array;
  /** The payer's 65-byte EIP-712 signature. */
  signature: Uint8Array;
  acceptedAtNs: bigint;
  /** The cumulative amount last redeemed on chain (0 before the first redemption). */
  redeemed: bigint;
}

export type NewVoucher = Omit<AcceptedVoucher, "redeemed" | "acceptedAtNs">;

export type VoucherAcceptance =
  /** `retry`: the very voucher already accepted (same cumulative, same envelope): a publish sent again, not paid twice. */
  | { accepted: true; retry: boolean }
  | { accepted: false; lastCumulative: bigint };

export interface Relationship {
  /** Lower-case 0x addresses: `inviter` contacted `invitee` first. */
  inviter: string;
  invitee: string;
  atNs: bigint;
}

export interface PostageLedger {
  /** The proofs stored with these envelopes (appended with `postage`), keyed by the digest in hex. */
  readProofs(digests: readonly Uint8Array[]): Promise<Map<string, Uint8Array>>;
  /** Records relationships; one already known keeps its first time. */
  recordRelationships(relationships: readonly Relationship[]): Promise<void>;
  hasRelationship(inviter: string, invitee: string): Promise<boolean>;
  /**
   * Accepts `voucher` as the payer's latest for its operator when its cumulative exceeds the last accepted one by at
   * least `minIncrease` (any amount ≥ `minIncrease` when there is none), atomically: two concurrent vouchers of one
   * payer, even on two node processes sharing the database, cannot both be accepted on the same previous one.
   */
  acceptVoucher(voucher: NewVoucher, minIncrease: bigint, nowNs: bigint): Promise<VoucherAcceptance>;
  lastVoucher(operator: string, payer: string): Promise<AcceptedVoucher | undefined>;
  /** The latest voucher of every payer of `operator` whose cumulative is above what was redeemed. */
  unredeemedVouchers(operator: string): Promise<AcceptedVoucher[]>;
  /** Records that `cumulative` was redeemed on chain (never lowers what is recorded). */
  markRedeemed(operator: string, payer: string, cumulative: bigint): Promise<void>;
}

/** A row of the postage_vouchers table as both drivers return it (amounts as decimal strings, bytes as Buffers). */
export interface VoucherRow {
  operator: string;
  payer: string;
  cumulative: string;
  digest: Buffer;
  signature: Buffer;
  accepted_at_ns: string;
  redeemed: string;
}

export const voucherFromRow = (row: VoucherRow): AcceptedVoucher => ({
  operator: row.operator,
  payer: row.payer,
  cumulative: BigInt(row.cumulative),
  digest: asUint8Array(row.digest),
  signature: asUint8Array(row.signature),
  acceptedAtNs: BigInt(row.accepted_at_ns),
  redeemed: BigInt(row.redeemed),
});

/**
 * The verdict on `voucher` given the payer's last accepted voucher (both stores decide with this, inside their own
 * lock): "store" when it exceeds the last by at least `minIncrease` (any amount ≥ `minIncrease` for a first one); a
 * retry when it is the very voucher already accepted; otherwise a refusal naming the last cumulative.
 */
export function judgeVoucher(
  last: { cumulative: bigint; digest: Uint8Array } | undefined,
  voucher: NewVoucher,
  minIncrease: bigint,
): VoucherAcceptance | "store" {
  const lastCumulative = last?.cumulative ?? 0n;
  if (last && lastCumulative === voucher.cumulative && Buffer.compare(last.digest, voucher.digest) === 0) {
    return { accepted: true, retry: true };
  }
  if (voucher.cumulative < lastCumulative + minIncrease) return { accepted: false, lastCumulative };
  return "store";
}

/** Addresses are kept in one case so that lookups match whatever case a caller has. */
export const ledgerAddress = (address: string): string => address.toLowerCase();
