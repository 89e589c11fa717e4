// Recognizing a postage refusal (docs/postage.md §4): HTTP 402 with gRPC code 9 and the node's quote in `details`.
// Only the status tells a refusal apart: code 9 alone (FAILED_PRECONDITION) means other things elsewhere.
import { ApiError, postageQuoteFromJson, type PostageRequiredQuote } from "../api/index.js";

export const PAYMENT_REQUIRED_STATUS = 402;

export interface PostageRefusal {
  error: ApiError;
  serverMessage: string;
  /** The first detail that reads as a "required" quote; undefined when the node sent none (or garbage). */
  quote: PostageRequiredQuote | undefined;
}

/** The refusal inside `error`, or undefined when it is any other failure. */
export function postageRefusalOf(error: unknown): PostageRefusal | undefined {
  if (!(error instanceof ApiError) || error.httpStatus !== PAYMENT_REQUIRED_STATUS) return undefined;
  let quote: PostageRequiredQuote | undefined;
  for (const detail of error.details) {
    try {
      const parsed = postageQuoteFromJson(detail, "details[]");
      if (parsed.postage === "required") {
        quote = parsed;
        break;
      }
    } catch {
      // Another kind of detail (or a broken quote): the refusal stands without terms.
    }
  }
  return { error, serverMessage: error.serverMessage, quote };
}
