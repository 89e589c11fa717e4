// The slice of @xmtp-ts/client the app uses, and plain-language explanations of what can go wrong.
import {
  causeChain,
  checkAddressInput,
  Client,
  NotificationTopicKeeper,
  type InstallationCredentials,
  type NotifyApi,
  type TopicKeeperOptions,
  GrpcCode,
  grpcCodeOf,
  grpcStatusOf,
  PostageRequiredError,
  ContentTypeReaction,
  ContentTypeReply,
  ContentTypeText,
  ReactionCodec,
  ReplyCodec,
  type ConversationShape,
  type ConversationsShape,
  type DecodedMessageShape,
  type MessageStreamShape,
  type PostageGrant,
  type PostageQuote,
} from "@xmtp-ts/client";
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";
import { explainPostageRefusal, type PostageRefusalInput } from "./postage.js";
import type { WalletSigner } from "./wallets.js";

/** A message, a conversation and a live stream as the app uses them: the client's own shapes. */
export type ChatMessage = DecodedMessageShape;
export type ChatConversation = ConversationShape;
export type ChatStream<T> = MessageStreamShape<T>;

/** A consent list entry as streamed (the client's PrivatePreferencesAction): the addresses it allows or denies. */
export interface ConsentAction {
  messageType: { case: string | undefined; value?: unknown };
}

/** The addresses a consent entry is about. */
export function consentActionAddresses(action: ConsentAction): string[] {
  const { messageType } = action;
  if (messageType.case !== "allowAddress" && messageType.case !== "denyAddress") return [];
  const addresses = (messageType.value as { walletAddresses?: unknown } | undefined)?.walletAddresses;
  if (!Array.isArray(addresses)) return [];
  // Checksummed, as the list and conversations write them.
  return addresses.filter((a): a is string => typeof a === "string" && isAddress(a)).map((a) => toChecksumAddress(a));
}

export interface ChatClient {
  address: string;
  canMessage(peerAddress: string): Promise<boolean>;
  /** Wallets whose invitation or intro to us we opened: writing back to them is free on a node that charges. */
  priorContacts: { has(address: string): boolean };
  /** The node's postage terms and the relationship grants we hold (the app has no payer: it never pays). */
  postage: {
    quote(): Promise<PostageQuote>;
    grants(): PostageGrant[];
    acceptGrant(grant: string): PostageGrant;
  };
  conversations: ConversationsShape & {
    /** What the inbox database holds, without the network. */
    listStored(): Promise<ChatConversation[]>;
    stream(onConnectionLost?: (error: unknown) => void): Promise<ChatStream<ChatConversation>>;
  };
  /** The wallet's consent list, shared with its other installations through the network. */
  contacts: {
    consentState(address: string): "allowed" | "denied" | "unknown";
    allow(addresses: string[]): Promise<void>;
    deny(addresses: string[]): Promise<void>;
    loadConsentList(): Promise<{ address: string; state: "allowed" | "denied" }[]>;
    /** Entries as they are published, by any installation; applied to the list before they are handed over. */
    streamConsentList(onConnectionLost?: (error: unknown) => void): Promise<ChatStream<ConsentAction>>;
  };
  /** The XMTP keys, for `privateKeyOverride` on a later visit (a browser wallet then signs nothing). */
  exportKeyBundle(): Uint8Array;
  /** Closes the inbox database. */
  close(): Promise<void>;
}

/**
 * The IndexedDB database that keeps a wallet's inbox on one node between visits. One per wallet and node: the
 * client refuses a database of another network, and its key comes from the wallet's XMTP identity.
 */
export function inboxDatabaseName(address: string, apiUrl: string): string {
  return `xmtp-inbox:${address}:${apiUrl}`;
}

const DATABASE_ERROR_NAMES = /^(LocalDatabase\w*Error|InboxStoreError)$/;

/**
 * Loads the wallet's XMTP keys from the node, or creates and registers them (the wallet signs once or twice), and
 * opens the wallet's inbox database. The database is only a cache of the network: if it cannot be opened (storage
 * blocked, corrupt, written by a newer app), the app goes on without it, as it did before it had one; a browser
 * wallet then signs once more.
 */
export async function createChatClient(signer: WalletSigner, apiUrl: string, savedKeys?: Uint8Array): Promise<ChatClient> {
  // With keys saved from an earlier visit the wallet signs nothing.
  const options = {
    apiUrl,
    appVersion: "xmtp-ts-chat/0.1.0",
    // Reactions and replies in the public content types: interoperable with public-SDK apps.
    codecs: [new ReactionCodec(), new ReplyCodec()],
    ...(savedKeys ? { privateKeyOverride: savedKeys } : {}),
  };
  const dbPath = inboxDatabaseName(await signer.getAddress(), apiUrl);
  try {
    return await Client.create(signer, { ...options, dbPath });
  } catch (error) {
    if (!(error instanceof Error && DATABASE_ERROR_NAMES.test(error.name))) throw error;
    console.warn(`XMTP chat: the inbox database ${dbPath} cannot be used; going on without it.`, error);
    return Client.create(signer, options);
  }
}

/** What the app uses of the client's NotificationTopicKeeper. */
export interface TopicKeeper {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  readonly topics: string[];
}

/**
 * Keeps a notification installation's topics in step with the inbox (the client's NotificationTopicKeeper). It
 * needs the whole Client, not the slice above: createChatClient made one, so the cast only undoes that narrowing.
 */
export function topicKeeper(client: ChatClient, api: NotifyApi, installation: InstallationCredentials, options: TopicKeeperOptions): TopicKeeper {
  return new NotificationTopicKeeper(client as unknown as Client, api, installation, options);
}

/** Sends a reaction (`emoji` added or taken back) to the message `reference`. */
export function sendReaction(conversation: ChatConversation, reference: string, emoji: string, action: "added" | "removed"): Promise<ChatMessage> {
  return conversation.send({ reference, action, schema: "unicode", content: emoji }, { contentType: ContentTypeReaction });
}

/** Sends `text` as a reply quoting the message `reference`; plain text without one. */
export function sendText(conversation: ChatConversation, text: string, reference?: string): Promise<ChatMessage> {
  if (!reference) return conversation.send(text);
  return conversation.send({ reference, contentType: ContentTypeText, content: text }, { contentType: ContentTypeReply });
}

/** Resolves when the node answers a query (a bare contact lookup); rejects while it cannot be reached. */
export async function nodeAnswers(address: string, apiUrl: string): Promise<void> {
  await Client.canMessage(address, { apiUrl });
}

/** A checksummed address, or an Error saying why the input is not one. */
export function parsePeerAddress(input: string): string {
  const check = checkAddressInput(input);
  if (check.ok) return check.address;
  if (check.problem === "not_an_address") {
    throw new Error(`"${check.input}" is not an Ethereum address. It should look like 0x followed by 40 hex digits.`);
  }
  throw new Error(`${check.input} has a wrong checksum (mixed upper and lower case that does not match). Check for a typo.`);
}

/** The postage refusal (HTTP 402, a PostageRequiredError) in `error` or its causes; undefined for anything else. */
export function postageRefusalOf(error: unknown): PostageRefusalInput | undefined {
  const found = causeChain(error).find(
    (e) => e instanceof PostageRequiredError || (e instanceof Error && (e as { code?: unknown }).code === "postage_required"),
  ) as PostageRequiredError | undefined;
  if (!found) return undefined;
  return {
    recipients: Array.isArray(found.recipients) ? found.recipients : [],
    serverMessage: typeof found.serverMessage === "string" ? found.serverMessage : found.message,
    quote: found.quote,
    attempted: Array.isArray(found.attempted) ? found.attempted : [],
  };
}

/** What went wrong, in words a person can act on. */
export function explainError(error: unknown, apiUrl: string): string {
  // The wallet's own errors already say what happened (declined, pending request...).
  if (error instanceof Error && error.name === "WalletError") return error.message;
  // Before the gRPC codes: a postage refusal is also FAILED_PRECONDITION underneath, which says nothing to a person.
  const refusal = postageRefusalOf(error);
  if (refusal) return explainPostageRefusal(refusal);
  const networkFailure = causeChain(error).some(
    (e) =>
      grpcCodeOf(e) === GrpcCode.UNAVAILABLE || (e instanceof TypeError && /fetch|network|load failed/i.test(e.message)),
  );
  if (networkFailure) {
    return `Cannot reach the XMTP node at ${apiUrl}. Is it running? (Start one with "npm start".)`;
  }
  // The node's own words (ApiError's serverMessage) when it answered with a gRPC status.
  const grpc = grpcStatusOf(error);
  if (grpc?.code === GrpcCode.PERMISSION_DENIED) return `The node refused: ${grpc.message}`;
  if (grpc?.code === GrpcCode.RESOURCE_EXHAUSTED) {
    return `The node is rate limiting you; wait a moment and try again. (${grpc.message})`;
  }
  if (grpc) return `The node answered with an error: ${grpc.message}`;
  return error instanceof Error ? error.message : String(error);
}
