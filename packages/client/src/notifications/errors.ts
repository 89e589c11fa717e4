// Typed errors of the notifications helpers (README "Notifications"): a call to xmtp-notify that failed, a pushed
// body that is not a delivery, and a delivery without its message that the node no longer has.
import { XmtpClientError, type NotificationErrorCode } from "../errors/XmtpClientError.js";

export type { NotificationErrorCode };

/**
 * A call to the notification service failed. `notify_refused`: the service answered with an error (`status` is the
 * HTTP status, `serviceCode` its `error.code` such as `forbidden` or `too_many_topics`, `field` what was wrong);
 * `notify_unreachable`: no answer (connection refused, timeout); `notify_malformed_response`: an answer that is not
 * what the API documents.
 */
export class NotifyApiError extends XmtpClientError {
  readonly status?: number;
  readonly serviceCode?: string;
  readonly field?: string;

  constructor(
    readonly code: "notify_refused" | "notify_unreachable" | "notify_malformed_response",
    message: string,
    details: { status?: number; serviceCode?: string; field?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "NotifyApiError";
    this.status = details.status;
    this.serviceCode = details.serviceCode;
    this.field = details.field;
  }
}

/** A webhook body that is not an xmtp-notify delivery (not JSON, or no envelope with topic, timestamp and message). */
export class InvalidPushError extends XmtpClientError {
  readonly code = "notify_invalid_push";

  constructor(message: string) {
    super(message);
    this.name = "InvalidPushError";
  }
}

/**
 * A delivery came without its message (`messageOmitted`: too big for a push message) and the node has no envelope
 * on that topic at that time with that digest: it was pruned by the node's retention, or the node is not the one
 * the service follows.
 */
export class PushedEnvelopeUnavailableError extends XmtpClientError {
  readonly code = "notify_envelope_unavailable";

  constructor(
    message: string,
    readonly digest: string,
  ) {
    super(message);
    this.name = "PushedEnvelopeUnavailableError";
  }
}
