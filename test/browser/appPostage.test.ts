// The chat app's postage wording (apps/chat/src/postage.ts and the refusal in xmtp.ts), in Node: what a first
// message to a stranger costs, when it is free, and how a 402 refusal is explained instead of shown raw.
import { ApiError, PostageRequiredError, type PostageGrant, type PostageRequiredQuote } from "@xmtp-ts/client";
import { Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import {
  chainText,
  explainGrantError,
  explainPostageRefusal,
  formatEth,
  formatWei,
  groupDigits,
  loadSavedGrants,
  noticeForOutlook,
  noticeForRefusal,
  postageOutlook,
  priceText,
  saveGrants,
} from "../../apps/chat/src/postage.js";
import { explainError, postageRefusalOf } from "../../apps/chat/src/xmtp.js";

const peer = Wallet.createRandom().address;
const me = Wallet.createRandom().address;
const vault = Wallet.createRandom().address;
const operator = Wallet.createRandom().address;
const NOW = Date.UTC(2025, 0, 1);

const quote: PostageRequiredQuote = {
  postage: "required",
  chainId: 31337n,
  vault,
  operator,
  priceWei: 1_000_000n,
  pricePerByteWei: 0n,
};

/** The fields the app reads from a grant (the signed bytes are the client's business). */
function grant(overrides: Partial<PostageGrant> = {}): PostageGrant {
  const expiresAt = overrides.expiresAt ?? new Date(NOW + 3_600_000);
  return {
    grantor: peer,
    grantee: me,
    expiresAt,
    expiresNs: BigInt(expiresAt.getTime()) * 1_000_000n,
    chainId: quote.chainId,
    vault,
    bytes: new Uint8Array([1, 2, 3]),
    base64: "AQID",
    signed: {} as PostageGrant["signed"],
    ...overrides,
  };
}

const isoDate = (date: Date) => date.toISOString();

describe("amounts", () => {
  it("groups wei digits and converts to ETH exactly, without floating point", () => {
    expect(groupDigits(0n)).toBe("0");
    expect(groupDigits(999n)).toBe("999");
    expect(groupDigits(1_000_000n)).toBe("1,000,000");
    expect(formatEth(1000n)).toBe("0.000000000000001");
    expect(formatEth(1_000_000n)).toBe("0.000000000001");
    expect(formatEth(0n)).toBe("0");
    expect(formatEth(1_500_000_000_000_000_000n)).toBe("1.5");
    expect(formatEth(1234n * 10n ** 18n + 1n)).toBe("1,234.000000000000000001");
    // Beyond 2^53 wei, where a number would round.
    expect(formatEth(9_007_199_254_740_993n)).toBe("0.009007199254740993");
    expect(formatWei(1000n)).toBe("1,000 wei (0.000000000000001 ETH)");
  });

  it("states the price per first message, and per byte when the node charges by size", () => {
    expect(priceText(quote)).toBe("1,000,000 wei (0.000000000001 ETH) per first message");
    expect(priceText({ ...quote, pricePerByteWei: 5n })).toBe("1,000,000 wei (0.000000000001 ETH) per first message plus 5 wei per byte");
  });

  it("names the chains it knows, and shows any other by its id", () => {
    expect(chainText(31337n)).toBe("31337 (local development chain)");
    expect(chainText(1n)).toBe("1 (Ethereum)");
    expect(chainText(987654321n)).toBe("987654321");
  });
});

describe("postageOutlook", () => {
  const outlook = (input: Partial<Parameters<typeof postageOutlook>[0]>) =>
    postageOutlook({ quote, peer, priorContact: false, grants: [], nowMs: NOW, ...input });

  it("is off or unknown when the node charges nothing or its terms could not be read", () => {
    expect(outlook({ quote: { postage: "off" } })).toEqual({ kind: "off" });
    expect(outlook({ quote: undefined })).toEqual({ kind: "unknown" });
  });

  it("requires postage from a stranger", () => {
    expect(outlook({})).toEqual({ kind: "required", quote });
  });

  it("is free when the peer wrote first", () => {
    expect(outlook({ priorContact: true })).toEqual({ kind: "free", basis: "priorContact", quote });
  });

  it("is free with the peer's live grant on this node's network, claimed before a prior contact as the client does", () => {
    const mine = grant({ vault: vault.toLowerCase() });
    expect(outlook({ grants: [mine], priorContact: true })).toEqual({ kind: "free", basis: "grant", quote, grant: mine });
  });

  it("ignores expired grants and grants from someone else; names a grant for another network", () => {
    const expired = grant({ expiresAt: new Date(NOW - 1) });
    const fromOther = grant({ grantor: Wallet.createRandom().address });
    expect(outlook({ grants: [expired, fromOther] })).toEqual({ kind: "required", quote });
    const elsewhere = grant({ chainId: 1n });
    expect(outlook({ grants: [elsewhere] })).toEqual({ kind: "required", quote, foreignGrant: elsewhere });
  });
});

describe("the notice before a first message", () => {
  it("says nothing when postage is off or unknown", () => {
    expect(noticeForOutlook({ kind: "off" }, peer)).toBeUndefined();
    expect(noticeForOutlook({ kind: "unknown" }, peer)).toBeUndefined();
  });

  it("states the cost, the vault and chain, what makes it free, and that this app does not pay", () => {
    const notice = noticeForOutlook({ kind: "required", quote }, peer)!;
    expect(notice.tone).toBe("cost");
    expect(notice.title).toBe("Postage required");
    expect(notice.paragraphs).toEqual([
      `This node charges for a first message to someone who has not written to you. Your first message to ${peer} starts a new conversation, so it needs postage.`,
      `It is free if ${peer} writes to you first, or gives you a relationship grant for this node's postage network (paste it below).`,
      "This app does not pay postage (it has no payer wallet): unless one of those applies, the node will refuse the message.",
    ]);
    expect(notice.details).toEqual([
      { label: "Price", value: "1,000,000 wei (0.000000000001 ETH) per first message" },
      { label: "Vault", value: vault },
      { label: "Chain", value: "31337 (local development chain)" },
      { label: "Paid to", value: `the node's operator ${operator}` },
    ]);
  });

  it("says a grant for another network does not count here", () => {
    const notice = noticeForOutlook({ kind: "required", quote, foreignGrant: grant({ chainId: 1n }) }, peer)!;
    expect(notice.paragraphs[2]).toBe(
      `The grant you hold from ${peer} is for another postage network (vault ${vault} on chain 1 (Ethereum)): this node does not accept it.`,
    );
  });

  it("says why the first message is free", () => {
    const prior = noticeForOutlook({ kind: "free", basis: "priorContact", quote }, peer)!;
    expect(prior).toEqual({
      tone: "free",
      title: "No postage needed",
      paragraphs: [
        `This node charges 1,000,000 wei (0.000000000001 ETH) for a first message to a stranger, but ${peer} wrote to you first: your first message is free.`,
      ],
      details: [],
    });
    const granted = noticeForOutlook({ kind: "free", basis: "grant", quote, grant: grant() }, peer, isoDate)!;
    expect(granted.paragraphs[0]).toContain(`but ${peer} gave you a relationship grant, valid until 2025-01-01T01:00:00.000Z: your first message is free.`);
  });
});

describe("a refusal (HTTP 402)", () => {
  const serverMessage = `postage required: writing to /xmtp/0/invite-${peer}/proto costs 1000000 wei (vault ${vault} on chain 31337, operator ${operator}); free with a prior contact or a relationship grant from ${peer}`;

  function refusedError(attempted: ("none" | "grant" | "priorContact" | "seal")[] = ["seal"], withQuote = true): PostageRequiredError {
    const cause = new ApiError({ call: "publish", code: 9, serverMessage, httpStatus: 402, transient: false });
    return new PostageRequiredError({
      recipients: [peer],
      serverMessage,
      quote: withQuote ? quote : undefined,
      attempted,
      payerConfigured: false,
      cause,
    });
  }

  it("is found in the error or its causes, and nothing else is taken for one", () => {
    const error = refusedError();
    expect(postageRefusalOf(error)).toEqual({ recipients: [peer], serverMessage, quote, attempted: ["seal"] });
    expect(postageRefusalOf(new Error("wrapped", { cause: error }))?.recipients).toEqual([peer]);
    expect(postageRefusalOf(Object.assign(new Error("x"), { code: 9 }))).toBeUndefined();
    expect(postageRefusalOf(undefined)).toBeUndefined();
  });

  it("is explained with the terms and the way out, and the node's words beside them", () => {
    const notice = noticeForRefusal(postageRefusalOf(refusedError())!);
    expect(notice.tone).toBe("refused");
    expect(notice.title).toBe("Not sent: postage required");
    expect(notice.paragraphs).toEqual([
      `The node refused your first message to ${peer}: it charges 1,000,000 wei (0.000000000001 ETH) for a first message to someone who has not written to you, and this app does not pay postage.`,
      `It will be free once ${peer} writes to you first, or gives you a relationship grant for this node's postage network.`,
    ]);
    expect(notice.details.map((d) => d.label)).toEqual(["Price", "Vault", "Chain", "Paid to"]);
    expect(notice.serverMessage).toBe(serverMessage);
  });

  it("says which free basis the node did not accept, and does without terms when the node sent none", () => {
    const notice = noticeForRefusal(postageRefusalOf(refusedError(["grant"], false))!);
    expect(notice.paragraphs[0]).toBe(
      `The node refused your first message to ${peer}: it requires postage for a first message to someone who has not written to you, and this app does not pay postage.`,
    );
    expect(notice.paragraphs[1]).toBe(`The node did not accept your grant from ${peer}.`);
    expect(notice.details).toEqual([]);
    expect(noticeForRefusal(postageRefusalOf(refusedError(["priorContact"]))!).paragraphs[1]).toBe(
      `The node does not know of ${peer} writing to you first.`,
    );
  });

  it("reads as postage in the error banner, not as a raw FAILED_PRECONDITION", () => {
    const text = explainError(refusedError(), "http://localhost:5555");
    expect(text).toBe(
      `Postage required: the node refused your first message to ${peer} (1,000,000 wei (0.000000000001 ETH), vault ${vault} on chain 31337 (local development chain)), ` +
        `and this app does not pay postage. It is free if ${peer} writes to you first or gives you a relationship grant.`,
    );
    expect(explainPostageRefusal({ recipients: [], serverMessage: "", quote: undefined, attempted: [] })).toBe(
      "Postage required: the node refused your first message to this person, and this app does not pay postage. It is free if this person writes to you first or gives you a relationship grant.",
    );
  });
});

describe("grants the user pastes", () => {
  it("explains why a grant was not accepted", () => {
    expect(explainGrantError("malformed", "not base64")).toBe(
      "That is not a relationship grant: paste the whole text (base64) the person gave you.",
    );
    expect(explainGrantError("expired", "")).toBe("That grant has expired: ask for a new one.");
    expect(explainGrantError("forged", "")).toContain("signature does not hold");
    expect(explainGrantError("not_for_us", "the grant is for 0xA")).toBe("That grant is for another wallet, not for you (the grant is for 0xA).");
  });

  it("are saved per wallet and read back; unreadable storage reads as none", () => {
    const items = new Map<string, string>();
    const storage = {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    } as Storage;
    expect(loadSavedGrants(storage, me)).toEqual([]);
    saveGrants(storage, me, [grant(), grant({ base64: "BAUG" })]);
    expect(loadSavedGrants(storage, me)).toEqual(["AQID", "BAUG"]);
    expect(loadSavedGrants(storage, peer)).toEqual([]);
    saveGrants(storage, me, []);
    expect(items.size).toBe(0);
    items.set(`xmtp-chat:postage-grants:${me}`, "{not json");
    expect(loadSavedGrants(storage, me)).toEqual([]);
    items.set(`xmtp-chat:postage-grants:${me}`, '["AQID", 7, null]');
    expect(loadSavedGrants(storage, me)).toEqual(["AQID"]);
  });
});
