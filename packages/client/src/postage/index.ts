// Postage on the client side (docs/postage.md): proofs on writes to strangers, stamps, grants, the payer's vault.
export { ClientPostage, type ClientPostageDeps, type GrantOptions, type PostageBalance, type PostageOptions, type VaultTransaction } from "./ClientPostage.js";
export {
  InvalidPostageGrantError,
  PostageBalanceTooLowError,
  PostageError,
  PostagePayerMissingError,
  PostagePriceTooHighError,
  PostageRequiredError,
  PostageUnavailableError,
  PostageWithdrawalPendingError,
  PostageWrongChainError,
  type InvalidPostageGrantReason,
  type PostageBasisKind,
  type PostageErrorCode,
} from "./errors.js";
export { GrantStore, MAX_STORED_GRANTS, type GrantNetwork } from "./GrantStore.js";
export { fetchPostageQuote, nodeKeyOf } from "./nodeQuote.js";
export type { PostagePayer, VaultRunner } from "./payer.js";
export { MAX_GRANT_BYTES, postageGrantFromBytes, postageGrantOf, type PostageGrant } from "./PostageGrant.js";
export { PriorContacts } from "./PriorContacts.js";
export { othersReachTopicOwner, ReachPublisher, type ReachPublisherOptions } from "./ReachPublisher.js";
export { PAYMENT_REQUIRED_STATUS, postageRefusalOf, type PostageRefusal } from "./refusal.js";
export { SerialQueues, stampQueues } from "./SerialQueues.js";
export { Stamper, type StampedBatch, type StamperOptions, type StampRequest } from "./Stamper.js";
