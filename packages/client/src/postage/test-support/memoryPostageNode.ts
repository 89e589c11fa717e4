// An in-memory node that charges postage the way docs/postage.md says a node does, for client tests that need the
// node's side of the conversation without the node package: it decides each envelope with the protocol library's
// own checkPostage (the decision every real door makes), settles stamps against a per-payer ledger (last accepted
// cumulative, deposit, pending withdrawal; a resent identical stamp is a retry), learns relationships with
// relationshipEvidence, and refuses with the 402 ApiError HttpMessageApi would raise, the quote in its details.
// Each client gets its own MessageApi from `apiFor(wallet)`: the wallet stands for the HTTP door's auth token.
import { equalBytes, toChecksumAddress, toHex } from "@xmtp-ts/crypto";
import {
  checkPostage,
  decodeCumulative,
  decodePostageProof,
  envelopeDigest,
  relationshipEvidence,
  type PostageInput,
} from "@xmtp-ts/postage";
import type { postage } from "@xmtp-ts/proto";
import {
  ApiError,
  GrpcCode,
  postageQuoteFromJson,
  type Envelope,
  type MessageApi,
  type QueryPage,
  type QueryParams,
  type Subscription,
} from "../../api/index.js";

export interface MemoryPostageTerms {
  chainId: bigint;
  vault: string;
  operator: string;
  priceWei: bigint;
  pricePerByteWei: bigint;
}

export interface PayerLedger {
  acceptedCumulativeWei: bigint;
  depositedWei: bigint;
  redeemedWei: bigint;
  withdrawalPending: boolean;
  /** Digest of the envelope the last accepted voucher paid for: resending it is a retry, not a new payment. */
  lastDigest?: Uint8Array;
}

/** One publish request as the node saw it, proofs decoded. */
export interface RecordedPublish {
  wallet: string;
  envelopes: Envelope[];
  proofs: (postage.PostageProof | undefined)[];
  outcome: "accepted" | "refused";
  reason?: string;
}

let nextNodeId = 0;

export class MemoryPostageNode {
  mode: "off" | "required" = "required";
  terms: MemoryPostageTerms;
  readonly url = `memory://postage-node-${++nextNodeId}`;
  /** Stored envelopes, without their proofs (a query never returns one). */
  readonly stored: Envelope[] = [];
  readonly publishes: RecordedPublish[] = [];
  /** `?payer=` of every quote asked (undefined: no payer). */
  readonly quoteRequests: (string | undefined)[] = [];
  /** (inviter, invitee) pairs, as the node's postage_relationships table. */
  readonly relationships = new Set<string>();
  readonly ledger = new Map<string, PayerLedger>();
  /** Runs before each publish is decided: delay it, fail it. */
  beforePublish?: (envelopes: Envelope[]) => void | Promise<void>;
  /** Where the node reads a payer's deposit and withdrawal state from (the chain); defaults to the ledger's. */
  chainState?: (payer: string) => Promise<{ depositedWei: bigint; redeemedWei: bigint; withdrawalPending: boolean }>;

  constructor(terms: Partial<MemoryPostageTerms> = {}) {
    this.terms = {
      chainId: 31337n,
      vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      priceWei: 1000n,
      pricePerByteWei: 0n,
      ...terms,
    };
  }

  /** Credits `payer`'s channel with this node's operator (what a deposit in the vault would do). */
  deposit(payer: string, wei: bigint): void {
    this.entry(payer).depositedWei += wei;
  }

  entry(payer: string): PayerLedger {
    const key = toChecksumAddress(payer);
    let entry = this.ledger.get(key);
    if (!entry) {
      entry = { acceptedCumulativeWei: 0n, depositedWei: 0n, redeemedWei: 0n, withdrawalPending: false };
      this.ledger.set(key, entry);
    }
    return entry;
  }

  priceOf(message: Uint8Array): bigint {
    return this.terms.priceWei + this.terms.pricePerByteWei * BigInt(message.length);
  }

  /** `GET /postage/v1/quote[?payer=]` as JSON. */
  async quoteJson(payer?: string): Promise<Record<string, unknown>> {
    if (this.mode === "off") return { postage: "off" };
    const { chainId, vault, operator, priceWei, pricePerByteWei } = this.terms;
    const json: Record<string, unknown> = {
      postage: "required",
      chainId: chainId.toString(),
      vault,
      operator,
      priceWei: priceWei.toString(),
      pricePerByteWei: pricePerByteWei.toString(),
    };
    if (payer !== undefined) {
      const entry = await this.standing(payer);
      json.payer = {
        address: toChecksumAddress(payer),
        acceptedCumulativeWei: entry.acceptedCumulativeWei.toString(),
        depositedWei: entry.depositedWei.toString(),
        redeemedWei: entry.redeemedWei.toString(),
        withdrawalPending: entry.withdrawalPending,
      };
    }
    return json;
  }

  /** A MessageApi for the client of `wallet`, as if it published with that wallet's auth token. */
  apiFor(wallet: string): MessageApi & { apiUrl: string } {
    const door = toChecksumAddress(wallet);
    return {
      apiUrl: this.url,
      publish: (envelopes) => this.publish(door, envelopes),
      query: async (params) => this.query(params),
      queryAll: async (params) => this.queryAll(params),
      batchQuery: async (queries) => queries.map((query) => this.query(query).envelopes),
      subscribe: (): Subscription => {
        throw new Error("the memory postage node has no streams");
      },
      postageQuote: async (payer) => {
        this.quoteRequests.push(payer);
        return postageQuoteFromJson(await this.quoteJson(payer));
      },
    };
  }

  /** Every proof `wallet` published (accepted or refused), decoded, in order: what a test inspects. */
  proofsOf(wallet: string): postage.PostageProof[] {
    const door = toChecksumAddress(wallet);
    return this.publishes.filter((p) => p.wallet === door).flatMap((p) => p.proofs.filter((proof): proof is postage.PostageProof => !!proof));
  }

  private async standing(payer: string): Promise<PayerLedger> {
    const entry = this.entry(payer);
    if (!this.chainState) return entry;
    const chain = await this.chainState(toChecksumAddress(payer));
    return { ...entry, ...chain };
  }

  private refusal(reason: string): Promise<ApiError> {
    return this.quoteJson().then(
      (quote) =>
        new ApiError({ call: "publish", code: GrpcCode.FAILED_PRECONDITION, serverMessage: reason, httpStatus: 402, details: [quote], transient: false }),
    );
  }

  private async publish(wallet: string, envelopes: Envelope[]): Promise<void> {
    const proofs = envelopes.map((envelope) => (envelope.postage ? decodePostageProof(envelope.postage) : undefined));
    const record: RecordedPublish = { wallet, envelopes, proofs, outcome: "accepted" };
    this.publishes.push(record);
    await this.beforePublish?.(envelopes);
    try {
      await this.accept(wallet, envelopes, proofs);
    } catch (error) {
      record.outcome = "refused";
      record.reason = (error as ApiError).serverMessage;
      throw error;
    }
  }

  /** Decides every envelope, then stores all of them or none (a refused publish stores nothing). */
  private async accept(wallet: string, envelopes: Envelope[], proofs: (postage.PostageProof | undefined)[]): Promise<void> {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const pending = new Map<string, PayerLedger>();
    const records: string[] = [];
    const { chainId, vault, operator } = this.terms;
    for (const [i, envelope] of envelopes.entries()) {
      const digest = envelopeDigest(envelope.contentTopic, envelope.message);
      const input: PostageInput = {
        contentTopic: envelope.contentTopic,
        message: envelope.message,
        digest,
        proof: proofs[i],
        door: { kind: "token", wallet },
        terms: this.mode === "required" ? { chainId, vault, operator, priceWei: (bytes) => this.terms.priceWei + this.terms.pricePerByteWei * BigInt(bytes) } : undefined,
        relationships: { has: (inviter, invitee) => this.relationships.has(`${inviter}|${invitee}`) },
        nowNs,
        acceptingDoor: true,
      };
      const decision = await checkPostage(input);
      if (this.mode === "required") {
        if (decision.outcome === "refused") throw await this.refusal(decision.reason);
        if (decision.outcome === "paid") {
          const { payer, cumulative } = decision.stamp;
          const entry = pending.get(payer) ?? { ...(await this.standing(payer)) };
          pending.set(payer, entry);
          const price = this.priceOf(envelope.message);
          const retry = cumulative === entry.acceptedCumulativeWei && entry.lastDigest !== undefined && equalBytes(entry.lastDigest, digest);
          if (!retry) {
            if (entry.withdrawalPending) throw await this.refusal(`postage refused: ${payer} has a withdrawal pending`);
            if (cumulative < entry.acceptedCumulativeWei + price) {
              throw await this.refusal(
                `postage refused: voucher cumulative ${cumulative} does not exceed the last accepted ${entry.acceptedCumulativeWei} by the price ${price}`,
              );
            }
            if (cumulative > entry.depositedWei) {
              throw await this.refusal(`postage refused: voucher cumulative ${cumulative} exceeds the deposit ${entry.depositedWei}`);
            }
            entry.acceptedCumulativeWei = cumulative;
            entry.lastDigest = digest;
          }
        }
      }
      const evidence = relationshipEvidence(decision);
      if (evidence) records.push(`${evidence.inviter}|${evidence.invitee}`);
    }
    for (const [payer, entry] of pending) {
      const kept = this.entry(payer);
      kept.acceptedCumulativeWei = entry.acceptedCumulativeWei;
      kept.lastDigest = entry.lastDigest;
    }
    for (const pair of records) this.relationships.add(pair);
    for (const envelope of envelopes) {
      const { postage: _proof, ...plain } = envelope;
      this.stored.push(plain);
    }
  }

  private matching(params: QueryParams): Envelope[] {
    const descending = params.direction === "descending" || params.direction === "unspecified";
    return this.stored
      .filter(
        (e) =>
          e.contentTopic === params.contentTopic &&
          (params.startTimeNs === undefined || e.timestampNs >= params.startTimeNs) &&
          (params.endTimeNs === undefined || e.timestampNs <= params.endTimeNs),
      )
      .map((e, order) => ({ e, order }))
      .sort((a, b) => (a.e.timestampNs === b.e.timestampNs ? a.order - b.order : a.e.timestampNs < b.e.timestampNs ? -1 : 1) * (descending ? -1 : 1))
      .map(({ e }) => e);
  }

  private query(params: QueryParams): QueryPage {
    const all = this.matching(params);
    const pageSize = params.pageSize ?? 100;
    // The cursor's digest is the index of the page's last envelope in the match list: opaque to the client.
    const from = params.cursor ? Number(`0x${toHex(params.cursor.digest)}`) + 1 : 0;
    const envelopes = all.slice(from, from + pageSize);
    if (from + pageSize >= all.length || envelopes.length === 0) return { envelopes };
    const last = from + envelopes.length - 1;
    const digest = new Uint8Array(4);
    new DataView(digest.buffer).setUint32(0, last);
    return { envelopes, cursor: { digest, senderTimeNs: envelopes.at(-1)!.timestampNs } };
  }

  private queryAll(params: QueryParams & { limit?: number }): Envelope[] {
    const all = this.matching(params);
    return params.limit === undefined ? all : all.slice(0, params.limit);
  }
}

/** The cumulative of every stamp `wallet` published, in order. */
export function stampCumulatives(node: MemoryPostageNode, wallet: string): bigint[] {
  return node
    .proofsOf(wallet)
    .filter((proof) => proof.basis.case === "stamp")
    .map((proof) => decodeCumulative((proof.basis.value as postage.PostageStamp).cumulative));
}
