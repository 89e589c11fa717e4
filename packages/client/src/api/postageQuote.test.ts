// The postage wire format on the client's side (docs/postage.md §4): the quote as GET /postage/v1/quote answers it,
// the proof as publish carries it, and a node's garbage refused.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toBase64 } from "@xmtp-ts/crypto";
import { ApiError, envelopePriceWei, HttpMessageApi, postageQuoteFromJson, type PostageRequiredQuote } from "./index.js";
import { sendJson, startFakeNode, type FakeNode } from "./test-support/fakeNode.js";

const VAULT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const OPERATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

const REQUIRED_QUOTE_JSON = {
  postage: "required",
  chainId: "31337",
  vault: VAULT,
  operator: OPERATOR,
  priceWei: "1000",
  pricePerByteWei: "3",
  payer: { address: PAYER, acceptedCumulativeWei: "5000", depositedWei: "100000", redeemedWei: "0", withdrawalPending: false },
};

describe("postageQuoteFromJson", () => {
  it("reads every field of a required quote: wei as bigints, addresses in EIP-55", () => {
    const quote = postageQuoteFromJson(REQUIRED_QUOTE_JSON) as PostageRequiredQuote;
    expect(quote).toEqual({
      postage: "required",
      chainId: 31337n,
      vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      operator: OPERATOR,
      priceWei: 1000n,
      pricePerByteWei: 3n,
      payer: { address: PAYER, acceptedCumulativeWei: 5000n, depositedWei: 100000n, redeemedWei: 0n, withdrawalPending: false },
    });
  });

  it("reads a quote without a payer, and postage off", () => {
    const { payer: _payer, ...withoutPayer } = REQUIRED_QUOTE_JSON;
    expect(postageQuoteFromJson(withoutPayer)).not.toHaveProperty("payer");
    expect(postageQuoteFromJson({ postage: "off" })).toEqual({ postage: "off" });
  });

  it.each([
    ["not an object", "required"],
    ["unknown mode", { ...REQUIRED_QUOTE_JSON, postage: "maybe" }],
    ["price as a number (precision lost beyond 2^53)", { ...REQUIRED_QUOTE_JSON, priceWei: 1000 }],
    ["negative price", { ...REQUIRED_QUOTE_JSON, priceWei: "-1" }],
    ["price above uint256", { ...REQUIRED_QUOTE_JSON, priceWei: (1n << 256n).toString() }],
    ["vault not an address", { ...REQUIRED_QUOTE_JSON, vault: "0x1234" }],
    ["operator missing", { ...REQUIRED_QUOTE_JSON, operator: undefined }],
    ["withdrawalPending not a boolean", { ...REQUIRED_QUOTE_JSON, payer: { ...REQUIRED_QUOTE_JSON.payer, withdrawalPending: "no" } }],
    ["payer's accepted total in hex", { ...REQUIRED_QUOTE_JSON, payer: { ...REQUIRED_QUOTE_JSON.payer, acceptedCumulativeWei: "0x10" } }],
  ])("refuses a quote with %s", (_what, json) => {
    expect(() => postageQuoteFromJson(json)).toThrow();
  });

  it("prices an envelope as priceWei + pricePerByteWei × message bytes", () => {
    const quote = postageQuoteFromJson(REQUIRED_QUOTE_JSON) as PostageRequiredQuote;
    expect(envelopePriceWei(quote, 0)).toBe(1000n);
    expect(envelopePriceWei(quote, 100)).toBe(1300n);
  });
});

describe("HttpMessageApi and postage", () => {
  let fake: FakeNode;
  beforeEach(async () => {
    fake = await startFakeNode();
  });
  afterEach(async () => {
    await fake.close();
  });
  const api = () => new HttpMessageApi({ apiUrl: fake.url, retry: { attempts: 2, initialDelayMs: 1 }, authTokenProvider: async () => "token" });

  it("asks GET /postage/v1/quote with the payer in EIP-55 form", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, REQUIRED_QUOTE_JSON);
    const quote = await api().postageQuote(PAYER.toLowerCase());
    expect(quote.postage).toBe("required");
    expect(fake.requests[0]).toMatchObject({ method: "GET", path: `/postage/v1/quote?payer=${PAYER}` });
    await api().postageQuote();
    expect(fake.requests[1].path).toBe("/postage/v1/quote");
  });

  it("turns a malformed quote into a non-transient ApiError", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, { postage: "required", chainId: 1 });
    const err = await api().postageQuote().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ call: "postageQuote", transient: false });
    expect((err as ApiError).message).toContain("malformed response");
  });

  it("refuses a payer that is not an address before asking", async () => {
    await expect(api().postageQuote("bob")).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });

  it("publishes an envelope's proof as base64 in the postage field, and no field for envelopes without one", async () => {
    fake.handle = (_request, response) => sendJson(response, 200, {});
    const proof = new Uint8Array([0x0a, 0xfb, 0xff]);
    await api().publish([
      { contentTopic: `/xmtp/0/invite-${PAYER}/proto`, timestampNs: 1n, message: new Uint8Array([1]), postage: proof },
      { contentTopic: "/xmtp/0/m-x/proto", timestampNs: 2n, message: new Uint8Array([2]) },
    ]);
    const [withProof, without] = fake.requests[0].json.envelopes;
    expect(withProof.postage).toBe(toBase64(proof));
    expect(without).not.toHaveProperty("postage");
  });

  it("refuses an empty proof rather than sending an empty field", async () => {
    await expect(
      api().publish([{ contentTopic: "/xmtp/0/m-x/proto", timestampNs: 1n, message: new Uint8Array([1]), postage: new Uint8Array(0) }]),
    ).rejects.toThrow("postage must be a non-empty Uint8Array");
  });
});
