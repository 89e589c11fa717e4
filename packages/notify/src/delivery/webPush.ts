// Web Push delivery (RFC 8030): the delivery document, encrypted to the subscription's keys (RFC 8291), POSTed to
// its push service with a VAPID token (RFC 8292). An envelope too large for one push message goes without its
// message bytes (`messageOmitted`), for the receiver to fetch from a node.
import type { DueDelivery, WebPushTarget } from "../store/NotifyStore.js";
import { encryptPushPayload, MAX_PUSH_PLAINTEXT_BYTES } from "../webpush/payloadEncryption.js";
import type { VapidSigner } from "../webpush/vapid.js";
import { deliveryDocument } from "./deliveryDocument.js";
import { postOnce, retryAfterMs } from "./httpAttempt.js";
import type { SendOptions, SendResult } from "./sender.js";

export interface WebPushOptions {
  vapid: VapidSigner;
  /** How long the push service keeps a message for a browser that is offline (the TTL header), in seconds. */
  ttlSeconds: number;
}

/**
 * Answers after which trying again cannot help: the request itself is refused (400, 413): the delivery is
 * dead-lettered at once. 404 and 410 say more: the subscription is gone (the browser unsubscribed, or the push service
 * expired it), for every later delivery too.
 */
const PERMANENT_STATUSES = new Set([400, 413]);

/** The push message's plaintext for one attempt: the delivery document, without the message bytes when too large. */
export function pushPlaintext(delivery: DueDelivery, attempt: number, sentAtMs: number): Uint8Array {
  const document = deliveryDocument(delivery, attempt, sentAtMs);
  const whole = Buffer.from(JSON.stringify(document));
  if (whole.length <= MAX_PUSH_PLAINTEXT_BYTES) return whole;
  const { message: _omitted, ...envelope } = document.envelope;
  const trimmed = Buffer.from(JSON.stringify({ ...document, envelope, messageOmitted: true }));
  // Topics are at most 300 bytes and the rest is fixed-size, so this always fits; a check keeps it so.
  if (trimmed.length > MAX_PUSH_PLAINTEXT_BYTES) throw new RangeError(`push payload of ${trimmed.length} bytes even without the message`);
  return trimmed;
}

export async function sendWebPush(
  target: WebPushTarget,
  delivery: DueDelivery,
  attempt: number,
  options: SendOptions,
  push: WebPushOptions,
): Promise<SendResult> {
  const nowMs = options.now();
  const body = encryptPushPayload(pushPlaintext(delivery, attempt, nowMs), {
    p256dh: Buffer.from(target.keys.p256dh, "base64url"),
    auth: Buffer.from(target.keys.auth, "base64url"),
  });
  const headers = {
    "content-type": "application/octet-stream",
    "content-encoding": "aes128gcm",
    ttl: String(push.ttlSeconds),
    authorization: push.vapid.authorization(target.endpoint),
    "user-agent": "xmtp-notify",
  };
  const answer = await postOnce(target.endpoint, headers, body, options);
  if ("failed" in answer) return answer.failed;
  if (answer.status >= 200 && answer.status < 300) return { ok: true };
  if (answer.status === 404 || answer.status === 410) {
    return { ok: false, error: `HTTP ${answer.status}: the push subscription is gone`, permanent: true, targetGone: true };
  }
  if (PERMANENT_STATUSES.has(answer.status)) return { ok: false, error: `HTTP ${answer.status}: refused by the push service`, permanent: true };
  return { ok: false, error: `HTTP ${answer.status}`, retryAfterMs: retryAfterMs(answer.headers, nowMs) };
}
