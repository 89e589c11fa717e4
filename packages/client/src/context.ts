import type { CryptoCaches, UserKeys } from "@xmtp-ts/crypto";
import type { MessageApi, SubscribeOptions } from "./api/index.js";
import type { CodecRegistry } from "./content/index.js";
import type { ContactBook } from "./contacts/ContactBook.js";
import type { ConsentList } from "./contacts/Consent.js";
import type { GrantStore } from "./postage/GrantStore.js";
import type { PriorContacts } from "./postage/PriorContacts.js";
import type { ReachPublisher } from "./postage/ReachPublisher.js";
import type { SubscriptionTuning } from "./streams/ResumableSubscription.js";
import type { InboxStore } from "./storage/InboxStore.js";
import type { InvitationOpener } from "./workers/invitationOpener.js";
import type { NameResolver } from "./names/NameResolver.js";

/** What conversations need from their client; the Client provides it (kept separate to avoid import cycles). */
export interface ClientContext {
  readonly address: string;
  readonly keys: UserKeys;
  readonly api: MessageApi;
  readonly codecs: CodecRegistry;
  readonly caches: Required<CryptoCaches>;
  readonly contactBook: ContactBook;
  readonly consent: ConsentList;
  /** Peers this client instance already sent a v1 intro to (the first v1 send publishes to both intro topics). */
  readonly introducedPeers: Set<string>;
  readonly subscribeOptions?: Omit<SubscribeOptions & SubscriptionTuning, "onConnectionLost" | "signal">;
  /** Where big batches of invitations are opened (worker threads in Node.js, Web Workers in browsers); undefined: in this thread. */
  readonly invitationPool?: Promise<InvitationOpener>;
  /** Publishes writes to other wallets' reach topics (invitations, v1 intros) with postage proofs. */
  readonly reachPublisher: ReachPublisher;
  /** Wallets whose invitation or intro to us we opened: writing back to them claims a prior contact. */
  readonly priorContacts: PriorContacts;
  /** Relationship grants received; grants arriving as message content are kept here. */
  readonly postageGrants: GrantStore;
  /** Where the inbox persists between runs (`dbPath`); undefined: memory only. */
  readonly store?: InboxStore;
  /** Turns names given as peers into addresses; undefined: only addresses are accepted. */
  readonly nameResolver?: NameResolver;
}
