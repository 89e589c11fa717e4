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
export { DecodedMessage } from "./conversations/DecodedMessage.js";
export type { MessageStream } from "./conversations/streams.js";
export { Contacts } from "./contacts/Contacts.js";
export type { ConsentState } from "./contacts/Consent.js";
export { InvalidAddressInputError, type Contact } from "./contacts/ContactBook.js";
export { KeysError } from "./keys/loadKeys.js";
export * from "./content/index.js";
export { HttpMessageApi, ApiError, GrpcCode, type MessageApi, type Envelope, type Subscription } from "./api/index.js";
