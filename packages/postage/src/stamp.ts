// docs/postage.md §3.6: the checks on a postage stamp that need nothing but the envelope and the node's terms. A
// stamp is an EIP-712 voucher signed by the payer's wallet over this envelope's digest, this network's chain and
// vault, and an operator; whether the payer has deposited enough and whether `cumulative` advances past the
// payer's last voucher is the accepting node's business, against its own state.
import { toChecksumAddress } from "@xmtp-ts/crypto";
import type { postage } from "@xmtp-ts/proto";
import { isEip55Address } from "./addresses.js";
import { decodeCumulative, InvalidCumulativeError } from "./cumulative.js";
import { recoverVoucherSigner, VoucherSignatureError } from "./voucher.js";

/** A stamp whose signature is the payer's over this envelope and network: what the node then settles. */
export interface VerifiedStamp {
  payer: string;
  operator: string;
  cumulative: bigint;
  /** The envelope digest the voucher is bound to. */
  digest: Uint8Array;
  /** The voucher signature as carried, for redemption. */
  signature: Uint8Array;
}

export interface StampContext {
  /** This envelope's digest. */
  digest: Uint8Array;
  chainId: bigint;
  vault: string;
  /**
   * The operator a stamp must name: this node's own at an accepting door; undefined when relaying (only the
   * named operator can redeem, so a relayed stamp may name any).
   */
  operator?: string;
  acceptingDoor: boolean;
}

export type StampRefusalCode = "stamp_malformed" | "stamp_zero" | "stamp_wrong_operator" | "stamp_not_payer";

export type StampCheck = { ok: true; stamp: VerifiedStamp } | { ok: false; code: StampRefusalCode; reason: string };

function refuse(code: StampRefusalCode, reason: string): StampCheck {
  return { ok: false, code, reason };
}

/** Checks a stamp's form, amount, operator (at an accepting door) and signature; cheap checks first. */
export function verifyStamp(stamp: postage.PostageStamp, context: StampContext): StampCheck {
  for (const field of ["payer", "operator"] as const) {
    if (!isEip55Address(stamp[field])) {
      return refuse("stamp_malformed", `stamp ${field} ${JSON.stringify(stamp[field].slice(0, 60))} is not an EIP-55 address`);
    }
  }
  let cumulative: bigint;
  try {
    cumulative = decodeCumulative(stamp.cumulative);
  } catch (err) {
    if (!(err instanceof InvalidCumulativeError)) throw err;
    return refuse("stamp_malformed", err.message);
  }
  if (cumulative === 0n) return refuse("stamp_zero", "stamp cumulative is 0: a stamp must owe something");
  if (context.acceptingDoor) {
    if (context.operator === undefined) {
      return refuse("stamp_wrong_operator", "this node has no operator address and cannot accept stamps");
    }
    const operator = toChecksumAddress(context.operator);
    if (stamp.operator !== operator) {
      return refuse("stamp_wrong_operator", `stamp pays operator ${stamp.operator}, not this node's operator ${operator}`);
    }
  }
  const vault = toChecksumAddress(context.vault);
  const voucher = { payer: stamp.payer, operator: stamp.operator, cumulative, digest: context.digest };
  let signer: string;
  try {
    signer = recoverVoucherSigner(voucher, stamp.signature, { chainId: context.chainId, vault });
  } catch (err) {
    if (!(err instanceof VoucherSignatureError)) throw err;
    return refuse("stamp_malformed", `stamp signature is malformed: ${err.message}`);
  }
  if (signer !== stamp.payer) {
    return refuse(
      "stamp_not_payer",
      `stamp signature is not the payer's: it is not ${stamp.payer}'s voucher for this envelope on vault ${vault}, chain ${context.chainId}`,
    );
  }
  return {
    ok: true,
    stamp: { payer: stamp.payer, operator: stamp.operator, cumulative, digest: context.digest, signature: stamp.signature },
  };
}
