// Asking the node for its postage terms through whatever transport the client has. A node that does not know
// postage at all (the reference node, an older xmtp-ts node) answers the quote route with 404 or 501, and a custom
// transport may not offer quotes: all of these charge nothing, which is what "postage off" means.
import { ApiError, GrpcCode, type MessageApi, type PostageQuote } from "../api/index.js";

const OFF: PostageQuote = { postage: "off" };

function meansNoPostage(error: ApiError): boolean {
  return error.httpStatus === 404 || error.httpStatus === 501 || error.code === GrpcCode.UNIMPLEMENTED;
}

export async function fetchPostageQuote(api: MessageApi, payer?: string): Promise<PostageQuote> {
  if (typeof api.postageQuote !== "function") return OFF;
  try {
    return await api.postageQuote(payer);
  } catch (error) {
    if (error instanceof ApiError && meansNoPostage(error)) return OFF;
    throw error;
  }
}

const apiKeys = new WeakMap<object, string>();
let nextApiKey = 0;

/**
 * Names the node an API talks to, for serializing stamps: its URL when it has one (two clients on one node share
 * it), else a name unique to this API object.
 */
export function nodeKeyOf(api: MessageApi): string {
  const url = (api as { apiUrl?: unknown }).apiUrl;
  if (typeof url === "string" && url.length > 0) return url;
  let key = apiKeys.get(api);
  if (!key) {
    key = `api#${++nextApiKey}`;
    apiKeys.set(api, key);
  }
  return key;
}
