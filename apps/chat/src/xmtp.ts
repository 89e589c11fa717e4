// The slice of @xmtp-ts/client the app uses, and plain-language explanations of what can go wrong.
import { Client, PostageRequiredError, type PostageGrant, type PostageQuote } from "@xmtp-ts/client";
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";
import { explainPostageRefusal, type PostageRefusalInput } from "./postage.js";
import type { WalletSigner } from "./wallets.js";

export interface ChatMessage {
  id: string;
  senderAddress: string;
  sent: Date;
  content: unknown;
  contentFallback?: string;
  error?: unknown;
  conversation?: ChatConversation;
}

export interface ChatConversation {
  peerAddress: string;
  topic: string;
  createdAt: Date;
  context?: { conversationId: string } | null;
  send(text: string): Promise<ChatMessage>;
  messages(options?: { limit?: number; direction?: "ascending" | "descending" }): Promise<ChatMessage[]>;
}

export interface ChatStream<T> extends AsyncIterable<T> {
  return(value?: unknown): Promise<unknown>;
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
  conversations: {
    /** Syncs with the node: what the inbox database holds plus what is newer. */
    list(): Promise<ChatConversation[]>;
    /** What the inbox database holds, without the network. */
    listStored(): Promise<ChatConversation[]>;
    newConversation(peerAddress: string): Promise<ChatConversation>;
    stream(onConnectionLost?: (error: unknown) => void): Promise<ChatStream<ChatConversation>>;
    streamAllMessages(onConnectionLost?: (error: unknown) => void): Promise<ChatStream<ChatMessage>>;
  };
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
export async function createChatClient(signer: WalletSigner, apiUrl: string): Promise<ChatClient> {
  const options = { apiUrl, appVersion: "xmtp-ts-chat/0.1.0" };
  const dbPath = inboxDatabaseName(await signer.getAddress(), apiUrl);
  try {
    return await Client.create(signer, { ...options, dbPath });
  } catch (error) {
    if (!(error instanceof Error && DATABASE_ERROR_NAMES.test(error.name))) throw error;
    console.warn(`XMTP chat: the inbox database ${dbPath} cannot be used; going on without it.`, error);
    return Client.create(signer, options);
  }
}

/** Resolves when the node answers a query (a bare contact lookup); rejects while it cannot be reached. */
export async function nodeAnswers(address: string, apiUrl: string): Promise<void> {
  await Client.canMessage(address, { apiUrl });
}

/** A checksummed address, or an Error saying why the input is not one. */
export function parsePeerAddress(input: string): string {
  const value = input.trim();
  if (!isAddress(value)) {
    throw new Error(`"${value}" is not an Ethereum address. It should look like 0x followed by 40 hex digits.`);
  }
  const checksummed = toChecksumAddress(value);
  const body = value.slice(2);
  if (body !== body.toLowerCase() && body !== body.toUpperCase() && checksummed !== value) {
    throw new Error(`${value} has a wrong checksum (mixed upper and lower case that does not match). Check for a typo.`);
  }
  return checksummed;
}

function chain(error: unknown): unknown[] {
  const links: unknown[] = [];
  for (let e = error; e != null && links.length < 10 && !links.includes(e); e = (e as { cause?: unknown }).cause) {
    links.push(e);
  }
  return links;
}

/** The postage refusal (HTTP 402, a PostageRequiredError) in `error` or its causes; undefined for anything else. */
export function postageRefusalOf(error: unknown): PostageRefusalInput | undefined {
  const found = chain(error).find(
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
  const links = chain(error);
  const networkFailure = links.some(
    (e) =>
      (e as { code?: unknown }).code === 14 ||
      (e instanceof TypeError && /fetch|network|load failed/i.test(e.message)),
  );
  if (networkFailure) {
    return `Cannot reach the XMTP node at ${apiUrl}. Is it running? (Start one with "npm start".)`;
  }
  const grpc = links.find((e) => {
    const code = (e as { code?: unknown }).code;
    return typeof code === "number" && code > 0 && code <= 16;
  }) as
    | { code: number; serverMessage?: string; message: string }
    | undefined;
  if (grpc?.code === 7) return `The node refused: ${grpc.serverMessage ?? grpc.message}`;
  if (grpc?.code === 8) return `The node is rate limiting you; wait a moment and try again. (${grpc.serverMessage ?? grpc.message})`;
  if (grpc) return `The node answered with an error: ${grpc.serverMessage ?? grpc.message}`;
  return error instanceof Error ? error.message : String(error);
}
