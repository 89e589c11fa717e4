// @xmtp-ts/notify: the notification service, for embedding and tests. The binary is src/main.ts.
export { defaultNotifyConfig, parseNotifyCommandLine, ConfigError, type NotifyConfig, type RetryPolicy } from "./config.js";
export { startNotifyService, openNotifyStore, type NotifyComponents, type RunningNotifyService } from "./service.js";
export { retryDelayMs } from "./delivery/backoff.js";
export { signBody, webhookBody, SIGNATURE_HEADER, DELIVERY_ID_HEADER } from "./delivery/webhook.js";
export { envelopeDigest } from "./envelope.js";
export { jsonLogger, silentLogger, type Logger } from "./log.js";
export type { DeliveryTarget, WebhookTarget, NotifyStore } from "./store/NotifyStore.js";
