// The EIP-712 voucher of a postage stamp (docs/postage.md §3.6): its hash written out by hand, so that nodes verify
// stamps without ethers on their hot path, and signing through ethers' signTypedData, so that any wallet can sign.
// PostageVault.sol computes the same hash; voucher.test.ts holds both against ethers' TypedDataEncoder.

import {
  concatBytes,
  fromHex,
  InvalidSignatureError,
  isAddress,
  keccak256,
  publicKeyToAddress,
  recoverPublicKey,
  toChecksumAddress,
  toHex,
  utf8ToBytes,
} from "@xmtp-ts/crypto";

export interface Voucher {
  /** The wallet that signs and pays. */
  payer: string;
  /** The operator address of the node that accepted the envelope; only it can redeem. */
  operator: string;
  /** Total wei the payer owes this operator so far, this envelope included. */
  cumulative: bigint;
  /** The envelope digest, sha256(utf8(content_topic) ‖ message): 32 bytes. */
  digest: Uint8Array;
}

/** The postage network a voucher is bound to: the chain and the vault contract on it. */
export interface VoucherDomain {
  chainId: bigint;
  vault: string;
}

export const VOUCHER_DOMAIN_NAME = "XMTP Postage";
export const VOUCHER_DOMAIN_VERSION = "1";

/** The EIP-712 types of a voucher in the shape ethers' signTypedData and TypedDataEncoder take. */
export const VOUCHER_TYPES = {
  Voucher: [
    { name: "payer", type: "address" },
    { name: "operator", type: "address" },
    { name: "cumulative", type: "uint256" },
    { name: "digest", type: "bytes32" },
  ],
} as const;

const DOMAIN_TYPEHASH = keccak256(
  utf8ToBytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);
const VOUCHER_TYPEHASH = keccak256(
  utf8ToBytes("Voucher(address payer,address operator,uint256 cumulative,bytes32 digest)"),
);
const NAME_HASH = keccak256(utf8ToBytes(VOUCHER_DOMAIN_NAME));
const VERSION_HASH = keccak256(utf8ToBytes(VOUCHER_DOMAIN_VERSION));

const UINT256_LIMIT = 1n << 256n;
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SECP256K1_HALF_ORDER = SECP256K1_ORDER >> 1n;

/** A voucher or domain field that cannot be encoded (not an address, out of the uint256 range, wrong length). */
export class InvalidVoucherError extends TypeError {
  constructor(
    readonly field: "payer" | "operator" | "cumulative" | "digest" | "chainId" | "vault",
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid voucher ${field}: ${reason}`);
    this.name = "InvalidVoucherError";
  }
}

export type VoucherSignatureFault = "length" | "v" | "high_s" | "unrecoverable" | "not_payer";

/**
 * A voucher signature the vault would refuse. `fault` names the rule it breaks; the fields that apply are set:
 * `length` (bytes received), `v`, `s` (hex), `signer` (who did sign, for "not_payer").
 */
export class VoucherSignatureError extends Error {
  constructor(
    readonly fault: VoucherSignatureFault,
    message: string,
    readonly details: { length?: number; v?: number; s?: string; signer?: string; payer?: string } = {},
  ) {
    super(message);
    this.name = "VoucherSignatureError";
  }
}

function addressWord(field: "payer" | "operator" | "vault", address: string): Uint8Array {
  if (!isAddress(address)) throw new InvalidVoucherError(field, address, "not a 20-byte hex address");
  const word = new Uint8Array(32);
  word.set(fromHex(address), 12);
  return word;
}

function uint256Word(field: "cumulative" | "chainId", value: bigint): Uint8Array {
  if (typeof value !== "bigint" || value < 0n || value >= UINT256_LIMIT) {
    throw new InvalidVoucherError(field, value, "must be a bigint in [0, 2^256)");
  }
  return fromHex(value.toString(16).padStart(64, "0"));
}

/** keccak256 of the EIP-712 domain: name "XMTP Postage", version "1", the chain id and the vault. */
export function voucherDomainSeparator(domain: VoucherDomain): Uint8Array {
  return keccak256(
    concatBytes(
      DOMAIN_TYPEHASH,
      NAME_HASH,
      VERSION_HASH,
      uint256Word("chainId", domain.chainId),
      addressWord("vault", domain.vault),
    ),
  );
}

/** EIP-712 hashStruct of a voucher. */
export function voucherStructHash(voucher: Voucher): Uint8Array {
  if (!(voucher.digest instanceof Uint8Array) || voucher.digest.length !== 32) {
    throw new InvalidVoucherError("digest", voucher.digest, "must be 32 bytes");
  }
  return keccak256(
    concatBytes(
      VOUCHER_TYPEHASH,
      addressWord("payer", voucher.payer),
      addressWord("operator", voucher.operator),
      uint256Word("cumulative", voucher.cumulative),
      voucher.digest,
    ),
  );
}

/** The 32 bytes a voucher signature signs: keccak256(0x19 0x01 ‖ domain separator ‖ struct hash). */
export function voucherTypedDataHash(voucher: Voucher, domain: VoucherDomain): Uint8Array {
  return keccak256(concatBytes(Uint8Array.of(0x19, 0x01), voucherDomainSeparator(domain), voucherStructHash(voucher)));
}

/** The domain in the shape ethers' signTypedData takes. */
export function voucherTypedDataDomain(domain: VoucherDomain): {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
} {
  return {
    name: VOUCHER_DOMAIN_NAME,
    version: VOUCHER_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.vault,
  };
}

/** Anything that signs EIP-712 data as ethers' Signer does: a Wallet, a JsonRpcSigner, a browser wallet. */
export interface TypedDataSigner {
  signTypedData(
    domain: ReturnType<typeof voucherTypedDataDomain>,
    types: { Voucher: { name: string; type: string }[] },
    value: Record<string, unknown>,
  ): Promise<string>;
}

/**
 * Signs a voucher with the payer's wallet and returns the 65-byte r ‖ s ‖ v the vault accepts. Wallets that answer
 * v = 0/1 or a high s are brought to the canonical form (the same signature); a signature by any other account
 * than `voucher.payer` is refused here rather than by the node or the chain later.
 */
export async function signVoucher(
  signer: TypedDataSigner,
  voucher: Voucher,
  domain: VoucherDomain,
): Promise<Uint8Array> {
  const answer = await signer.signTypedData(
    voucherTypedDataDomain(domain),
    { Voucher: VOUCHER_TYPES.Voucher.map((field) => ({ ...field })) },
    {
      payer: voucher.payer,
      operator: voucher.operator,
      cumulative: voucher.cumulative,
      digest: "0x" + toHex(voucher.digest),
    },
  );
  const signature = canonicalSignature(fromHex(answer));
  // Recovering against our own hash also proves the wallet signed what the vault will hash.
  const recovered = recoverVoucherSigner(voucher, signature, domain);
  if (recovered !== toChecksumAddress(voucher.payer)) {
    throw new VoucherSignatureError("not_payer", `voucher signed by ${recovered}, not by its payer ${voucher.payer}`, {
      signer: recovered,
      payer: voucher.payer,
    });
  }
  return signature;
}

/** v 0/1 → 27/28 and a high s → n - s with v flipped: the same signature in the only form the vault accepts. */
function canonicalSignature(signature: Uint8Array): Uint8Array {
  if (signature.length !== 65) {
    throw new VoucherSignatureError("length", `a voucher signature is 65 bytes, the wallet gave ${signature.length}`, {
      length: signature.length,
    });
  }
  const out = Uint8Array.from(signature);
  if (out[64] === 0 || out[64] === 1) out[64] += 27;
  const s = BigInt("0x" + toHex(out.subarray(32, 64)));
  if (s > SECP256K1_HALF_ORDER) {
    out.set(fromHex((SECP256K1_ORDER - s).toString(16).padStart(64, "0")), 32);
    if (out[64] === 27 || out[64] === 28) out[64] = out[64] === 27 ? 28 : 27;
  }
  return out;
}

/**
 * The EIP-55 address that signed `voucher` for `domain`, with the vault's rules: 65 bytes, v 27 or 28, s in the
 * lower half of the order. Throws VoucherSignatureError otherwise. A signature over another voucher or domain
 * recovers some other address: compare the result with `voucher.payer`.
 */
export function recoverVoucherSigner(voucher: Voucher, signature: Uint8Array, domain: VoucherDomain): string {
  if (signature.length !== 65) {
    throw new VoucherSignatureError("length", `a voucher signature is 65 bytes, got ${signature.length}`, {
      length: signature.length,
    });
  }
  const v = signature[64];
  if (v !== 27 && v !== 28) {
    throw new VoucherSignatureError("v", `voucher signature v must be 27 or 28, got ${v}`, { v });
  }
  const sHex = toHex(signature.subarray(32, 64));
  if (BigInt("0x" + sHex) > SECP256K1_HALF_ORDER) {
    throw new VoucherSignatureError("high_s", "voucher signature s is in the upper half of the curve order", {
      s: "0x" + sHex,
    });
  }
  try {
    const publicKey = recoverPublicKey(voucherTypedDataHash(voucher, domain), {
      bytes: signature.subarray(0, 64),
      recovery: v - 27,
    });
    return publicKeyToAddress(publicKey);
  } catch (err) {
    if (!(err instanceof InvalidSignatureError)) throw err;
    throw new VoucherSignatureError(
      "unrecoverable",
      `no public key recovers from the voucher signature: ${err.message}`,
    );
  }
}
