// Webhook delivery: POST the envelope as JSON, signed with HMAC-SHA256 of the exact body bytes under the
// installation's secret (packages/notify/README.md "Webhooks"). Any 2xx answer is success; everything else (other
// statuses, redirects, network errors, timeouts) is a failed attempt.
import { createHmac } from "node:crypto";
import type { DueDelivery, WebhookTarget } from "../store/NotifyStore.js";
import { deliveryDocument } from "./deliveryDocument.js";
import { postOnce } from "./httpAttempt.js";
import type { SendOptions, SendResult } from "./sender.js";

export const SIGNATURE_HEADER = "x-xmtp-notify-signature";
export const DELIVERY_ID_HEADER = "x-xmtp-notify-delivery";

/** `sha256=` and the lowercase hex HMAC-SHA256 of the body under the secret: the signature header's value. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

/** The JSON body a webhook receives for one delivery attempt. */
export function webhookBody(delivery: DueDelivery, attempt: number, sentAtMs: number): string {
  return JSON.stringify(deliveryDocument(delivery, attempt, sentAtMs));
}

export async function sendWebhook(target: WebhookTarget, delivery: DueDelivery, attempt: number, options: SendOptions): Promise<SendResult> {
  const body = webhookBody(delivery, attempt, options.now());
  const headers = {
    "content-type": "application/json",
    "user-agent": "xmtp-notify",
    [SIGNATURE_HEADER]: signBody(delivery.secret, body),
    [DELIVERY_ID_HEADER]: `${delivery.installationId}:${delivery.envelope.digest}`,
  };
  const answer = await postOnce(target.url, headers, body, options);
  if ("failed" in answer) return answer.failed;
  if (answer.status >= 200 && answer.status < 300) return { ok: true };
  return { ok: false, error: `HTTP ${answer.status}` };
}
