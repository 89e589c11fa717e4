// Content codecs with the same shape as @xmtp/content-type-primitives, so the public content-type packages
// (reaction, reply, read receipt, remote attachment) register with our client unchanged.

export interface ContentTypeIdShape {
  authorityId: string;
  typeId: string;
  versionMajor: number;
  versionMinor: number;
}

/** The decoded EncodedContent a codec encodes to and decodes from (content is the uncompressed bytes). */
export interface EncodedContentShape<Parameters = Record<string, string>> {
  type: ContentTypeIdShape;
  parameters: Parameters;
  fallback?: string;
  compression?: number;
  content: Uint8Array;
}

export interface CodecRegistryShape {
  codecFor(contentType: ContentTypeIdShape): ContentCodec<unknown> | undefined;
}

export interface ContentCodec<T = unknown> {
  contentType: ContentTypeIdShape;
  encode(content: T, registry: CodecRegistryShape): EncodedContentShape;
  decode(content: EncodedContentShape, registry: CodecRegistryShape): T;
  fallback(content: T): string | undefined;
  shouldPush(content: T): boolean;
}

/**
 * A codec of any content type, as a registry holds them side by side. `T` appears both as input (encode) and as
 * output (decode), so `ContentCodec<string>` is not a `ContentCodec<unknown>`: only `any` lets one collection hold
 * codecs of different types; callers narrow the decoded content by its content type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the one place the client needs it
export type AnyContentCodec = ContentCodec<any>;
