// `client.postage`: the app's handle on postage (docs/postage.md). The node's terms, the payer's channel in the
// vault with the node's operator (deposit, balance, withdrawal), and relationship grants: making one for a peer,
// accepting one from a peer. Writing to strangers itself needs nothing from the app: ReachPublisher attaches proofs.
import { isAddress, toChecksumAddress, type UserKeys } from "@xmtp-ts/crypto";
import { identityKeyMaterialOf, makeRelationshipGrant, PostageVaultClient } from "@xmtp-ts/postage";
import type { MessageApi, PostageQuote, PostageRequiredQuote } from "../api/index.js";
import { PostagePayerMissingError, PostageUnavailableError, PostageWrongChainError } from "./errors.js";
import type { GrantStore } from "./GrantStore.js";
import { fetchPostageQuote } from "./nodeQuote.js";
import type { PostagePayer } from "./payer.js";
import { postageGrantOf, type PostageGrant } from "./PostageGrant.js";

export interface PostageOptions {
  /**
   * The wallet that pays for first messages to strangers who have granted nothing (an ethers 6 Signer connected to
   * a provider on the node's chain): it signs stamps and sends vault transactions. Without one, such a message is
   * refused with a PostageRequiredError.
   */
  payer?: PostagePayer;
  /** Never pay more than this per envelope (wei): a PostagePriceTooHighError instead. */
  maxPriceWei?: bigint;
  /**
   * Consent makes a relationship (docs/postage.md §3.3): when set, `client.contacts.allow(addresses)` also grants
   * each allowed address free first messages for this long, and sends the grant in the existing conversation with
   * it (as `xmtp-ts.org/postageGrant:1.0`). An address with no conversation yet gets none (use `postage.grant()`);
   * nothing is granted on a node with postage off.
   */
  grantOnAllow?: { expiresInMs: number };
}

/** The payer's channel with the node's operator, in wei. */
export interface PostageBalance {
  /** In the vault for this operator (chain state). */
  deposited: bigint;
  /** Already paid out to the operator (chain state). */
  redeemed: bigint;
  /** The payer's last voucher accepted by the node: everything owed so far, redeemed or not. */
  owed: bigint;
  /** What further stamps may still spend: deposited − max(owed, redeemed). */
  available: bigint;
  withdrawalPending: boolean;
  /** Chain time (seconds) from which `withdraw` pays out; 0 when no withdrawal is pending. */
  unlockAt: bigint;
}

/** A mined vault transaction. */
export interface VaultTransaction {
  hash: string;
  blockNumber: number;
}

export interface GrantOptions {
  /** How long from now the grant admits first messages. */
  expiresInMs: number;
}

export interface ClientPostageDeps {
  api: MessageApi;
  address: string;
  keys: Pick<UserKeys, "identityPrivateKey" | "signedBundle">;
  grants: GrantStore;
  payer?: PostagePayer;
}

export class ClientPostage {
  constructor(private readonly deps: ClientPostageDeps) {}

  /** Whether a payer is configured, so that writes to strangers can be paid. */
  get canPay(): boolean {
    return this.deps.payer !== undefined;
  }

  /** The node's terms, with the payer's standing when a payer is configured. */
  async quote(): Promise<PostageQuote> {
    const payer = this.deps.payer ? toChecksumAddress(await this.deps.payer.getAddress()) : undefined;
    return fetchPostageQuote(this.deps.api, payer);
  }

  /** Adds `wei` to the payer's channel with the node's operator (and cancels a pending withdrawal). */
  async deposit(wei: bigint): Promise<VaultTransaction> {
    if (typeof wei !== "bigint" || wei <= 0n) throw new RangeError(`deposit needs a positive bigint amount of wei, got ${String(wei)}`);
    const { vault, quote } = await this.vault("deposit");
    return mined(await vault.deposit(quote.operator, wei));
  }

  /** The payer's channel: chain state for the money, the node for what it has accepted. */
  async balance(): Promise<PostageBalance> {
    const { vault, quote, payer } = await this.vault("balance");
    const channel = await vault.channel(payer, quote.operator);
    const owed = quote.payer?.acceptedCumulativeWei ?? 0n;
    const spent = owed > channel.redeemed ? owed : channel.redeemed;
    return {
      deposited: channel.deposited,
      redeemed: channel.redeemed,
      owed,
      available: channel.deposited > spent ? channel.deposited - spent : 0n,
      withdrawalPending: channel.unlockAt !== 0n,
      unlockAt: channel.unlockAt,
    };
  }

  /** Starts the vault's withdrawal delay; nodes take no more stamps from this channel until a new deposit. */
  async requestWithdrawal(): Promise<VaultTransaction> {
    const { vault, quote } = await this.vault("requestWithdrawal");
    return mined(await vault.requestWithdrawal(quote.operator));
  }

  /** After the delay: pays what is deposited and not redeemed back to the payer. */
  async withdraw(): Promise<VaultTransaction> {
    const { vault, quote } = await this.vault("withdraw");
    return mined(await vault.withdraw(quote.operator));
  }

  /**
   * A grant letting `grantee` write first messages to us free until `expiresInMs` from now, on the node's postage
   * network. Signed with our identity key (no wallet prompt). Send its `bytes` or `base64` by any channel, or as
   * the `xmtp-ts.org/postageGrant:1.0` content inside a conversation.
   */
  async grant(grantee: string, options: GrantOptions): Promise<PostageGrant> {
    if (typeof grantee !== "string" || !isAddress(grantee)) throw new TypeError(`grantee must be an Ethereum address, got ${JSON.stringify(grantee)}`);
    const expiresInMs = options?.expiresInMs;
    if (typeof expiresInMs !== "number" || !Number.isSafeInteger(expiresInMs) || expiresInMs <= 0) {
      throw new RangeError(`expiresInMs must be a positive integer number of milliseconds, got ${String(expiresInMs)}`);
    }
    const quote = await this.requiredQuote("grant", undefined);
    const signed = makeRelationshipGrant({
      grantor: identityKeyMaterialOf(this.deps.keys),
      grantee: toChecksumAddress(grantee),
      expiresNs: BigInt(Date.now() + expiresInMs) * 1_000_000n,
      chainId: quote.chainId,
      vault: quote.vault,
    });
    return postageGrantOf(signed);
  }

  /**
   * Checks and keeps a grant someone gave us (bytes, base64 text, or a decoded grant content): writing to its
   * grantor is then free. Throws InvalidPostageGrantError when it is not for us, expired or forged.
   */
  acceptGrant(grant: Uint8Array | string | PostageGrant): PostageGrant {
    return this.deps.grants.accept(grant);
  }

  /** The grants kept (unexpired), for an app that stores them across sessions: hand them to `acceptGrant` again. */
  grants(): PostageGrant[] {
    return this.deps.grants.list();
  }

  forgetGrant(grantor: string): void {
    this.deps.grants.forget(grantor);
  }

  private async requiredQuote(action: string, payer: string | undefined): Promise<PostageRequiredQuote> {
    const quote = await fetchPostageQuote(this.deps.api, payer);
    if (quote.postage === "off") throw new PostageUnavailableError(action);
    return quote;
  }

  /** The vault of the node's network, as the payer, once the payer's provider is known to be on that chain. */
  private async vault(action: string): Promise<{ vault: PostageVaultClient; quote: PostageRequiredQuote; payer: string }> {
    const { payer } = this.deps;
    if (!payer) throw new PostagePayerMissingError(action);
    const address = toChecksumAddress(await payer.getAddress());
    const quote = await this.requiredQuote(action, address);
    const network = await payer.provider?.getNetwork();
    if (network && network.chainId !== quote.chainId) throw new PostageWrongChainError(network.chainId, quote.chainId);
    return { vault: new PostageVaultClient(quote.vault, payer), quote, payer: address };
  }
}

function mined(receipt: { hash: string; blockNumber: number }): VaultTransaction {
  return { hash: receipt.hash, blockNumber: receipt.blockNumber };
}
