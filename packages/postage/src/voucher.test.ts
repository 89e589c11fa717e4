import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { getAddress, getBytes, hexlify, Signature, TypedDataEncoder, Wallet } from "ethers";
import { fromHex, toHex } from "@xmtp-ts/crypto";
import {
  InvalidVoucherError,
  recoverVoucherSigner,
  signVoucher,
  VOUCHER_TYPES,
  voucherDomainSeparator,
  voucherStructHash,
  voucherTypedDataDomain,
  voucherTypedDataHash,
  VoucherSignatureError,
  type TypedDataSigner,
  type Voucher,
  type VoucherDomain,
} from "./voucher.js";

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const ethersTypes = { Voucher: VOUCHER_TYPES.Voucher.map((field) => ({ ...field })) };
const ethersValue = (v: Voucher) => ({ ...v, digest: hexlify(v.digest) });

/** The hash as ethers computes it: an implementation independent of ours. */
function ethersHash(voucher: Voucher, domain: VoucherDomain): string {
  return TypedDataEncoder.hash(voucherTypedDataDomain(domain), ethersTypes, ethersValue(voucher));
}

const hex = (bytes: Uint8Array) => "0x" + toHex(bytes);

const addressArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => getAddress(hex(bytes)));
const voucherArb = fc.record({
  payer: addressArb,
  operator: addressArb,
  cumulative: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.constantFrom(0n, 1n, (1n << 256n) - 1n)),
  digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
});
const domainArb = fc.record({
  chainId: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.constantFrom(1n, 31337n, 8453n)),
  vault: addressArb,
});

// Anvil's first dev account: a well-known key, so the vector below can be checked with any EIP-712 tool.
const KAT_WALLET = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const KAT_DOMAIN: VoucherDomain = { chainId: 31337n, vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const KAT_VOUCHER: Voucher = {
  payer: KAT_WALLET.address,
  operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  cumulative: 123456789000000000n,
  digest: fromHex("ab".repeat(32)),
};

describe("voucherTypedDataHash", () => {
  it("equals ethers' TypedDataEncoder.hash for random vouchers and domains", () => {
    fc.assert(
      fc.property(voucherArb, domainArb, (voucher, domain) => {
        expect(hex(voucherTypedDataHash(voucher, domain))).toBe(ethersHash(voucher, domain));
      }),
      { numRuns: 300 },
    );
  });

  it("matches the frozen known-answer vector", () => {
    // Computed once with ethers 6.17 TypedDataEncoder and Wallet.signTypedData (RFC 6979, so deterministic).
    expect(hex(voucherDomainSeparator(KAT_DOMAIN))).toBe(
      "0x4f1b7bb5e0d312af2ebc5fce0a08b1cfdf8c6e907d3d3dae4758411d395eb2f9",
    );
    expect(hex(voucherStructHash(KAT_VOUCHER))).toBe(
      "0x7a93cbdf1b218c2879b60adf4b0c78bcda9a40b180287227f2e720ea72787926",
    );
    expect(hex(voucherTypedDataHash(KAT_VOUCHER, KAT_DOMAIN))).toBe(
      "0xc774e39017e658b5aec9bc638373a8e8a6aef2030cf419bef2dc6ab8e71b4bcc",
    );
  });

  it("refuses fields it cannot encode, naming the field", () => {
    const bad = (change: Partial<Voucher>, domain: Partial<VoucherDomain> = {}) => () =>
      voucherTypedDataHash({ ...KAT_VOUCHER, ...change }, { ...KAT_DOMAIN, ...domain });
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidVoucherError);
        return (err as InvalidVoucherError).field;
      }
      return "accepted";
    };
    expect(field(bad({ payer: "0x1234" }))).toBe("payer");
    expect(field(bad({ operator: "alice.eth" }))).toBe("operator");
    expect(field(bad({ cumulative: -1n }))).toBe("cumulative");
    expect(field(bad({ cumulative: 1n << 256n }))).toBe("cumulative");
    expect(field(bad({ digest: new Uint8Array(31) }))).toBe("digest");
    expect(field(bad({}, { chainId: -5n }))).toBe("chainId");
    expect(field(bad({}, { vault: "0x" }))).toBe("vault");
    expect(field(bad({}))).toBe("accepted");
  });
});

describe("signVoucher and recoverVoucherSigner", () => {
  it("signs the frozen vector as ethers does and recovers the payer", async () => {
    const signature = await signVoucher(KAT_WALLET, KAT_VOUCHER, KAT_DOMAIN);
    expect(hex(signature)).toBe(
      "0x607552ce80b5958695505822f2c28c33c1422bca3434635f2147fe2b799471bb" +
        "396b2f18130842a87570efea98608f9f2efaefadbc5315a596bf4f5d01ae1ec5" +
        "1c",
    );
    expect(recoverVoucherSigner(KAT_VOUCHER, signature, KAT_DOMAIN)).toBe(KAT_WALLET.address);
  });

  it("recovers the payer of random vouchers signed by random wallets", async () => {
    await fc.assert(
      fc.asyncProperty(voucherArb, domainArb, async (voucher, domain) => {
        const wallet = Wallet.createRandom();
        const own = { ...voucher, payer: wallet.address };
        const signature = await signVoucher(wallet, own, domain);
        expect(signature.length).toBe(65);
        expect([27, 28]).toContain(signature[64]);
        expect(recoverVoucherSigner(own, signature, domain)).toBe(wallet.address);
      }),
      { numRuns: 40 },
    );
  });

  it("recovers another address from a voucher altered in any field", async () => {
    const signature = await signVoucher(KAT_WALLET, KAT_VOUCHER, KAT_DOMAIN);
    const digest = Uint8Array.from(KAT_VOUCHER.digest);
    digest[31] ^= 1;
    const altered: [Voucher, VoucherDomain][] = [
      [{ ...KAT_VOUCHER, payer: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" }, KAT_DOMAIN],
      [{ ...KAT_VOUCHER, operator: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" }, KAT_DOMAIN],
      [{ ...KAT_VOUCHER, cumulative: KAT_VOUCHER.cumulative + 1n }, KAT_DOMAIN],
      [{ ...KAT_VOUCHER, digest }, KAT_DOMAIN],
      [KAT_VOUCHER, { ...KAT_DOMAIN, chainId: 1n }],
      [KAT_VOUCHER, { ...KAT_DOMAIN, vault: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" }],
    ];
    for (const [voucher, domain] of altered) {
      let recovered: string | undefined;
      try {
        recovered = recoverVoucherSigner(voucher, signature, domain);
      } catch (err) {
        // Recovery from a hash the signature was not made over may find no key at all: also a refusal.
        expect(err).toBeInstanceOf(VoucherSignatureError);
        expect((err as VoucherSignatureError).fault).toBe("unrecoverable");
      }
      expect(recovered).not.toBe(KAT_WALLET.address);
    }
  });

  it("refuses the high-s twin, v outside 27/28, a wrong length and an unrecoverable r", async () => {
    const signature = await signVoucher(KAT_WALLET, KAT_VOUCHER, KAT_DOMAIN);
    const fault = (sig: Uint8Array) => {
      try {
        recoverVoucherSigner(KAT_VOUCHER, sig, KAT_DOMAIN);
      } catch (err) {
        expect(err).toBeInstanceOf(VoucherSignatureError);
        return (err as VoucherSignatureError).fault;
      }
      return "accepted";
    };

    // (r, n - s, v flipped) is the same signature mathematically; the vault accepts only the low-s form.
    const parsed = Signature.from(hexlify(signature));
    const twin = Uint8Array.from(signature);
    twin.set(getBytes("0x" + (SECP256K1_ORDER - BigInt(parsed.s)).toString(16).padStart(64, "0")), 32);
    twin[64] = signature[64] === 27 ? 28 : 27;
    expect(fault(twin)).toBe("high_s");

    for (const v of [0, 1, 29, 255]) {
      const sig = Uint8Array.from(signature);
      sig[64] = v;
      expect(fault(sig)).toBe("v");
    }
    expect(fault(signature.subarray(0, 64))).toBe("length");
    expect(fault(new Uint8Array([...signature, 0]))).toBe("length");
    const zeroR = Uint8Array.from(signature);
    zeroR.fill(0, 0, 32);
    expect(fault(zeroR)).toBe("unrecoverable");
    expect(fault(signature)).toBe("accepted");
  });

  it("brings a wallet's v 0/1 or high-s answer to the canonical form", async () => {
    const canonical = await signVoucher(KAT_WALLET, KAT_VOUCHER, KAT_DOMAIN);
    // Hardware and some browser wallets answer v as the bare recovery bit, or a high s.
    const rawRecoveryBit: TypedDataSigner = {
      async signTypedData(domain, types, value) {
        const sig = getBytes(await KAT_WALLET.signTypedData(domain, types, value));
        sig[64] -= 27;
        return hexlify(sig);
      },
    };
    const highS: TypedDataSigner = {
      async signTypedData(domain, types, value) {
        const sig = Signature.from(await KAT_WALLET.signTypedData(domain, types, value));
        const s = (SECP256K1_ORDER - BigInt(sig.s)).toString(16).padStart(64, "0");
        return sig.r + s + (sig.v === 27 ? "1c" : "1b");
      },
    };
    expect(hex(await signVoucher(rawRecoveryBit, KAT_VOUCHER, KAT_DOMAIN))).toBe(hex(canonical));
    expect(hex(await signVoucher(highS, KAT_VOUCHER, KAT_DOMAIN))).toBe(hex(canonical));
  });

  it("refuses to sign a voucher whose payer is not the signing wallet", async () => {
    const other = Wallet.createRandom();
    const err = await signVoucher(other, KAT_VOUCHER, KAT_DOMAIN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoucherSignatureError);
    expect((err as VoucherSignatureError).fault).toBe("not_payer");
    expect((err as VoucherSignatureError).details.signer).toBe(other.address);
  });
});
