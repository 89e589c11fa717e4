// The client's typed errors share one base, as the crypto package's do (packages/crypto/src/errors.ts): `code` is
// stable for programs, the message is for people. Each class keeps its own name and fields; the codes are listed in
// packages/client/README.md.

/** The postage codes (docs/postage.md): what stopped a write or a vault action. */
export type PostageErrorCode =
  | "postage_required"
  | "postage_price_too_high"
  | "postage_balance_too_low"
  | "postage_withdrawal_pending"
  | "postage_unavailable"
  | "postage_no_payer"
  | "postage_wrong_chain"
  | "postage_invalid_grant";

/** The inbox archive codes (docs/storage.md §7): why an archive was refused. */
export type ArchiveErrorCode =
  | "archive_bad_magic"
  | "archive_unsupported_version"
  | "archive_truncated"
  | "archive_corrupt"
  | "archive_tampered"
  | "archive_wrong_keys"
  | "archive_no_keys"
  | "archive_read_only";

/** The names codes (README "Names"): why a name gave no address. */
export type NameErrorCode = "invalid_name" | "name_not_found" | "name_rpc_failed" | "no_name_resolver";

/** The broadcast codes (README "Broadcast"): why a broadcast stopped or would not start. */
export type BroadcastErrorCode = "broadcast_interrupted" | "broadcast_resume_mismatch" | "broadcast_state_unusable";

/** The notifications codes (README "Notifications"): a notification service call or a pushed body that failed. */
export type NotificationErrorCode =
  | "notify_refused"
  | "notify_unreachable"
  | "notify_malformed_response"
  | "notify_invalid_push"
  | "notify_envelope_unavailable";

/** The string codes; ApiError's `code` is instead the node's gRPC status (a number, or undefined), as on the wire. */
export type XmtpClientErrorCode =
  | "malformed_response"
  | "stream_dropped"
  | "subscription_closed"
  | "invalid_client_options"
  | "invalid_signer"
  | "invalid_keys"
  | "invalid_inbox_store"
  | "conversation_unavailable"
  | "invalid_content"
  | "decompression_failed"
  | "invalid_address"
  | PostageErrorCode
  | ArchiveErrorCode
  | NameErrorCode
  | BroadcastErrorCode
  | NotificationErrorCode;

/**
 * Base of the package's typed errors; `code` is stable for programs, the message is for people. ApiError keeps the
 * node's gRPC status in `code` (what the node and the wire call `code`), so it is the one member whose code is a
 * number; every other member's is a string of XmtpClientErrorCode.
 */
export abstract class XmtpClientError extends Error {
  abstract readonly code: XmtpClientErrorCode | number | undefined;
}
