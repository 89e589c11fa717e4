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
