import { XmtpClientError } from "../errors/XmtpClientError.js";
import { create, fromBinary, toBinary, EncodedContentSchema } from "@xmtp-ts/proto";
import { ContentTypeId, contentTypeKey } from "./ContentTypeId.js";
import { compress, compressionFormat, decompress, DEFAULT_MAX_DECOMPRESSED_SIZE } from "./compression.js";
import { ContentTypeText, TextCodec } from "./TextCodec.js";
import type { AnyContentCodec, CodecRegistryShape, ContentTypeIdShape, EncodedContentShape } from "./types.js";

/**
 * SDK 13 receivers refuse compressed payloads that inflate beyond 1,000 bytes ("maximum output size exceeded"),
 * so content larger than this is sent uncompressed even when compression was asked for: it still reaches them.
 */
export const MAX_COMPRESSIBLE_CONTENT_SIZE = 1000;

/** Content shorter than this is never compressed (as in the public SDK: it would only grow). */
export const MIN_COMPRESSIBLE_CONTENT_SIZE = 10;

/**
 * The codecs a client knows, keyed by `authority/type`. The text codec is always present. A codec handles an
 * incoming type when the incoming major version is not higher than its own.
 */
export class CodecRegistry implements CodecRegistryShape {
  private readonly codecs = new Map<string, AnyContentCodec>();

  constructor(codecs: Iterable<AnyContentCodec> = []) {
    this.register(new TextCodec());
    for (const codec of codecs) this.register(codec);
  }

  /** Adds a codec, replacing any earlier one for the same `authority/type`. */
  register(codec: AnyContentCodec): this {
    const id = codec?.contentType;
    if (!id || typeof id.authorityId !== "string" || typeof id.typeId !== "string") {
      throw new TypeError("codec has no contentType with authorityId and typeId");
    }
    if (typeof codec.encode !== "function" || typeof codec.decode !== "function") {
      throw new TypeError(`codec for ${contentTypeKey(id)} lacks encode/decode`);
    }
    this.codecs.set(contentTypeKey(id), codec);
    return this;
  }

  /** The public SDK's name for `register`. */
  registerCodec(codec: AnyContentCodec): this {
    return this.register(codec);
  }

  codecFor(contentType: ContentTypeIdShape): AnyContentCodec | undefined {
    const codec = this.codecs.get(contentTypeKey(contentType));
    if (!codec || contentType.versionMajor > codec.contentType.versionMajor) return undefined;
    return codec;
  }
}

export interface EncodeContentOptions {
  /** Defaults to text. */
  contentType?: ContentTypeIdShape;
  /** `Compression.DEFLATE` (0) or `Compression.GZIP` (1); applied to content of 10..1,000 bytes only. */
  compression?: number;
  /** Overrides the codec's own fallback text. */
  fallback?: string;
}

export interface EncodedContentPayload {
  /** The EncodedContent protobuf bytes. */
  payload: Uint8Array;
  /** The codec's push hint, carried by v2 messages as `should_push`. */
  shouldPush: boolean;
}

export interface DecodedContent<T = unknown> {
  /** Undefined when the type is unknown or its codec failed; `error` says why. */
  content: T | undefined;
  contentType: ContentTypeId;
  contentFallback?: string;
  error?: Error;
}

export interface DecodeContentOptions {
  /** Cap on the inflated size of compressed content; defaults to 10 MB. */
  maxDecompressedSize?: number;
}

/** Bytes that are not a usable EncodedContent at all: not protobuf, no type, bad or oversized compression. */
export class InvalidContentError extends XmtpClientError {
  readonly code = "invalid_content";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidContentError";
  }
}

export async function encodeContentPayload(
  content: unknown,
  options: EncodeContentOptions,
  registry: CodecRegistry,
): Promise<EncodedContentPayload> {
  const contentType = options.contentType ?? ContentTypeText;
  const codec = registry.codecFor(contentType);
  if (!codec) {
    throw new Error(`unknown content type ${new ContentTypeId(contentType)}: register its codec first`);
  }
  const encoded = codec.encode(content, registry);
  const fallback = options.fallback ?? codec.fallback(content);
  let bytes = encoded.content;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`codec for ${new ContentTypeId(contentType)} returned content that is not a Uint8Array`);
  }
  let compression: number | undefined;
  if (options.compression !== undefined) {
    compressionFormat(options.compression); // rejects an unknown algorithm even when this payload is not compressed
    if (bytes.length >= MIN_COMPRESSIBLE_CONTENT_SIZE && bytes.length <= MAX_COMPRESSIBLE_CONTENT_SIZE) {
      bytes = await compress(bytes, options.compression);
      compression = options.compression;
    }
  }
  const type = encoded.type ?? codec.contentType;
  const message = create(EncodedContentSchema, {
    type: {
      authorityId: type.authorityId,
      typeId: type.typeId,
      versionMajor: type.versionMajor,
      versionMinor: type.versionMinor,
    },
    parameters: stringParameters(encoded.parameters, type),
    fallback: fallback || undefined,
    compression,
    content: bytes,
  });
  return { payload: toBinary(EncodedContentSchema, message), shouldPush: Boolean(codec.shouldPush(content)) };
}

/** Encodes `content` with the codec of `options.contentType` (text by default) into EncodedContent bytes. */
export async function encodeContent(
  content: unknown,
  options: EncodeContentOptions,
  registry: CodecRegistry,
): Promise<Uint8Array> {
  return (await encodeContentPayload(content, options, registry)).payload;
}

/**
 * Decodes EncodedContent bytes. An unknown type or a failing codec yields `content: undefined` with an `error`
 * (the message stays listable with its fallback); bytes that are not EncodedContent at all throw
 * InvalidContentError.
 */
export async function decodeContent<T = unknown>(
  bytes: Uint8Array,
  registry: CodecRegistry,
  options: DecodeContentOptions = {},
): Promise<DecodedContent<T>> {
  let message;
  try {
    message = fromBinary(EncodedContentSchema, bytes);
  } catch (error) {
    throw new InvalidContentError(`invalid EncodedContent: ${(error as Error).message}`, { cause: error });
  }
  if (!message.type) throw new InvalidContentError("invalid EncodedContent: missing content type");
  const contentType = new ContentTypeId(message.type);
  let content = message.content;
  if (message.compression !== undefined) {
    try {
      content = await decompress(content, message.compression, options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE);
    } catch (error) {
      throw new InvalidContentError(`${contentType} content: ${(error as Error).message}`, { cause: error });
    }
  }
  const contentFallback = message.fallback;
  const codec = registry.codecFor(contentType);
  if (!codec) {
    return { content: undefined, contentType, contentFallback, error: new Error(`unknown content type ${contentType}`) };
  }
  const encoded: EncodedContentShape = {
    type: contentType,
    parameters: { ...message.parameters },
    fallback: contentFallback,
    compression: message.compression,
    content,
  };
  try {
    return { content: codec.decode(encoded, registry) as T, contentType, contentFallback };
  } catch (error) {
    const reason = error instanceof Error ? error : new Error(String(error));
    return {
      content: undefined,
      contentType,
      contentFallback,
      error: new Error(`cannot decode ${contentType} content: ${reason.message}`, { cause: reason }),
    };
  }
}

function stringParameters(parameters: unknown, type: ContentTypeIdShape): Record<string, string> {
  const out: Record<string, string> = {};
  if (parameters === undefined || parameters === null) return out;
  for (const [key, value] of Object.entries(parameters as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw new TypeError(
        `codec for ${new ContentTypeId(type)} returned parameter ${JSON.stringify(key)} that is not a string`,
      );
    }
    out[key] = value;
  }
  return out;
}
