export type * from "./types.js";
export { ContentTypeId, contentTypeKey } from "./ContentTypeId.js";
export { ContentTypeText, TextCodec, TEXT_ENCODING_UTF8 } from "./TextCodec.js";
export { ContentTypePostageGrant, PostageGrantCodec } from "./PostageGrantCodec.js";
export { ContentTypeReaction, ReactionCodec, type Reaction } from "./ReactionCodec.js";
export { ContentTypeReply, ReplyCodec, type Reply } from "./ReplyCodec.js";
export {
  Compression,
  compress,
  decompress,
  DecompressionError,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
} from "./compression.js";
export {
  CodecRegistry,
  decodeContent,
  encodeContent,
  encodeContentPayload,
  InvalidContentError,
  MAX_COMPRESSIBLE_CONTENT_SIZE,
  MIN_COMPRESSIBLE_CONTENT_SIZE,
  type DecodeContentOptions,
  type DecodedContent,
  type EncodeContentOptions,
  type EncodedContentPayload,
} from "./CodecRegistry.js";
