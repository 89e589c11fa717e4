// @xmtp-ts/notify: the notification service, for embedding and tests. The binary is src/main.ts.
export { defaultNotifyConfig, parseNotifyCommandLine, ConfigError, type NotifyConfig, type RetryPolicy } from "./config.js";
export { startNotifyService, openNotifyStore, type NotifyComponents, type RunningNotifyService } from "./service.js";
export { retryDelayMs } from "./delivery/backoff.js";
export { signBody, webhookBody, SIGNATURE_HEADER, DELIVERY_ID_HEADER } from "./delivery/webhook.js";
export { envelopeDigest } from "./envelope.js";
export { jsonLogger, silentLogger, type Logger } from "./log.js";
export type { DeliveryTarget, WebhookTarget, WebPushTarget, NotifyStore } from "./store/NotifyStore.js";
export { encryptPushPayload, MAX_PUSH_PLAINTEXT_BYTES } from "./webpush/payloadEncryption.js";
export { VapidSigner, generateVapidKeys, type VapidKeys } from "./webpush/vapid.js";
