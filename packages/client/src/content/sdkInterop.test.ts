// Our codec registry against the public SDK's content encoding, both ways, without a network: the SDK's
// Client.encodeContent/decodeContent only use its codec map.
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { fromBinary, EncodedContentSchema } from "@xmtp-ts/proto";
import {
  CodecRegistry,
  Compression,
  ContentTypeId,
  ContentTypeText,
  decodeContent,
  encodeContent,
  type ContentCodec,
  type EncodedContentShape,
} from "./index.js";

const require = createRequire(import.meta.url);
// The public SDK and codecs are only peers to check against; their ES-module builds fail on Node 20.
const sdk = require("@xmtp/xmtp-js");
const { ReactionCodec, ContentTypeReaction } = require("@xmtp/content-type-reaction");
const { ReplyCodec, ContentTypeReply } = require("@xmtp/content-type-reply");
// The SDK's own text codec, resolved from the SDK so we test against the exact copy it uses.
const { TextCodec: SdkTextCodec, ContentTypeText: SdkContentTypeText } = createRequire(
  require.resolve("@xmtp/xmtp-js"),
)("@xmtp/content-type-text");

interface SdkClient {
  registerCodec(codec: unknown): void;
  encodeContent(content: unknown, options?: { contentType?: unknown; compression?: number }): Promise<{ payload: Uint8Array }>;
}

interface SdkDecoded {
  content: unknown;
  contentType: { toString(): string };
  error?: Error;
  contentFallback?: string;
}

const sdkDecode = (bytes: Uint8Array, client: SdkClient): Promise<SdkDecoded> => sdk.decodeContent(bytes, client);

/** A codec only one side knows, to exercise unknown types and fallbacks. */
const ContentTypeSecret = new ContentTypeId({ authorityId: "example.org", typeId: "secret", versionMajor: 1, versionMinor: 0 });
class SecretCodec implements ContentCodec<string> {
  contentType = ContentTypeSecret;
  encode(content: string): EncodedContentShape {
    return { type: ContentTypeSecret, parameters: {}, content: new TextEncoder().encode(content) };
  }
  decode(content: EncodedContentShape): string {
    return new TextDecoder().decode(content.content);
  }
  fallback(): string {
    return "a secret you cannot read";
  }
  shouldPush(): boolean {
    return true;
  }
}

let sdkClient: SdkClient;
let ours: CodecRegistry;

beforeAll(async () => {
  const keys = await sdk.PrivateKeyBundleV1.generate(Wallet.createRandom());
  sdkClient = new sdk.Client(keys.getPublicKeyBundle(), undefined, undefined, undefined);
  sdkClient.registerCodec(new SdkTextCodec());
  sdkClient.registerCodec(new ReactionCodec());
  sdkClient.registerCodec(new ReplyCodec());
  ours = new CodecRegistry([new ReactionCodec(), new ReplyCodec()]);
});

describe("text and compression with the public SDK", () => {
  const long = "The quick brown fox jumps over the lazy dog. ".repeat(12);

  for (const [name, compression] of [
    ["plain", undefined],
    ["deflate", Compression.DEFLATE],
    ["gzip", Compression.GZIP],
  ] as const) {
    it(`SDK reads our ${name} text`, async () => {
      const bytes = await encodeContent(long, { compression }, ours);
      expect(fromBinary(EncodedContentSchema, bytes).compression).toBe(compression);
      const decoded = await sdkDecode(bytes, sdkClient);
      expect(decoded.error).toBeUndefined();
      expect(decoded.content).toBe(long);
      expect(decoded.contentType.toString()).toBe("xmtp.org/text:1.0");
    });

    it(`we read the SDK's ${name} text`, async () => {
      const { payload } = await sdkClient.encodeContent(long, { compression });
      expect(fromBinary(EncodedContentSchema, payload).compression).toBe(compression);
      const decoded = await decodeContent(payload, ours);
      expect(decoded.error).toBeUndefined();
      expect(decoded.content).toBe(long);
      expect(decoded.contentType.toString()).toBe("xmtp.org/text:1.0");
    });
  }

  it("sends content over 1,000 bytes uncompressed, which SDK receivers can read", async () => {
    const big = "z".repeat(5000);
    const ourBytes = await encodeContent(big, { compression: Compression.DEFLATE }, ours);
    expect((await sdkDecode(ourBytes, sdkClient)).content).toBe(big);
    // What the SDK itself sends in that case is unreadable for SDK receivers: the limit is real.
    const { payload } = await sdkClient.encodeContent(big, { compression: Compression.DEFLATE });
    await expect(sdkDecode(payload, sdkClient)).rejects.toThrow(/maximum output size exceeded/);
    expect((await decodeContent(payload, ours)).content).toBe(big);
  });
});

describe("the public reaction and reply codecs", () => {
  const reaction = { reference: "abc123", action: "added", schema: "unicode", content: "👍" };

  it("register and round-trip in our registry", async () => {
    const bytes = await encodeContent(reaction, { contentType: ContentTypeReaction }, ours);
    const decoded = await decodeContent(bytes, ours);
    expect(decoded.content).toEqual({ ...reaction, referenceInboxId: undefined });
    expect(decoded.contentFallback).toBe("Reacted “👍” to an earlier message");
    expect(decoded.contentType.toString()).toBe("xmtp.org/reaction:1.0");
  });

  it("our reaction decodes in the SDK and the SDK's in ours", async () => {
    const ourBytes = await encodeContent(reaction, { contentType: ContentTypeReaction }, ours);
    const bySdk = await sdkDecode(ourBytes, sdkClient);
    expect(bySdk.content).toMatchObject(reaction);
    expect(bySdk.contentFallback).toBe("Reacted “👍” to an earlier message");

    const { payload } = await sdkClient.encodeContent({ ...reaction, action: "removed" }, { contentType: ContentTypeReaction });
    const byUs = await decodeContent(payload, ours);
    expect(byUs.content).toMatchObject({ ...reaction, action: "removed" });
    expect(byUs.contentFallback).toBe("Removed “👍” from an earlier message");
  });

  it("a reply wrapping our text decodes in the SDK", async () => {
    const reply = { reference: "msg-1", contentType: ContentTypeText, content: "replying here" };
    const bytes = await encodeContent(reply, { contentType: ContentTypeReply }, ours);
    const bySdk = await sdkDecode(bytes, sdkClient);
    expect(bySdk.error).toBeUndefined();
    expect(bySdk.content).toMatchObject({ reference: "msg-1", content: "replying here" });
    expect((bySdk.content as { contentType: object }).contentType.toString()).toBe("xmtp.org/text:1.0");
    expect(bySdk.contentFallback).toBe("Replied with “replying here” to an earlier message");
  });

  it("a reply the SDK wraps around its text decodes with our text codec inside", async () => {
    const reply = { reference: "msg-2", contentType: SdkContentTypeText, content: "from the SDK" };
    const { payload } = await sdkClient.encodeContent(reply, { contentType: ContentTypeReply });
    const byUs = await decodeContent<{ reference: string; content: unknown; contentType: object }>(payload, ours);
    expect(byUs.error).toBeUndefined();
    expect(byUs.content?.reference).toBe("msg-2");
    expect(byUs.content?.content).toBe("from the SDK");
    expect(byUs.content?.contentType.toString()).toBe("xmtp.org/text:1.0");
  });

  it("a reply to a reaction round-trips in our registry", async () => {
    const reply = { reference: "msg-3", contentType: ContentTypeReaction, content: reaction };
    const bytes = await encodeContent(reply, { contentType: ContentTypeReply }, ours);
    const decoded = await decodeContent<{ content: unknown }>(bytes, ours);
    expect(decoded.content?.content).toMatchObject(reaction);
    expect(decoded.contentFallback).toBe("Replied to an earlier message");
  });
});

describe("unknown content types with the public SDK", () => {
  it("the SDK gets our fallback for a type it lacks", async () => {
    const bytes = await encodeContent("hidden", { contentType: ContentTypeSecret }, new CodecRegistry([new SecretCodec()]));
    const bySdk = await sdkDecode(bytes, sdkClient);
    expect(bySdk.content).toBeUndefined();
    expect(bySdk.error?.message).toBe("unknown content type example.org/secret:1.0");
    expect(bySdk.contentFallback).toBe("a secret you cannot read");
  });

  it("we get the SDK's fallback for a type we lack", async () => {
    const keys = await sdk.PrivateKeyBundleV1.generate(Wallet.createRandom());
    const sender: SdkClient = new sdk.Client(keys.getPublicKeyBundle(), undefined, undefined, undefined);
    sender.registerCodec(new SecretCodec());
    const { payload } = await sender.encodeContent("hidden", { contentType: ContentTypeSecret });
    const byUs = await decodeContent(payload, new CodecRegistry());
    expect(byUs.content).toBeUndefined();
    expect(byUs.error?.message).toBe("unknown content type example.org/secret:1.0");
    expect(byUs.contentFallback).toBe("a secret you cannot read");
  });
});
