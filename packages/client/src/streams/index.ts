export {
  ResumableSubscription,
  SubscriptionClosedError,
  type ResumableSubscriptionOptions,
  type SubscriptionTuning,
} from "./ResumableSubscription.js";
export { LineDecoder, parseStreamLine, StreamDroppedError, MAX_LINE_LENGTH } from "./ndjson.js";
export type { SubscriptionTransport } from "./transport.js";
export { GroupedSubscription, DEFAULT_MAX_TOPICS_PER_STREAM } from "./GroupedSubscription.js";
