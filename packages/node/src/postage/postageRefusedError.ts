// A publish refused for postage (docs/postage.md §4): HTTP 402, gRPC code 9, the reason, and the node's terms.
import { GrpcCode } from "@xmtp-ts/proto";
import type { PostageRefusalCode } from "@xmtp-ts/postage";
import { ApiError } from "../errors.js";
import type { PostageQuote } from "./postageQuote.js";

export type NodePostageRefusalCode = PostageRefusalCode | "withdrawal_pending" | "stamp_over_deposit" | "voucher_not_increasing";

export class PostageRefusedError extends ApiError {
  override readonly name = "PostageRefusedError";

  constructor(
    readonly refusal: NodePostageRefusalCode,
    reason: string,
    readonly quote: PostageQuote | undefined,
  ) {
    super(GrpcCode.FAILED_PRECONDITION, reason, 402, quote ? [quote] : []);
  }
}
