// One sender per delivery-target kind, chosen by the target's tag.
import type { DueDelivery } from "../store/NotifyStore.js";
import { sendWebhook } from "./webhook.js";
import { sendWebPush, type WebPushOptions } from "./webPush.js";

export type SendResult =
  | { ok: true }
  | {
      ok: false;
      error: string;
      /** Trying again cannot succeed (e.g. a request the push service refuses): dead-letter now. */
      permanent?: boolean;
      /**
       * The target itself no longer exists (a push subscription answered 404/410): nothing for this installation can
       * ever be delivered again, so the installation is removed with its queue.
       */
      targetGone?: boolean;
      /** The receiver asked for this pause (Retry-After); the next attempt waits at least this long. */
      retryAfterMs?: number;
    };

export interface SendOptions {
  timeoutMs: number;
  now: () => number;
  signal?: AbortSignal;
}

export type Sender = (delivery: DueDelivery, attempt: number, options: SendOptions) => Promise<SendResult>;

export interface TargetSenderOptions {
  /** Without it, Web Push deliveries fail (the service always passes one; tests of webhooks alone need not). */
  webPush?: WebPushOptions;
}

export function createTargetSender(senderOptions: TargetSenderOptions = {}): Sender {
  return (delivery, attempt, options) => {
    const target = delivery.target;
    switch (target.kind) {
      case "webhook":
        return sendWebhook(target, delivery, attempt, options);
      case "webpush":
        if (!senderOptions.webPush) return Promise.resolve({ ok: false, error: "this service has no VAPID key for Web Push" });
        return sendWebPush(target, delivery, attempt, options, senderOptions.webPush);
    }
  };
}
