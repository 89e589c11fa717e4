import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, EncodedContentSchema } from "@xmtp-ts/proto";
import { utf8ToBytes } from "@xmtp-ts/crypto";
import {
  CodecRegistry,
  Compression,
  ContentTypeId,
  ContentTypeText,
  decodeContent,
  encodeContent,
  encodeContentPayload,
  InvalidContentError,
  MAX_COMPRESSIBLE_CONTENT_SIZE,
  type ContentCodec,
  type EncodedContentShape,
} from "./index.js";

const ContentTypeNumber = new ContentTypeId({ authorityId: "example.org", typeId: "number", versionMajor: 1, versionMinor: 2 });

class NumberCodec implements ContentCodec<number> {
  contentType = ContentTypeNumber;
  encode(content: number): EncodedContentShape {
    return { type: ContentTypeNumber, parameters: { unit: "none" }, content: utf8ToBytes(String(content)) };
  }
  decode(content: EncodedContentShape): number {
    const value = Number(new TextDecoder().decode(content.content));
    if (Number.isNaN(value)) throw new Error("not a number");
    return value;
  }
  fallback(content: number): string {
    return `the number ${content}`;
  }
  shouldPush(): boolean {
    return false;
  }
}

function rawEncodedContent(fields: {
  type?: { authorityId: string; typeId: string; versionMajor: number; versionMinor: number };
  parameters?: Record<string, string>;
  fallback?: string;
  compression?: Compression;
  content: Uint8Array;
}): Uint8Array {
  return toBinary(EncodedContentSchema, create(EncodedContentSchema, fields));
}

describe("text codec", () => {
  it("encodes text as xmtp.org/text:1.0 with encoding=UTF-8 and no fallback", async () => {
    const payload = await encodeContent("héllo ✓", {}, new CodecRegistry());
    const message = fromBinary(EncodedContentSchema, payload);
    expect(message.type).toMatchObject({ authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 });
    expect(message.parameters).toEqual({ encoding: "UTF-8" });
    expect(message.fallback).toBeUndefined();
    expect(message.compression).toBeUndefined();
    expect(new TextDecoder().decode(message.content)).toBe("héllo ✓");
  });

  it("round-trips text and says it should be pushed", async () => {
    const registry = new CodecRegistry();
    const { payload, shouldPush } = await encodeContentPayload("hi there", { contentType: ContentTypeText }, registry);
    expect(shouldPush).toBe(true);
    const decoded = await decodeContent(payload, registry);
    expect(decoded.content).toBe("hi there");
    expect(decoded.contentType.toString()).toBe("xmtp.org/text:1.0");
    expect(decoded.error).toBeUndefined();
  });

  it("rejects an encoding other than UTF-8 with an error on the message", async () => {
    const bytes = rawEncodedContent({
      type: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 },
      parameters: { encoding: "UTF-16" },
      fallback: "fallback text",
      content: utf8ToBytes("abc"),
    });
    const decoded = await decodeContent(bytes, new CodecRegistry());
    expect(decoded.content).toBeUndefined();
    expect(decoded.error?.message).toMatch(/unrecognized text encoding "UTF-16"/);
    expect(decoded.contentFallback).toBe("fallback text");
  });

  it("refuses to encode a non-string as text", async () => {
    await expect(encodeContent(42, {}, new CodecRegistry())).rejects.toThrow(/text content must be a string, got number/);
  });
});

describe("compression", () => {
  const text = "compress me please, ".repeat(20);

  it("deflate is the zlib format (RFC 1950)", async () => {
    const payload = await encodeContent(text, { compression: Compression.DEFLATE }, new CodecRegistry());
    const message = fromBinary(EncodedContentSchema, payload);
    expect(message.compression).toBe(Compression.DEFLATE);
    expect(message.content[0]).toBe(0x78); // zlib header: deflate, 32K window
    expect(new TextDecoder().decode(inflateSync(message.content))).toBe(text);
    expect(message.content.length).toBeLessThan(text.length);
  });

  it("gzip is RFC 1952", async () => {
    const payload = await encodeContent(text, { compression: Compression.GZIP }, new CodecRegistry());
    const message = fromBinary(EncodedContentSchema, payload);
    expect(message.compression).toBe(Compression.GZIP);
    expect([...message.content.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(new TextDecoder().decode(gunzipSync(message.content))).toBe(text);
  });

  it("encodes DEFLATE (0) explicitly, since absent means uncompressed", async () => {
    const payload = await encodeContent(text, { compression: Compression.DEFLATE }, new CodecRegistry());
    // field 5, varint, value 0
    expect(Buffer.from(payload).includes(Buffer.from([0x28, 0x00]))).toBe(true);
  });

  it("decodes zlib and gzip made by node:zlib", async () => {
    const registry = new CodecRegistry();
    for (const [compression, bytes] of [
      [Compression.DEFLATE, deflateSync(text)],
      [Compression.GZIP, gzipSync(text)],
    ] as const) {
      const encoded = rawEncodedContent({
        type: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 },
        parameters: { encoding: "UTF-8" },
        compression,
        content: bytes,
      });
      expect((await decodeContent(encoded, registry)).content).toBe(text);
    }
  });

  it("compresses only content of 10 to 1,000 bytes", async () => {
    const registry = new CodecRegistry();
    const compressionOf = async (content: string) =>
      fromBinary(EncodedContentSchema, await encodeContent(content, { compression: Compression.GZIP }, registry)).compression;
    expect(await compressionOf("123456789")).toBeUndefined();
    expect(await compressionOf("1234567890")).toBe(Compression.GZIP);
    expect(await compressionOf("x".repeat(MAX_COMPRESSIBLE_CONTENT_SIZE))).toBe(Compression.GZIP);
    // Bigger content would be dropped by SDK 13 receivers once compressed, so it goes out plain and still decodes.
    const big = "x".repeat(MAX_COMPRESSIBLE_CONTENT_SIZE + 1);
    expect(await compressionOf(big)).toBeUndefined();
    const payload = await encodeContent(big, { compression: Compression.GZIP }, registry);
    expect((await decodeContent(payload, registry)).content).toBe(big);
  });

  it("rejects an unknown compression algorithm when encoding", async () => {
    await expect(encodeContent("short", { compression: 7 }, new CodecRegistry())).rejects.toThrow(
      /unsupported compression 7/,
    );
  });

  it("stops inflating at the size cap (a small zip bomb)", async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024)); // 20 MB of zeros in ~20 KB
    const encoded = rawEncodedContent({
      type: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 },
      parameters: { encoding: "UTF-8" },
      compression: Compression.GZIP,
      content: bomb,
    });
    const registry = new CodecRegistry();
    await expect(decodeContent(encoded, registry)).rejects.toThrow(/exceeds the maximum of 10485760 bytes/);
    await expect(decodeContent(encoded, registry, { maxDecompressedSize: 1000 })).rejects.toBeInstanceOf(
      InvalidContentError,
    );
  });

  it("reports corrupt compressed data", async () => {
    const encoded = rawEncodedContent({
      type: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 },
      parameters: { encoding: "UTF-8" },
      compression: Compression.DEFLATE,
      content: utf8ToBytes("definitely not zlib data"),
    });
    await expect(decodeContent(encoded, new CodecRegistry())).rejects.toThrow(/invalid deflate data/);
  });
});

describe("codec registry", () => {
  it("decodes an unknown type to undefined content, an error and the fallback", async () => {
    const sender = new CodecRegistry([new NumberCodec()]);
    const payload = await encodeContent(42, { contentType: ContentTypeNumber }, sender);
    const decoded = await decodeContent(payload, new CodecRegistry());
    expect(decoded.content).toBeUndefined();
    expect(decoded.error?.message).toBe("unknown content type example.org/number:1.2");
    expect(decoded.contentFallback).toBe("the number 42");
    expect(decoded.contentType.toString()).toBe("example.org/number:1.2");
  });

  it("round-trips a custom codec with its parameters, fallback and push hint", async () => {
    const registry = new CodecRegistry([new NumberCodec()]);
    const { payload, shouldPush } = await encodeContentPayload(42, { contentType: ContentTypeNumber }, registry);
    expect(shouldPush).toBe(false);
    expect(fromBinary(EncodedContentSchema, payload).parameters).toEqual({ unit: "none" });
    const decoded = await decodeContent(payload, registry);
    expect(decoded).toMatchObject({ content: 42, contentFallback: "the number 42" });
  });

  it("lets the caller override the fallback", async () => {
    const registry = new CodecRegistry([new NumberCodec()]);
    const payload = await encodeContent(7, { contentType: ContentTypeNumber, fallback: "seven" }, registry);
    expect(fromBinary(EncodedContentSchema, payload).fallback).toBe("seven");
  });

  it("matches a codec when the incoming major version is not higher than its own", () => {
    const registry = new CodecRegistry([new NumberCodec()]);
    const at = (versionMajor: number, versionMinor = 0) =>
      registry.codecFor({ authorityId: "example.org", typeId: "number", versionMajor, versionMinor });
    expect(at(0)).toBeInstanceOf(NumberCodec);
    expect(at(1, 9)).toBeInstanceOf(NumberCodec);
    expect(at(2)).toBeUndefined();
    expect(registry.codecFor({ authorityId: "example.org", typeId: "other", versionMajor: 1, versionMinor: 0 })).toBeUndefined();
  });

  it("reports a failing codec on the message instead of throwing", async () => {
    const encoded = rawEncodedContent({
      type: { authorityId: "example.org", typeId: "number", versionMajor: 1, versionMinor: 0 },
      fallback: "a number",
      content: utf8ToBytes("forty-two"),
    });
    const decoded = await decodeContent(encoded, new CodecRegistry([new NumberCodec()]));
    expect(decoded.content).toBeUndefined();
    expect(decoded.error?.message).toBe("cannot decode example.org/number:1.0 content: not a number");
    expect(decoded.contentFallback).toBe("a number");
  });

  it("refuses to encode a type it has no codec for", async () => {
    await expect(encodeContent(1, { contentType: ContentTypeNumber }, new CodecRegistry())).rejects.toThrow(
      "unknown content type example.org/number:1.2: register its codec first",
    );
  });

  it("rejects bytes that are not EncodedContent", async () => {
    const registry = new CodecRegistry();
    await expect(decodeContent(new Uint8Array([0xff, 0xff, 0xff]), registry)).rejects.toBeInstanceOf(InvalidContentError);
    await expect(decodeContent(rawEncodedContent({ content: utf8ToBytes("x") }), registry)).rejects.toThrow(
      "invalid EncodedContent: missing content type",
    );
  });

  it("rejects a codec without a content type", () => {
    expect(() => new CodecRegistry().register({} as ContentCodec)).toThrow(/codec has no contentType/);
  });

  it("rejects codec parameters that are not strings", async () => {
    const badCodec = new NumberCodec();
    badCodec.encode = (content: number) => ({
      type: ContentTypeNumber,
      parameters: { count: content as unknown as string },
      content: new Uint8Array(1),
    });
    await expect(encodeContent(3, { contentType: ContentTypeNumber }, new CodecRegistry([badCodec]))).rejects.toThrow(
      'returned parameter "count" that is not a string',
    );
  });
});

describe("ContentTypeId", () => {
  it("parses and prints authority/type:major.minor", () => {
    const id = ContentTypeId.fromString("xmtp.org/reaction:1.0");
    expect(id).toMatchObject({ authorityId: "xmtp.org", typeId: "reaction", versionMajor: 1, versionMinor: 0 });
    expect(id.toString()).toBe("xmtp.org/reaction:1.0");
    expect(id.sameAs(ContentTypeId.fromString("xmtp.org/reaction:2.1"))).toBe(true);
    expect(id.sameAs(ContentTypeText)).toBe(false);
  });

  it("names what is wrong with a malformed id", () => {
    expect(() => ContentTypeId.fromString("xmtp.org/text")).toThrow(
      'invalid content type "xmtp.org/text": expected "authority/type:major.minor"',
    );
  });
});
