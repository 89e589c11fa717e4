export type * from "./store/EnvelopeStore.js";
export { startNode, openConfiguredStore, type NodeComponents, type RunningNode } from "./server.js";
export {
  parseCommandLine,
  defaultConfig,
  describeStorage,
  ConfigError,
  USAGE,
  type NodeConfig,
  type NodeConfigOverrides,
  type StorageConfig,
} from "./config.js";
export { EnvelopeIngest, isEphemeralTopic, type EnvelopeOrigin, type Relay, type IngestResult } from "./ingest.js";
export { SubscriptionHub, SUBSCRIBE_ALL_PREFIX, type EnvelopeListener, type Unsubscribe } from "./hub.js";
export { Authenticator, authorizeTopic, topicOwner, systemClock, type Clock, type AuthenticatedCaller } from "./auth.js";
export { ApiError, GrpcCode, UnavailableError, httpStatusOfCode, invalidArgument } from "./errors.js";
export { StoreUnavailableError, isStoreUnavailable, type StoreOperation } from "./store/storeErrors.js";
export { createJsonLogger, silentLogger, type Logger, type LogLevel, type LogFields } from "./log.js";
export { SqliteEnvelopeStore, openSqliteStore } from "./store/sqlite.js";
export { envelopeDigest, withDigest } from "./store/digest.js";
export { MAX_MESSAGE_BYTES, MAX_TOPIC_BYTES, MAX_PAGE_SIZE, MAX_PREFERENCES_PAGE_SIZE, MAX_BATCH_QUERIES, DEFAULT_PAGE_SIZE } from "./http/codec.js";
export { MessageApiServer, API_PATHS, normalizePath, type ApiHooks, type ApiDependencies } from "./http/api.js";
export type { ParsedQuery } from "./http/codec.js";
export * from "./security/index.js";
export * from "./metrics/index.js";
export { RetentionPruner, DEFAULT_PRUNE_BATCH, DEFAULT_PRUNE_DUTY_CYCLE, type PassSummary } from "./retention/retentionPruner.js";
export { parseRetentionPolicy, describeRetentionPolicy, type RetentionPolicy, type TopicClass } from "./retention/retentionPolicy.js";
