export { InvalidPushError, NotifyApiError, PushedEnvelopeUnavailableError, type NotificationErrorCode } from "./errors.js";
export {
  NotifyApi,
  type DeadLetter,
  type InstallationCredentials,
  type InstallationInfo,
  type NotificationTarget,
  type NotifyApiOptions,
  type RegisteredInstallation,
  type RegisterInstallationInput,
  type WebhookTarget,
  type WebPushTarget,
} from "./NotifyApi.js";
export { base64UrlToBytes, decodeVapidPublicKey, webPushTarget, type PushSubscriptionLike } from "./webPush.js";
export { notificationTopics, wantsNotifications, type NotificationTopics } from "./topics.js";
export { NotificationTopicKeeper, type TopicKeeperOptions, type TopicSyncResult } from "./NotificationTopicKeeper.js";
export { decodePushedEnvelope, fetchOmittedEnvelope, parsePushBody, type PushDelivery, type PushedEnvelope } from "./decodePushedEnvelope.js";
export { PUSH_SIGNATURE_HEADER, signPushBody, verifyPushSignature } from "./signature.js";
