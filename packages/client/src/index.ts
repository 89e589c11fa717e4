export { Client, ClientError, ApiUrls, type ClientOptions, type NetworkOptions, type XmtpEnv } from "./Client.js";
export { toWalletSigner, SignerError, type AnySigner, type Signer, type WalletSigner, type ViemLocalAccountLike, type ViemWalletClientLike } from "./signer.js";
export { Conversations, ConversationError, type InvitationContextInput } from "./conversations/Conversations.js";
export {
  ConversationV1,
  ConversationV2,
  SortDirection,
  type Conversation,
  type ConversationContext,
  type ListMessagesOptions,
  type ListMessagesPaginatedOptions,
  type SendOptions,
} from "./conversations/Conversation.js";
export { DecodedMessage, type MessageConversation } from "./conversations/DecodedMessage.js";
export type { MessageStream } from "./conversations/streams.js";
export { Contacts } from "./contacts/Contacts.js";
export type { ConsentState } from "./contacts/Consent.js";
export { InvalidAddressInputError, type Contact } from "./contacts/ContactBook.js";
export { KeysError } from "./keys/loadKeys.js";
export { XmtpClientError, type BroadcastErrorCode, type NameErrorCode, type XmtpClientErrorCode } from "./errors/XmtpClientError.js";
export {
  DEFAULT_NAME_RPC_TIMEOUT_MS,
  DEFAULT_NAME_TTL_MS,
  ENS_REGISTRY_ADDRESS,
  EnsNameResolver,
  InvalidNameError,
  isAddressLike,
  NameNotFoundError,
  NameResolutionError,
  NameRpcError,
  NoNameResolverError,
  normalizeName,
  resolvePeer,
  type EnsNameResolverOptions,
  type NameResolver,
} from "./names/index.js";
export * from "./content/index.js";
export {
  HttpMessageApi,
  ApiError,
  GrpcCode,
  envelopePriceWei,
  type MessageApi,
  type Envelope,
  type Subscription,
  type PayerStanding,
  type PostageOffQuote,
  type PostageQuote,
  type PostageRequiredQuote,
} from "./api/index.js";
export {
  ClientPostage,
  InvalidPostageGrantError,
  PostageBalanceTooLowError,
  PostageError,
  PostagePayerMissingError,
  PostagePriceTooHighError,
  PostageRequiredError,
  PostageUnavailableError,
  PostageWithdrawalPendingError,
  PostageWrongChainError,
  postageGrantFromBytes,
  type GrantStore,
  type PriorContacts,
  type GrantOptions,
  type InvalidPostageGrantReason,
  type PostageBalance,
  type PostageBasisKind,
  type PostageErrorCode,
  type PostageGrant,
  type PostageOptions,
  type PostagePayer,
  type VaultTransaction,
} from "./postage/index.js";
export { InboxStoreError } from "./storage/InboxStore.js";
export {
  LocalDatabaseClosedError,
  LocalDatabaseCorruptError,
  LocalDatabaseError,
  LocalDatabaseKeyError,
  LocalDatabaseVersionError,
} from "@xmtp-ts/local-db";
export { causeChain, MAX_CAUSE_CHAIN } from "./errors/causeChain.js";
export { grpcCodeOf, grpcStatusOf, isGrpcErrorCode, type GrpcStatus } from "./errors/grpcStatus.js";
export { checkAddressInput, type AddressInputCheck } from "./contacts/addressInput.js";
export type { ConversationShape, ConversationsShape, DecodedMessageShape, MessageStreamShape } from "./conversations/shapes.js";
export {
  ArchiveError,
  ArchiveMessageApi,
  ARCHIVE_KEY_SALT,
  ARCHIVE_MAGIC,
  ARCHIVE_VERSION,
  archiveKeysFromWallet,
  archiveSecret,
  exportInbox,
  importInbox,
  inboxTopics,
  readArchive,
  readArchiveHeader,
  readArchiveWithWallet,
  type ArchiveErrorCode,
  type ArchivedTopic,
  type ExportInboxOptions,
  type ExportProgress,
  type ImportInboxOptions,
  type ImportProgress,
  type ImportReport,
  type InboxArchiveHeader,
  type OpenedInboxArchive,
  type RefusedEnvelope,
} from "./archive/index.js";
export {
  broadcast,
  BroadcastInterruptedError,
  BroadcastResumeMismatchError,
  BroadcastStateError,
  BROADCAST_STATE_FORMAT,
  BROADCAST_STATE_VERSION,
  FileStateStore,
  MemoryStateStore,
  type BroadcastFailure,
  type BroadcastOptions,
  type BroadcastPhase,
  type BroadcastProgress,
  type BroadcastReport,
  type BroadcastState,
  type BroadcastStateStore,
  type RecipientRecord,
} from "./broadcast/index.js";
export * from "./notifications/index.js";
