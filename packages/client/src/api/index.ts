export type * from "./types.js";
export { HttpMessageApi, MAX_BATCH_SIZE, type HttpMessageApiOptions, type RetryOptions } from "./HttpMessageApi.js";
export { ApiError, GrpcCode, type ApiCall } from "./errors.js";
export { MAX_PAGE_SIZE } from "./json.js";
export {
  envelopePriceWei,
  postageQuoteFromJson,
  type PayerStanding,
  type PostageOffQuote,
  type PostageQuote,
  type PostageRequiredQuote,
} from "./postageQuote.js";
export { CLIENT_VERSION, CLIENT_VERSION_HEADER } from "./version.js";
export {
  ResumableSubscription,
  StreamDroppedError,
  SubscriptionClosedError,
  type SubscriptionTuning,
} from "../streams/index.js";
