// The relationship grants this client holds as grantee (docs/postage.md §3.3): wallets that said "write to me free
// until …". A grant is attached when writing to its grantor's reach topics. Every grant is checked before it is
// kept (named grantee is us, not expired, signed by an identity key of its grantor's wallet), since grants arrive
// from anyone: a forged one would only earn a refusal later, but it must not displace a genuine one.
import { toChecksumAddress } from "@xmtp-ts/crypto";
import { verifyRelationshipGrant, type GrantRefusalCode } from "@xmtp-ts/postage";
import { InvalidPostageGrantError, type InvalidPostageGrantReason } from "./errors.js";
import { postageGrantFromBytes, type PostageGrant } from "./PostageGrant.js";

/** Grants kept in all; beyond it the earliest stored goes (bounds what a flood of throwaway grantors can cost). */
export const MAX_STORED_GRANTS = 10_000;

const REASONS: Record<GrantRefusalCode, InvalidPostageGrantReason> = {
  grant_malformed: "malformed",
  grant_wrong_grantor: "malformed",
  grant_wrong_grantee: "not_for_us",
  grant_replayed_elsewhere: "malformed",
  grant_expired: "expired",
  grant_forged: "forged",
  grant_identity_not_grantor: "identity_not_grantor",
};

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export interface GrantNetwork {
  chainId: bigint;
  vault: string;
}

export class GrantStore {
  /** Per grantor, at most one grant per network: the one that lasts longest. */
  private readonly byGrantor = new Map<string, PostageGrant[]>();
  private count = 0;

  constructor(
    /** The grantee every stored grant must name: this client's wallet. */
    private readonly ownAddress: string,
    private readonly now: () => bigint = nowNs,
  ) {}

  /** Checks a grant received from any channel and keeps it; an InvalidPostageGrantError says why it is refused. */
  accept(input: Uint8Array | string | PostageGrant): PostageGrant {
    // A PostageGrant object is read again from its bytes: its other fields are only a view and could disagree.
    const grant = postageGrantFromBytes(typeof input === "object" && !(input instanceof Uint8Array) ? input?.bytes : input);
    if (grant.grantee !== this.ownAddress) {
      throw new InvalidPostageGrantError("not_for_us", `the grant is for ${grant.grantee}, not for this client's ${this.ownAddress}`);
    }
    // Checked as the node would check it for our write to the grantor's topic, on the grant's own network (which
    // network the node is on is the node's check; a grant for another one is kept and simply not accepted there).
    const check = verifyRelationshipGrant(grant.signed, {
      topicOwner: grant.grantor,
      writer: this.ownAddress,
      chainId: grant.chainId,
      vault: grant.vault,
      nowNs: this.now(),
    });
    if (!check.ok) throw new InvalidPostageGrantError(REASONS[check.code], check.reason);
    this.store(grant);
    return grant;
  }

  /**
   * Keeps a grant that arrived inside a message when it is for us and genuine; anything else is ignored, as the
   * message itself still shows it. Returns whether it was kept.
   */
  receive(grant: PostageGrant): boolean {
    if (grant.grantee !== this.ownAddress) return false; // our own grants, echoed back when we send them
    try {
      this.accept(grant);
      return true;
    } catch (err) {
      if (err instanceof InvalidPostageGrantError) return false;
      throw err;
    }
  }

  /** The unexpired grant from `grantor` that lasts longest, one on `network` first when given. */
  forGrantor(grantor: string, network?: GrantNetwork): PostageGrant | undefined {
    const grants = this.byGrantor.get(toChecksumAddress(grantor));
    if (!grants) return undefined;
    const now = this.now();
    const live = grants.filter((grant) => grant.expiresNs > now);
    const onNetwork = network ? live.filter((grant) => sameNetwork(grant, network)) : [];
    const candidates = onNetwork.length > 0 ? onNetwork : live;
    return candidates.reduce<PostageGrant | undefined>((best, grant) => (!best || grant.expiresNs > best.expiresNs ? grant : best), undefined);
  }

  /** Every grant kept and not expired, for an app that persists them (give them back to `accept` later). */
  list(): PostageGrant[] {
    const now = this.now();
    return [...this.byGrantor.values()].flat().filter((grant) => grant.expiresNs > now);
  }

  forget(grantor: string): void {
    const key = toChecksumAddress(grantor);
    this.count -= this.byGrantor.get(key)?.length ?? 0;
    this.byGrantor.delete(key);
  }

  private store(grant: PostageGrant): void {
    const now = this.now();
    const kept = (this.byGrantor.get(grant.grantor) ?? []).filter((g) => g.expiresNs > now);
    const same = kept.findIndex((g) => sameNetwork(g, grant));
    if (same >= 0) {
      if (kept[same].expiresNs >= grant.expiresNs) return this.replace(grant.grantor, kept);
      kept[same] = grant;
    } else {
      kept.push(grant);
    }
    this.replace(grant.grantor, kept);
    while (this.count > MAX_STORED_GRANTS) this.forget(this.byGrantor.keys().next().value!);
  }

  private replace(grantor: string, grants: PostageGrant[]): void {
    this.count += grants.length - (this.byGrantor.get(grantor)?.length ?? 0);
    // Re-inserting moves the grantor to the end: the eviction order is the order grantors were last granted.
    this.byGrantor.delete(grantor);
    if (grants.length > 0) this.byGrantor.set(grantor, grants);
  }
}

function sameNetwork(a: GrantNetwork, b: GrantNetwork): boolean {
  return a.chainId === b.chainId && toChecksumAddress(a.vault) === toChecksumAddress(b.vault);
}
