// One sender per delivery-target kind. Adding a kind (Web Push) means a member in DeliveryTarget and a case here.
import type { DeliveryTarget, DueDelivery } from "../store/NotifyStore.js";
import { sendWebhook } from "./webhook.js";

export type SendResult = { ok: true } | { ok: false; error: string };

export interface SendOptions {
  timeoutMs: number;
  now: () => number;
  signal?: AbortSignal;
}

export type Sender = (delivery: DueDelivery, attempt: number, options: SendOptions) => Promise<SendResult>;

export const sendToTarget: Sender = (delivery, attempt, options) => {
  const target: DeliveryTarget = delivery.target;
  // One kind today; a second kind makes DeliveryTarget a union and gets its own branch here.
  if (target.kind === "webhook") return sendWebhook(target, delivery, attempt, options);
  return Promise.resolve({ ok: false, error: `unsupported target kind ${(target as { kind: string }).kind}` });
};
