// Webhook delivery: POST the envelope as JSON, signed with HMAC-SHA256 of the exact body bytes under the
// installation's secret (packages/notify/README.md "Webhooks"). Any 2xx answer is success; everything else (other
// statuses, redirects, network errors, timeouts) is a failed attempt.
import { createHmac } from "node:crypto";
import { envelopeToJson } from "../envelope.js";
import type { DueDelivery, WebhookTarget } from "../store/NotifyStore.js";
import type { SendResult } from "./sender.js";

export const SIGNATURE_HEADER = "x-xmtp-notify-signature";
export const DELIVERY_ID_HEADER = "x-xmtp-notify-delivery";

/** `sha256=` and the lowercase hex HMAC-SHA256 of the body under the secret: the signature header's value. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

/** The JSON body a webhook receives for one delivery attempt. */
export function webhookBody(delivery: DueDelivery, attempt: number, sentAtMs: number): string {
  return JSON.stringify({
    installationId: delivery.installationId,
    deliveryId: `${delivery.installationId}:${delivery.envelope.digest}`,
    digest: delivery.envelope.digest,
    attempt,
    sentAt: new Date(sentAtMs).toISOString(),
    envelope: envelopeToJson(delivery.envelope),
  });
}

export async function sendWebhook(
  target: WebhookTarget,
  delivery: DueDelivery,
  attempt: number,
  options: { timeoutMs: number; now: () => number; signal?: AbortSignal },
): Promise<SendResult> {
  const body = webhookBody(delivery, attempt, options.now());
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  try {
    const response = await fetch(target.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.any(signals),
      headers: {
        "content-type": "application/json",
        "user-agent": "xmtp-notify",
        [SIGNATURE_HEADER]: signBody(delivery.secret, body),
        [DELIVERY_ID_HEADER]: `${delivery.installationId}:${delivery.envelope.digest}`,
      },
      body,
    });
    // The answer's body is not used; cancel it rather than read an arbitrary amount.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true };
    return { ok: false, error: `HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const name = (error as Error).name;
    if (name === "TimeoutError") return { ok: false, error: `no answer within ${options.timeoutMs} ms` };
    return { ok: false, error: cause?.code ?? cause?.message ?? (error as Error).message ?? String(error) };
  }
}
