import { beforeAll, describe, expect, it } from "vitest";
import { hexlify, randomBytes, Wallet } from "ethers";
import { fromHex, toHex } from "@xmtp-ts/crypto";
import { clone, postage } from "@xmtp-ts/proto";
import { encodeCumulative } from "./cumulative.js";
import { makePostageStamp } from "./proof.js";
import { verifyStamp, type StampContext, type StampRefusalCode } from "./stamp.js";
import { signVoucher } from "./voucher.js";

const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OTHER_VAULT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const CHAIN = 31337n;
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function expectRefused(stamp: postage.PostageStamp, context: StampContext, code: StampRefusalCode, reason: RegExp) {
  const check = verifyStamp(stamp, context);
  expect(check).toMatchObject({ ok: false, code });
  if (!check.ok) expect(check.reason).toMatch(reason);
}

describe("postage stamp (docs/postage.md §3.6)", () => {
  const payer = new Wallet(hexlify(randomBytes(32)));
  const mallory = new Wallet(hexlify(randomBytes(32)));
  const operator = new Wallet(hexlify(randomBytes(32))).address;
  const otherOperator = new Wallet(hexlify(randomBytes(32))).address;
  const digest = randomBytes(32);
  const atDoor: StampContext = { digest, chainId: CHAIN, vault: VAULT, operator, acceptingDoor: true };
  const relaying: StampContext = { digest, chainId: CHAIN, vault: VAULT, acceptingDoor: false };
  let stamp: postage.PostageStamp;

  async function signed(by: Wallet, fields: { payer?: string; operator?: string; cumulative?: bigint; digest?: Uint8Array; chainId?: bigint; vault?: string } = {}) {
    const voucher = { payer: fields.payer ?? by.address, operator: fields.operator ?? operator, cumulative: fields.cumulative ?? 5000n, digest: fields.digest ?? digest };
    // signVoucher refuses to return a signature by anyone but the payer, so forgeries are signed for the signer
    // itself and the payer swapped in afterwards.
    const signature = await signVoucher(by, { ...voucher, payer: by.address }, { chainId: fields.chainId ?? CHAIN, vault: fields.vault ?? VAULT });
    return makePostageStamp({ ...voucher, signature });
  }

  beforeAll(async () => {
    stamp = await signed(payer);
  });

  it("accepts the payer's voucher for this envelope and network, returning what the node settles", () => {
    const check = verifyStamp(stamp, atDoor);
    expect(check).toEqual({
      ok: true,
      stamp: { payer: payer.address, operator, cumulative: 5000n, digest, signature: stamp.signature },
    });
    expect(verifyStamp(stamp, { ...atDoor, vault: VAULT.toLowerCase(), operator: operator.toLowerCase() }).ok).toBe(true);
  });

  it("refuses a stamp signed by another key", async () => {
    const forged = await signed(mallory, { payer: payer.address });
    expectRefused(forged, atDoor, "stamp_not_payer", /stamp signature is not the payer's/);
  });

  it("refuses a stamp made for another envelope (altered digest)", async () => {
    const other = await signed(payer, { digest: randomBytes(32) });
    expectRefused(other, atDoor, "stamp_not_payer", /not the payer's/);
  });

  it("refuses a stamp made for another chain or vault", async () => {
    expectRefused(await signed(payer, { chainId: 1n }), atDoor, "stamp_not_payer", new RegExp(`vault ${VAULT}, chain 31337`));
    expectRefused(await signed(payer, { vault: OTHER_VAULT }), atDoor, "stamp_not_payer", /not the payer's/);
    // ... and the same stamp checked by a node of another network.
    expectRefused(stamp, { ...atDoor, chainId: 1n }, "stamp_not_payer", /not the payer's/);
  });

  it("refuses an altered amount (the signature covers cumulative)", () => {
    const altered = clone(postage.PostageStampSchema, stamp);
    altered.cumulative = encodeCumulative(5001n);
    expectRefused(altered, atDoor, "stamp_not_payer", /not the payer's/);
  });

  it("at an accepting door, refuses a stamp paying another operator; relaying, accepts any operator", async () => {
    const elsewhere = await signed(payer, { operator: otherOperator });
    expectRefused(elsewhere, atDoor, "stamp_wrong_operator", new RegExp(`pays operator ${otherOperator}, not this node's operator ${operator}`));
    expect(verifyStamp(elsewhere, relaying).ok).toBe(true);
    expectRefused(stamp, { ...atDoor, operator: undefined }, "stamp_wrong_operator", /no operator address/);
  });

  it("refuses a stamp that owes nothing", async () => {
    const zero = await signed(payer, { cumulative: 0n });
    expectRefused(zero, relaying, "stamp_zero", /cumulative is 0/);
  });

  it("refuses malformed stamps: addresses not EIP-55, padded cumulative, non-canonical signatures", () => {
    expectRefused({ ...stamp, payer: payer.address.toLowerCase() }, atDoor, "stamp_malformed", /payer .* is not an EIP-55 address/);
    expectRefused({ ...stamp, operator: "nobody" }, atDoor, "stamp_malformed", /operator "nobody"/);
    expectRefused({ ...stamp, cumulative: Uint8Array.of(0, 0x13, 0x88) }, atDoor, "stamp_malformed", /leading zero/);
    expectRefused({ ...stamp, signature: stamp.signature.subarray(0, 64) }, atDoor, "stamp_malformed", /65 bytes/);
    const high = Uint8Array.from(stamp.signature);
    const s = BigInt("0x" + toHex(high.subarray(32, 64)));
    high.set(fromHex((CURVE_ORDER - s).toString(16).padStart(64, "0")), 32);
    high[64] = high[64] === 27 ? 28 : 27;
    expectRefused({ ...stamp, signature: high }, atDoor, "stamp_malformed", /upper half/);
  });
});
