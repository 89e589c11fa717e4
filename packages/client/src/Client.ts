// The client: an identity (keys found on, or created and stored on, the network), its contact published, and the
// conversations, contacts and consent built on it. The API mirrors the public SDK's so apps port by changing imports.
import { XmtpClientError } from "./errors/XmtpClientError.js";
import { encodePrivateKeyBundle, KeyBundleVerifier, X3dhSecretCache, type UserKeys } from "@xmtp-ts/crypto";
import type { PublicKeyBundle, SignedPublicKeyBundle } from "@xmtp-ts/proto";
import { HttpMessageApi, type MessageApi, type SubscribeOptions } from "./api/index.js";
import { CodecRegistry, decodeContent, encodeContentPayload, type AnyContentCodec, type ContentTypeIdShape, type DecodedContent, type EncodeContentOptions } from "./content/index.js";
import { ConsentList } from "./contacts/Consent.js";
import { ContactBook, normalizeAddress, type Contact } from "./contacts/ContactBook.js";
import { Contacts } from "./contacts/Contacts.js";
import type { ClientContext } from "./context.js";
import { Conversations } from "./conversations/Conversations.js";
import { ContentTypePostageGrant, PostageGrantCodec } from "./content/PostageGrantCodec.js";
import { ClientPostage, type PostageOptions } from "./postage/ClientPostage.js";
import { GrantStore } from "./postage/GrantStore.js";
import { fetchPostageQuote, nodeKeyOf } from "./postage/nodeQuote.js";
import { PriorContacts } from "./postage/PriorContacts.js";
import { ReachPublisher } from "./postage/ReachPublisher.js";
import { Stamper } from "./postage/Stamper.js";
import { authTokenProvider } from "./keys/authTokens.js";
import { importKeys, loadOrCreateKeys } from "./keys/loadKeys.js";
import { toWalletSigner, type AnySigner } from "./signer.js";
import type { SubscriptionTuning } from "./streams/ResumableSubscription.js";
import type { InboxStore } from "./storage/InboxStore.js";
import { checkDbEncryptionKey, databaseKeyOf, openInboxStore } from "./storage/openInboxStore.js";
import type { InvitationOpener } from "./workers/invitationOpener.js";
import { sharedInvitationPool } from "./workers/InvitationPool.js";
import type { NameResolver } from "./names/NameResolver.js";
import { resolvePeer } from "./names/resolvePeer.js";

export type XmtpEnv = "local" | "dev" | "production";

/** Where each `env` points when no `apiUrl` is given (as in the public SDK). */
export const ApiUrls: Record<XmtpEnv, string> = {
  local: "http://localhost:5555",
  dev: "https://dev.xmtp.network",
  production: "https://production.xmtp.network",
};

export interface NetworkOptions {
  /** The node's base URL; overrides `env`. */
  apiUrl?: string;
  /** Defaults to "dev", as in the public SDK. */
  env?: XmtpEnv;
  /** Sent to the node as X-App-Version. */
  appVersion?: string;
  /** A MessageApi to use instead of HTTP (tests, custom transports). */
  api?: MessageApi;
}

export interface ClientOptions extends NetworkOptions {
  /** Publish only the legacy (v1) contact bundle: peers then start v1 conversations with this client. */
  publishLegacyContact?: boolean;
  /** Do not check or publish this client's contact bundle. */
  skipContactPublishing?: boolean;
  /** Keys exported with `exportKeyBundle()` (or the SDK's `Client.getKeys`): no wallet signature needed. */
  privateKeyOverride?: Uint8Array;
  /** Extra content codecs (text is built in). */
  codecs?: AnyContentCodec[];
  /** Subscription tuning passed to every stream (SubscriptionTuning: stall timeout, reconnect delays, maxTopicsPerStream, …). */
  subscribeOptions?: Omit<SubscribeOptions & SubscriptionTuning, "onConnectionLost" | "signal">;
  /**
   * Open big batches of invitations (cold listings) on workers, started in the background by `create`: worker
   * threads in Node.js, Web Workers in browsers (bundlers find their entry; they run the page's secp256k1, e.g.
   * libsecp256k1 once loaded with `useWasmSecp256k1`, and leave the page's thread to the UI). One per core, at
   * most 3, none on one core; where workers cannot start or fail, the calling thread opens them. Default true.
   */
  parallelInvitations?: boolean;
  /**
   * Paying for first messages to strangers on nodes that charge (docs/postage.md). Without it the client still
   * seals its invitations and intros and uses grants and prior contacts, which is all a free first message needs.
   */
  postage?: PostageOptions;
  /**
   * Keep the inbox in an encrypted local database between runs: a file path in Node.js, an IndexedDB database name
   * in browsers. It stores conversations with their keys, consent, decrypted messages and sync cursors, so a warm
   * start asks the node only for what is newer. One database per identity and network.
   */
  dbPath?: string;
  /**
   * The database key (at least 32 random bytes). Default: derived from the identity's private key. With it, the
   * keys are stored too, so a later `create` with the same dbPath and key needs no signature and no network.
   */
  dbEncryptionKey?: Uint8Array;
  /**
   * Lets `newConversation` and `canMessage` take names (anything that is not a 0x address), e.g.
   * `new EnsNameResolver({ rpcUrl })`. Without it a name is refused with NoNameResolverError.
   */
  nameResolver?: NameResolver;
}

export class ClientError extends XmtpClientError {
  readonly code = "invalid_client_options";
  constructor(message: string) {
    super(message);
    this.name = "ClientError";
  }
}

function apiUrlOf(options: NetworkOptions): string {
  if (options.apiUrl) return options.apiUrl;
  const env = options.env ?? "dev";
  const url = ApiUrls[env];
  if (!url) throw new ClientError(`unknown env ${JSON.stringify(env)}: use "local", "dev" or "production", or pass apiUrl`);
  return url;
}

/** What a store is bound to: the node's URL, or the custom transport. */
function networkOf(options: NetworkOptions): string {
  return options.api ? (options.apiUrl ?? "a custom MessageApi") : apiUrlOf(options);
}

function apiOf(options: NetworkOptions): MessageApi {
  return options.api ?? new HttpMessageApi({ apiUrl: apiUrlOf(options), appVersion: options.appVersion });
}

function withTokens(api: MessageApi, keys: UserKeys): void {
  if (api instanceof HttpMessageApi) api.setAuthTokenProvider(authTokenProvider(keys));
  else (api as { setAuthTokenProvider?: (p: unknown) => void }).setAuthTokenProvider?.(authTokenProvider(keys));
}

export class Client implements ClientContext {
  readonly address: string;
  readonly keys: UserKeys;
  readonly api: MessageApi;
  readonly codecs: CodecRegistry;
  readonly caches = { verifier: new KeyBundleVerifier(), secrets: new X3dhSecretCache() };
  readonly contactBook: ContactBook;
  readonly consent: ConsentList;
  readonly introducedPeers = new Set<string>();
  readonly conversations: Conversations;
  readonly contacts: Contacts;
  readonly subscribeOptions?: ClientOptions["subscribeOptions"];
  readonly invitationPool?: Promise<InvitationOpener>;
  readonly priorContacts = new PriorContacts();
  readonly postageGrants: GrantStore;
  readonly reachPublisher: ReachPublisher;
  /** Postage: the node's terms, the payer's vault channel, relationship grants (docs/postage.md). */
  readonly postage: ClientPostage;

  readonly store?: InboxStore;
  /** Turns names into addresses for `newConversation` and `canMessage` (the `nameResolver` option). */
  readonly nameResolver?: NameResolver;

  private constructor(keys: UserKeys, api: MessageApi, options: ClientOptions, store?: InboxStore) {
    this.keys = keys;
    this.store = store;
    this.nameResolver = options.nameResolver;
    this.address = keys.walletAddress;
    this.api = api;
    // The grant codec comes first so that an app's own codec for the same type replaces it.
    this.codecs = new CodecRegistry([new PostageGrantCodec(), ...(options.codecs ?? [])]);
    const { payer, maxPriceWei } = options.postage ?? {};
    this.postageGrants = new GrantStore(this.address);
    const stamper = payer
      ? new Stamper({ payer, maxPriceWei, nodeKey: nodeKeyOf(api), quote: (address) => fetchPostageQuote(api, address) })
      : undefined;
    this.reachPublisher = new ReachPublisher({
      api,
      address: this.address,
      keys,
      priorContacts: this.priorContacts,
      grants: this.postageGrants,
      stamper,
    });
    this.postage = new ClientPostage({ api, address: this.address, keys, grants: this.postageGrants, payer });
    this.subscribeOptions = options.subscribeOptions;
    if (options.parallelInvitations !== false) this.invitationPool = sharedInvitationPool();
    this.contactBook = new ContactBook(api, this.caches.verifier);
    this.consent = new ConsentList(api, keys, store);
    this.conversations = new Conversations(this);
    const grantOnAllow = options.postage?.grantOnAllow;
    this.contacts = new Contacts(
      this.consent,
      this.contactBook,
      this.introducedPeers,
      grantOnAllow && ((addresses) => this.sendGrants(addresses, grantOnAllow.expiresInMs)),
    );
  }

  /** Grants each address free first messages and sends the grant in the conversation with it (see grantOnAllow). */
  private async sendGrants(addresses: string[], expiresInMs: number): Promise<void> {
    if ((await this.postage.quote()).postage !== "required") return;
    const wanted = new Set(addresses.map((a) => a.toLowerCase()));
    const conversations = (await this.conversations.list()).filter((c) => wanted.has(c.peerAddress.toLowerCase()));
    const sentTo = new Set<string>();
    for (const conversation of conversations) {
      const peer = conversation.peerAddress.toLowerCase();
      if (sentTo.has(peer)) continue;
      sentTo.add(peer);
      const grant = await this.postage.grant(conversation.peerAddress, { expiresInMs });
      await conversation.send(grant, { contentType: ContentTypePostageGrant });
    }
  }

  /**
   * Connects a wallet: loads its keys from the network (one signature) or creates and stores new ones (two), then
   * publishes its contact if needed. With `privateKeyOverride` the signer may be null.
   */
  static async create(signer: AnySigner | null, options: ClientOptions = {}): Promise<Client> {
    // Worker threads load while the keys are fetched, so the first listing finds them ready. Not with a database:
    // a warm start opens few invitations, and starting threads would only slow it (they start when a batch needs them).
    if (options.parallelInvitations !== false && options.dbPath === undefined) {
      void sharedInvitationPool()
        .then((pool) => pool.warmUp())
        .catch(() => undefined);
    }
    const api = apiOf(options);
    let store: InboxStore | undefined;
    let keys: UserKeys | undefined;
    let keysStored = false;
    try {
      if (options.dbPath !== undefined && options.dbEncryptionKey !== undefined) {
        store = await openInboxStore(options.dbPath, checkDbEncryptionKey(options.dbEncryptionKey), networkOf(options));
        const stored = await store.loadKeys();
        keysStored = stored !== undefined;
        if (stored && !options.privateKeyOverride) {
          const wallet = signer ? await toWalletSigner(signer) : undefined;
          keys = importKeys(stored, wallet?.address);
          withTokens(api, keys);
        }
      }
      if (!keys && options.privateKeyOverride) {
        const wallet = signer ? await toWalletSigner(signer) : undefined;
        keys = importKeys(options.privateKeyOverride, wallet?.address);
        withTokens(api, keys);
      } else if (!keys) {
        if (!signer) throw new ClientError("a signer is required unless privateKeyOverride is given (or keys stored with dbEncryptionKey)");
        const wallet = await toWalletSigner(signer);
        keys = (await loadOrCreateKeys(api, wallet, (loaded) => withTokens(api, loaded))).keys;
      }
      if (store) {
        if (!keysStored) await store.saveKeys(encodePrivateKeyBundle(keys.bundle));
      } else if (options.dbPath !== undefined) {
        store = await openInboxStore(options.dbPath, await databaseKeyOf(keys), networkOf(options));
      }
    } catch (error) {
      await store?.close();
      throw error;
    }
    const client = new Client(keys, api, options, store);
    if (!options.skipContactPublishing) await client.contactBook.publishOwn(keys, options.publishLegacyContact === true);
    return client;
  }

  /** The keys of a wallet in the SDK's export format, for `privateKeyOverride` later. */
  static async getKeys(signer: AnySigner, options: ClientOptions = {}): Promise<Uint8Array> {
    const client = await Client.create(signer, { ...options, skipContactPublishing: true });
    return client.exportKeyBundle();
  }

  /**
   * Whether `peer` (or each of `peers`) can be messaged, without a client or keys. Names need
   * `options.nameResolver`; a name that resolves nowhere throws NameNotFoundError.
   */
  static async canMessage(peer: string, options?: NetworkOptions & { nameResolver?: NameResolver }): Promise<boolean>;
  static async canMessage(peers: string[], options?: NetworkOptions & { nameResolver?: NameResolver }): Promise<boolean[]>;
  static async canMessage(
    peer: string | string[],
    options: NetworkOptions & { nameResolver?: NameResolver } = {},
  ): Promise<boolean | boolean[]> {
    const book = new ContactBook(apiOf(options), new KeyBundleVerifier());
    if (Array.isArray(peer)) return book.canMessage(await Promise.all(peer.map((p) => resolvePeer(p, options.nameResolver))));
    return (await book.get(await resolvePeer(peer, options.nameResolver))) !== undefined;
  }

  /** Whether `peer` (an address, or a name with `nameResolver`), or each of `peers`, can be messaged. */
  async canMessage(peer: string): Promise<boolean>;
  async canMessage(peers: string[]): Promise<boolean[]>;
  async canMessage(peer: string | string[]): Promise<boolean | boolean[]> {
    if (Array.isArray(peer)) return this.contactBook.canMessage(await Promise.all(peer.map((p) => resolvePeer(p, this.nameResolver))));
    return (await this.contactBook.get(await resolvePeer(peer, this.nameResolver))) !== undefined;
  }

  /** `PrivateKeyBundle` v1 bytes, readable by the public SDK too. Keep them secret. */
  exportKeyBundle(): Uint8Array {
    return encodePrivateKeyBundle(this.keys.bundle);
  }

  get publicKeyBundle(): PublicKeyBundle {
    return this.keys.publicBundle;
  }

  get signedPublicKeyBundle(): SignedPublicKeyBundle {
    return this.keys.signedBundle;
  }

  /** A peer's verified contact bundle (cached), or undefined when it has none. */
  getUserContact(peerAddress: string): Promise<Contact | undefined> {
    return this.contactBook.get(normalizeAddress(peerAddress));
  }

  forgetContact(peerAddress: string): void {
    this.contactBook.forget(peerAddress);
  }

  registerCodec(codec: AnyContentCodec): void {
    this.codecs.register(codec);
  }

  codecFor(contentType: ContentTypeIdShape): AnyContentCodec | undefined {
    return this.codecs.codecFor(contentType);
  }

  encodeContent(content: unknown, options: EncodeContentOptions = {}): Promise<{ payload: Uint8Array; shouldPush: boolean }> {
    return encodeContentPayload(content, options, this.codecs);
  }

  decodeContent(bytes: Uint8Array): Promise<DecodedContent> {
    return decodeContent(bytes, this.codecs);
  }

  /** Closes the local database, if any (streams end with their own `return()`). */
  async close(): Promise<void> {
    await this.store?.close();
  }
}
