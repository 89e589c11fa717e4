// The slice of @xmtp-ts/client the commands use, and the mapping from its messages to what the CLI prints.
import type {
  ContentTypeIdShape,
  ConversationShape,
  ConversationsShape,
  DecodedMessageShape,
  ExportProgress,
  ImportProgress,
  ImportReport,
  PostageBalance,
  PostageGrant,
  PostageQuote,
  VaultTransaction,
} from "@xmtp-ts/client";
import type { ConversationView, MessageView } from "./format.js";
import type { WalletIdentity } from "./identity.js";

/** A message and a conversation as the commands use them: the client's own shapes. */
export type ChatMessage = DecodedMessageShape;
export type ChatConversation = ConversationShape;

/** The account that pays postage: its key (from XMTP_PAYER_KEY) and, for vault transactions, its chain's RPC. */
export interface PayerConfig {
  /** 0x + 64 hex digits. */
  privateKey: string;
  /** Needed for deposits, balances and withdrawals; a stamp is only a signature and needs no chain. */
  rpcUrl?: string;
  /** Never pay more than this per message. */
  maxPriceWei?: bigint;
}

export interface ConnectOptions {
  /** Pays postage for first messages to strangers, and makes the vault transactions. */
  payer?: PayerConfig;
  /** Keep the inbox in this encrypted database between commands. */
  dbPath?: string;
}

/** `client.postage`, as the CLI uses it (docs/postage.md). */
export interface ChatPostage {
  /** Whether a payer is configured (XMTP_PAYER_KEY). */
  readonly canPay: boolean;
  quote(): Promise<PostageQuote>;
  deposit(wei: bigint): Promise<VaultTransaction>;
  balance(): Promise<PostageBalance>;
  requestWithdrawal(): Promise<VaultTransaction>;
  /** `amountWei`: what the vault paid out, when the transaction's Withdrawn event could be read. */
  withdraw(): Promise<VaultTransaction & { amountWei?: bigint }>;
  grant(grantee: string, options: { expiresInMs: number }): Promise<PostageGrant>;
  acceptGrant(grant: string): PostageGrant;
  grants(): PostageGrant[];
}

export interface ChatClient {
  address: string;
  postage: ChatPostage;
  canMessage(peerAddress: string): Promise<boolean>;
  conversations: ConversationsShape;
}

/** An inbox archive opened offline: its owner and its conversations (read-only). */
export interface ArchiveReader {
  address: string;
  createdAt: Date;
  conversations: Pick<ConversationsShape, "list">;
}

/** Inbox archives (docs/storage.md §7), as `xmtp export`, `xmtp import` and `xmtp read --archive` use them. */
export interface ArchiveIo {
  /** Connects as the wallet and returns the archive of its inbox on that node. */
  exportInbox(identity: WalletIdentity, apiUrl: string, options: { dbPath?: string; onProgress?: (p: ExportProgress) => void }): Promise<Uint8Array>;
  /**
   * Republishes the archive to the node, with the keys it carries (opened with the wallet's signature), so that a
   * node that has never seen the wallet gets its keys from the archive rather than new ones.
   */
  importInbox(identity: WalletIdentity, apiUrl: string, archive: Uint8Array, options: { onProgress?: (p: ImportProgress) => void }): Promise<ImportReport>;
  /** Opens the archive offline with the wallet (no node). */
  openArchive(identity: WalletIdentity, archive: Uint8Array): Promise<ArchiveReader>;
}

function contentTypeName(type: ContentTypeIdShape | undefined): string {
  if (!type) return "unknown";
  return `${type.authorityId}/${type.typeId}:${type.versionMajor}.${type.versionMinor}`;
}

function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  return error instanceof Error ? error.message : String(error);
}

export function toMessageView(message: ChatMessage, conversation: ChatConversation | undefined): MessageView {
  const owner = conversation ?? message.conversation;
  return {
    id: message.id,
    conversationTopic: owner?.topic ?? message.contentTopic ?? "",
    peerAddress: owner?.peerAddress ?? "",
    senderAddress: message.senderAddress,
    sent: message.sent,
    text: typeof message.content === "string" ? message.content : undefined,
    contentType: contentTypeName(message.contentType),
    ...(message.contentFallback !== undefined ? { fallback: message.contentFallback } : {}),
    ...(errorText(message.error) !== undefined ? { error: errorText(message.error) } : {}),
  };
}

export function toConversationView(conversation: ChatConversation, latest: ChatMessage | undefined): ConversationView {
  return {
    peerAddress: conversation.peerAddress,
    topic: conversation.topic,
    version: conversation.conversationVersion ?? "v2",
    createdAt: conversation.createdAt,
    ...(conversation.context?.conversationId ? { conversationId: conversation.context.conversationId } : {}),
    ...(latest ? { latestMessage: toMessageView(latest, conversation) } : {}),
  };
}
