// The behaviour every store's PostageLedger must have, as one vitest suite each store runs:
//   describePostageLedgerConformance("sqlite", () => openSqliteStore(path))
// `openStore` must return a new, empty store on every call. The suite closes what it opens.
import { afterEach, describe, expect, it } from "vitest";
import { withDigest } from "../digest.js";
import type { EnvelopeStore } from "../EnvelopeStore.js";
import type { NewVoucher, PostageLedger } from "../postageLedger.js";

type StoreWithLedger = EnvelopeStore & { postage: PostageLedger };

const OPERATOR = "0x1111111111111111111111111111111111111111";
const PAYER = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
const OTHER_PAYER = "0x2222222222222222222222222222222222222222";
const fakeDigest = (n: number) => new Uint8Array(32).fill(n);
const voucher = (cumulative: bigint, n: number, payer = PAYER): NewVoucher => ({
  operator: OPERATOR,
  payer,
  cumulative,
  digest: fakeDigest(n),
  signature: new Uint8Array(65).fill(n),
});
const UINT256_MAX = (1n << 256n) - 1n;

export function describePostageLedgerConformance(name: string, openStore: () => Promise<StoreWithLedger>): void {
  describe(`PostageLedger conformance: ${name}`, () => {
    const opened: StoreWithLedger[] = [];
    const open = async () => {
      const store = await openStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it("keeps the proof an envelope was first appended with, and none for envelopes without one", async () => {
      const store = await open();
      const topic = "/xmtp/0/invite-0x1111111111111111111111111111111111111111/proto";
      const proved = withDigest({ contentTopic: topic, timestampNs: 1n, message: new Uint8Array([1]), postage: new Uint8Array([7, 7]) });
      const plain = withDigest({ contentTopic: topic, timestampNs: 2n, message: new Uint8Array([2]) });
      await store.append([proved, plain]);
      // The same envelope again with another proof: a duplicate, its proof is not taken.
      await store.append([{ ...proved, postage: new Uint8Array([9]) }]);
      const proofs = await store.postage.readProofs([proved.digest, plain.digest, fakeDigest(3)]);
      expect([...proofs.entries()]).toEqual([[Buffer.from(proved.digest).toString("hex"), new Uint8Array([7, 7])]]);
      // Envelopes read back do not carry proofs (the HTTP API never returns them).
      const page = await store.query({ topic, limit: 10, direction: "ascending" });
      expect(page.envelopes.map((e) => e.postage)).toEqual([undefined, undefined]);
      expect(await store.postage.readProofs([])).toEqual(new Map());
    });

    it("records relationships once, one way, whatever the address case", async () => {
      const store = await open();
      expect(await store.postage.hasRelationship(PAYER, OPERATOR)).toBe(false);
      await store.postage.recordRelationships([
        { inviter: PAYER, invitee: OPERATOR, atNs: 5n },
        { inviter: PAYER, invitee: OPERATOR, atNs: 6n },
      ]);
      await store.postage.recordRelationships([{ inviter: PAYER.toLowerCase(), invitee: OPERATOR, atNs: 7n }]);
      await store.postage.recordRelationships([]);
      expect(await store.postage.hasRelationship(PAYER.toUpperCase().replace("0X", "0x"), OPERATOR)).toBe(true);
      expect(await store.postage.hasRelationship(OPERATOR, PAYER)).toBe(false);
    });

    it("accepts vouchers that grow by at least the price, retries of the last one, and nothing else", async () => {
      const store = await open();
      const { postage } = store;
      expect(await postage.acceptVoucher(voucher(5n, 1), 10n, 1n)).toEqual({ accepted: false, lastCumulative: 0n });
      expect(await postage.acceptVoucher(voucher(10n, 1), 10n, 1n)).toEqual({ accepted: true, retry: false });
      expect(await postage.acceptVoucher(voucher(10n, 1), 10n, 2n)).toEqual({ accepted: true, retry: true });
      // The same amount for another envelope is not a retry: it would pay for two envelopes once.
      expect(await postage.acceptVoucher(voucher(10n, 2), 10n, 2n)).toEqual({ accepted: false, lastCumulative: 10n });
      expect(await postage.acceptVoucher(voucher(19n, 2), 10n, 2n)).toEqual({ accepted: false, lastCumulative: 10n });
      expect(await postage.acceptVoucher(voucher(25n, 2), 10n, 3n)).toEqual({ accepted: true, retry: false });
      // Payers are independent; uint256 amounts survive.
      expect(await postage.acceptVoucher(voucher(UINT256_MAX, 3, OTHER_PAYER), 10n, 4n)).toEqual({ accepted: true, retry: false });
      const last = await postage.lastVoucher(OPERATOR.toUpperCase().replace("0X", "0x"), PAYER);
      expect(last).toEqual({
        operator: OPERATOR,
        payer: PAYER.toLowerCase(),
        cumulative: 25n,
        digest: fakeDigest(2),
        signature: new Uint8Array(65).fill(2),
        acceptedAtNs: 3n,
        redeemed: 0n,
      });
      expect((await postage.lastVoucher(OPERATOR, OTHER_PAYER))!.cumulative).toBe(UINT256_MAX);
      expect(await postage.lastVoucher(OTHER_PAYER, PAYER)).toBeUndefined();
    });

    it("accepts exactly one of concurrent vouchers made on the same previous one", async () => {
      const store = await open();
      await store.postage.acceptVoucher(voucher(10n, 1), 10n, 1n);
      const outcomes = await Promise.all([20n, 21n, 22n, 23n].map((c, i) => store.postage.acceptVoucher(voucher(c, 10 + i), 10n, 2n)));
      // Applied one after another: the first taken wins, and every later one no longer exceeds it by the price.
      expect(outcomes.filter((o) => o.accepted)).toHaveLength(1);
      const first = await Promise.all([30n, 31n].map((c, i) => store.postage.acceptVoucher(voucher(c, 20 + i, OTHER_PAYER), 30n, 3n)));
      expect(first.filter((o) => o.accepted)).toHaveLength(1);
    });

    it("lists what is left to redeem and never lowers what was redeemed", async () => {
      const store = await open();
      const { postage } = store;
      await postage.acceptVoucher(voucher(10n, 1), 10n, 1n);
      await postage.acceptVoucher(voucher(40n, 2, OTHER_PAYER), 10n, 1n);
      expect((await postage.unredeemedVouchers(OPERATOR)).map((v) => [v.payer, v.cumulative]).sort()).toEqual(
        [
          [PAYER.toLowerCase(), 10n],
          [OTHER_PAYER, 40n],
        ].sort(),
      );
      await postage.markRedeemed(OPERATOR, PAYER, 10n);
      await postage.markRedeemed(OPERATOR, OTHER_PAYER, 40n);
      await postage.markRedeemed(OPERATOR, OTHER_PAYER, 20n);
      expect(await postage.unredeemedVouchers(OPERATOR)).toEqual([]);
      expect((await postage.lastVoucher(OPERATOR, OTHER_PAYER))!.redeemed).toBe(40n);
      await postage.acceptVoucher(voucher(50n, 3, OTHER_PAYER), 10n, 2n);
      expect((await postage.unredeemedVouchers(OPERATOR)).map((v) => [v.cumulative, v.redeemed])).toEqual([[50n, 40n]]);
      expect(await postage.unredeemedVouchers(OTHER_PAYER)).toEqual([]);
    });
  });
}
