// Stamps: the cumulative each one carries, the checks made before the wallet is asked to sign, and the queue that
// keeps two stamps of one payer at one node from ever carrying the same total.
import { describe, expect, it } from "vitest";
import { randomBytes } from "@xmtp-ts/crypto";
import { decodeCumulative, encodePostageProof, envelopeDigest, reachTopic, verifyStamp } from "@xmtp-ts/postage";
import { create, postage } from "@xmtp-ts/proto";
import { ApiError } from "../api/index.js";
import { PostageBalanceTooLowError, PostagePriceTooHighError, PostageWithdrawalPendingError } from "./errors.js";
import { SerialQueues } from "./SerialQueues.js";
import { Stamper, type StampRequest } from "./Stamper.js";
import { MemoryPostageNode, stampCumulatives } from "./test-support/memoryPostageNode.js";
import { countingPayer, randomWallet } from "./test-support/wallets.js";

const RECIPIENT = randomWallet().address;

function request(bytes = 10): StampRequest {
  return { contentTopic: reachTopic("invite", RECIPIENT), message: randomBytes(bytes) };
}

function setup(options: { maxPriceWei?: bigint; deposit?: bigint; accepted?: bigint; node?: MemoryPostageNode; queues?: SerialQueues } = {}) {
  const node = options.node ?? new MemoryPostageNode({ priceWei: 1000n, pricePerByteWei: 2n });
  const wallet = randomWallet();
  const payer = countingPayer(wallet);
  node.deposit(wallet.address, options.deposit ?? 100_000n);
  node.entry(wallet.address).acceptedCumulativeWei = options.accepted ?? 0n;
  const api = node.apiFor(wallet.address);
  const stamper = new Stamper({
    payer,
    maxPriceWei: options.maxPriceWei,
    nodeKey: node.url,
    quote: (address) => api.postageQuote!(address),
    queues: options.queues ?? new SerialQueues(),
  });
  return { node, wallet, payer, api, stamper };
}

/** Publishes `req` with the stamp made for it, as ReachPublisher does, inside the queue. */
function publishStamped(s: ReturnType<typeof setup>, req: StampRequest) {
  return s.stamper.withStamps([req], async (batch) => {
    const proof = create(postage.PostageProofSchema, { basis: { case: "stamp", value: batch!.stamps[0] } });
    await s.api.publish([{ ...req, timestampNs: 1n, postage: encodePostageProof(proof) }]);
    return decodeCumulative(batch!.stamps[0].cumulative);
  });
}

describe("Stamper", () => {
  it("stamps the node's last accepted total plus this envelope's price, signed by the payer for the node's network", async () => {
    const s = setup({ accepted: 5000n });
    const req = request(10);
    const batch = await s.stamper.withStamps([req], async (b) => b);
    expect(batch).toBeDefined();
    const [stamp] = batch!.stamps;
    // 5000 accepted + 1000 per envelope + 2 per byte × 10 bytes.
    expect(decodeCumulative(stamp.cumulative)).toBe(6020n);
    expect(stamp.payer).toBe(s.wallet.address);
    expect(stamp.operator).toBe(s.node.terms.operator);
    const check = verifyStamp(stamp, {
      digest: envelopeDigest(req.contentTopic, req.message),
      chainId: s.node.terms.chainId,
      vault: s.node.terms.vault,
      operator: s.node.terms.operator,
      acceptingDoor: true,
    });
    expect(check.ok).toBe(true);
    expect(s.node.quoteRequests).toEqual([s.wallet.address]);
  });

  it("a stamp is bound to its envelope: it does not verify over another one", async () => {
    const s = setup();
    const batch = await s.stamper.withStamps([request()], async (b) => b);
    const other = request();
    const check = verifyStamp(batch!.stamps[0], {
      digest: envelopeDigest(other.contentTopic, other.message),
      chainId: s.node.terms.chainId,
      vault: s.node.terms.vault,
      operator: s.node.terms.operator,
      acceptingDoor: true,
    });
    expect(check).toMatchObject({ ok: false, code: "stamp_not_payer" });
  });

  it("pays several envelopes of one publish in order, each total including the ones before it", async () => {
    const s = setup({ accepted: 1000n });
    const batch = await s.stamper.withStamps([request(0), request(50)], async (b) => b);
    expect(batch!.stamps.map((stamp) => decodeCumulative(stamp.cumulative))).toEqual([2000n, 3100n]);
  });

  it("refuses an envelope above maxPriceWei before asking the wallet for anything", async () => {
    const s = setup({ maxPriceWei: 1019n });
    const err = await s.stamper.withStamps([request(10)], async () => "published").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostagePriceTooHighError);
    expect(err).toMatchObject({ code: "postage_price_too_high", priceWei: 1020n, maxPriceWei: 1019n });
    expect((err as PostagePriceTooHighError).quote.operator).toBe(s.node.terms.operator);
    expect(s.payer.signatures).toBe(0);
    // At exactly the maximum it pays.
    const ok = setup({ maxPriceWei: 1020n });
    await expect(ok.stamper.withStamps([request(10)], async () => "published")).resolves.toBe("published");
    expect(ok.payer.signatures).toBe(1);
  });

  it("refuses a total above the deposit, naming the shortfall, without a signature", async () => {
    const s = setup({ deposit: 1500n, accepted: 1000n });
    const err = await s.stamper.withStamps([request(0)], async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostageBalanceTooLowError);
    expect(err).toMatchObject({ neededWei: 2000n, depositedWei: 1500n, payer: s.wallet.address });
    expect((err as Error).message).toContain("deposit at least 500 wei more");
    expect(s.payer.signatures).toBe(0);
  });

  it("refuses while the payer's withdrawal is pending", async () => {
    const s = setup();
    s.node.entry(s.wallet.address).withdrawalPending = true;
    await expect(s.stamper.withStamps([request()], async () => undefined)).rejects.toBeInstanceOf(PostageWithdrawalPendingError);
    expect(s.payer.signatures).toBe(0);
  });

  it("makes no stamp on a node with postage off", async () => {
    const s = setup();
    s.node.mode = "off";
    await expect(s.stamper.withStamps([request()], async (batch) => batch)).resolves.toBeUndefined();
    expect(s.payer.signatures).toBe(0);
  });

  it("refuses a quote for another payer than ours (a confused or lying node)", async () => {
    const s = setup();
    const other = randomWallet().address;
    const stamper = new Stamper({
      payer: s.payer,
      nodeKey: s.node.url,
      quote: () => s.api.postageQuote!(other),
      queues: new SerialQueues(),
    });
    const err = await stamper.withStamps([request()], async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toContain(`not ${s.wallet.address}`);
  });

  it("rejects a negative maxPriceWei", () => {
    const s = setup();
    expect(() => new Stamper({ payer: s.payer, nodeKey: "x", quote: async () => ({ postage: "off" }), maxPriceWei: -1n })).toThrow(RangeError);
  });
});

/** 1000 wei per envelope whatever its size, so totals read as multiples of 1000. */
function flatPriceNode() {
  return new MemoryPostageNode({ priceWei: 1000n, pricePerByteWei: 0n });
}

describe("stamps under concurrency", () => {
  it("serializes one payer's stamps at one node: eight concurrent publishes all pay, with strictly rising totals", async () => {
    const s = setup({ node: flatPriceNode() });
    const totals = await Promise.all(Array.from({ length: 8 }, () => publishStamped(s, request())));
    expect([...totals].sort((a, b) => (a < b ? -1 : 1))).toEqual([1000n, 2000n, 3000n, 4000n, 5000n, 6000n, 7000n, 8000n]);
    expect(s.node.publishes.every((p) => p.outcome === "accepted")).toBe(true);
    expect(s.node.entry(s.wallet.address).acceptedCumulativeWei).toBe(8000n);
  });

  it("shares the queue between clients paying with the same wallet at the same node", async () => {
    const queues = new SerialQueues();
    const first = setup({ queues, node: flatPriceNode() });
    // A second client: its own Stamper and API object, the same payer, the same node.
    const api = first.node.apiFor(first.wallet.address);
    const second = {
      ...first,
      api,
      stamper: new Stamper({ payer: first.payer, nodeKey: first.node.url, quote: (a) => api.postageQuote!(a), queues }),
    };
    const totals = await Promise.all([1, 2, 3, 4].map((i) => publishStamped(i % 2 ? first : second, request())));
    expect(new Set(totals).size).toBe(4);
    expect(first.node.publishes.map((p) => p.outcome)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
    expect(stampCumulatives(first.node, first.wallet.address)).toEqual([1000n, 2000n, 3000n, 4000n]);
  });

  it("without the shared queue, concurrent stamps repeat a total and the node refuses them (what the queue prevents)", async () => {
    const first = setup({ node: flatPriceNode() });
    const api = first.node.apiFor(first.wallet.address);
    // Each publish through its own queue: nothing orders the quote-stamp-publish sequences.
    const unqueued = () => ({
      ...first,
      stamper: new Stamper({ payer: first.payer, nodeKey: first.node.url, quote: (a) => api.postageQuote!(a), queues: new SerialQueues() }),
    });
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => publishStamped(unqueued(), request())));
    expect(outcomes.filter((o) => o.status === "rejected").length).toBeGreaterThan(0);
    expect(first.node.publishes.some((p) => p.reason?.includes("does not exceed the last accepted"))).toBe(true);
  });

  it("a failed publish releases the queue for the next stamp, which is made from a fresh quote", async () => {
    const s = setup({ node: flatPriceNode() });
    let failures = 1;
    s.node.beforePublish = () => {
      if (failures-- > 0) throw new Error("connection reset");
    };
    const results = await Promise.allSettled([publishStamped(s, request()), publishStamped(s, request())]);
    expect(results[0].status).toBe("rejected");
    // The lost stamp (1000) was never accepted, so the next one is 1000 again: nothing is paid twice.
    expect(results[1]).toEqual({ status: "fulfilled", value: 1000n });
  });
});
