export { InvalidPushError, NotifyApiError, type NotificationErrorCode } from "./errors.js";
export {
  NotifyApi,
  type DeadLetter,
  type InstallationCredentials,
  type InstallationInfo,
  type NotifyApiOptions,
  type RegisteredInstallation,
  type RegisterInstallationInput,
  type WebhookTarget,
} from "./NotifyApi.js";
export { notificationTopics, wantsNotifications, type NotificationTopics } from "./topics.js";
export { NotificationTopicKeeper, type TopicKeeperOptions, type TopicSyncResult } from "./NotificationTopicKeeper.js";
export { decodePushedEnvelope, parsePushBody, type PushDelivery, type PushedEnvelope } from "./decodePushedEnvelope.js";
export { PUSH_SIGNATURE_HEADER, signPushBody, verifyPushSignature } from "./signature.js";
