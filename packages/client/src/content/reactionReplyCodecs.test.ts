// Our reaction and reply codecs against the public ones (@xmtp/content-type-reaction / -reply, read through the
// public SDK's decodeContent), both ways, without a network.
import { createRequire } from "node:module";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CodecRegistry,
  ContentTypeReaction,
  ContentTypeReply,
  ContentTypeText,
  decodeContent,
  encodeContent,
  ReactionCodec,
  ReplyCodec,
  type Reaction,
  type Reply,
} from "./index.js";

const require = createRequire(import.meta.url);
const sdk = require("@xmtp/xmtp-js");
const publicReaction = require("@xmtp/content-type-reaction");
const publicReply = require("@xmtp/content-type-reply");
const { TextCodec: SdkTextCodec, ContentTypeText: SdkContentTypeText } = createRequire(require.resolve("@xmtp/xmtp-js"))(
  "@xmtp/content-type-text",
);

interface SdkClient {
  registerCodec(codec: unknown): void;
  encodeContent(content: unknown, options?: { contentType?: unknown }): Promise<{ payload: Uint8Array }>;
}
const sdkDecode = (bytes: Uint8Array, client: SdkClient): Promise<{ content: unknown; error?: Error; contentFallback?: string }> =>
  sdk.decodeContent(bytes, client);

let sdkClient: SdkClient;
const ours = new CodecRegistry([new ReactionCodec(), new ReplyCodec()]);

beforeAll(async () => {
  const keys = await sdk.PrivateKeyBundleV1.generate(Wallet.createRandom());
  sdkClient = new sdk.Client(keys.getPublicKeyBundle(), undefined, undefined, undefined);
  sdkClient.registerCodec(new SdkTextCodec());
  sdkClient.registerCodec(new publicReaction.ReactionCodec());
  sdkClient.registerCodec(new publicReply.ReplyCodec());
});

describe("ReactionCodec", () => {
  const reaction: Reaction = { reference: "aa11", action: "added", schema: "unicode", content: "👍" };

  it("has the public content type id", () => {
    expect(ContentTypeReaction.toString()).toBe(publicReaction.ContentTypeReaction.toString());
  });

  it("is read by the public codec, and reads what it writes, added and removed", async () => {
    const bySdk = await sdkDecode(await encodeContent(reaction, { contentType: ContentTypeReaction }, ours), sdkClient);
    expect(bySdk.error).toBeUndefined();
    expect(bySdk.content).toMatchObject(reaction);
    expect(bySdk.contentFallback).toBe("Reacted “👍” to an earlier message");
    const { payload } = await sdkClient.encodeContent({ ...reaction, action: "removed" }, { contentType: publicReaction.ContentTypeReaction });
    const byUs = await decodeContent(payload, ours);
    expect(byUs.error).toBeUndefined();
    expect(byUs.content).toEqual({ ...reaction, action: "removed" });
    expect(byUs.contentFallback).toBe("Removed “👍” from an earlier message");
  });

  it("reads the older form with the reaction in the parameters", () => {
    const codec = new ReactionCodec();
    const decoded = codec.decode({
      type: ContentTypeReaction,
      parameters: { reference: "bb22", action: "added", schema: "shortcode" },
      content: new TextEncoder().encode(":smile:"),
    });
    expect(decoded).toEqual({ reference: "bb22", action: "added", schema: "shortcode", content: ":smile:" });
  });

  it("refuses reactions that are not one", async () => {
    const codec = new ReactionCodec();
    expect(() => codec.encode({ ...reaction, action: "liked" as Reaction["action"] })).toThrow(/not "added" or "removed"/);
    expect(() => codec.encode({ ...reaction, reference: "" })).toThrow(/reference/);
    const bytes = { type: ContentTypeReaction, parameters: {}, content: new TextEncoder().encode("not json") };
    expect(() => codec.decode(bytes)).toThrow(/not JSON/);
  });
});

describe("ReplyCodec", () => {
  it("has the public content type id", () => {
    expect(ContentTypeReply.toString()).toBe(publicReply.ContentTypeReply.toString());
  });

  it("writes a text reply the public codec reads", async () => {
    const reply: Reply = { reference: "cc33", contentType: ContentTypeText, content: "quoted answer" };
    const bySdk = await sdkDecode(await encodeContent(reply, { contentType: ContentTypeReply }, ours), sdkClient);
    expect(bySdk.error).toBeUndefined();
    expect(bySdk.content).toMatchObject({ reference: "cc33", content: "quoted answer" });
    expect(String((bySdk.content as { contentType: unknown }).contentType)).toBe("xmtp.org/text:1.0");
    expect(bySdk.contentFallback).toBe("Replied with “quoted answer” to an earlier message");
  });

  it("reads a reply the public codec writes, and a reply wrapping a reaction", async () => {
    const { payload } = await sdkClient.encodeContent(
      { reference: "dd44", contentType: SdkContentTypeText, content: "from the SDK" },
      { contentType: publicReply.ContentTypeReply },
    );
    const byUs = await decodeContent<Reply>(payload, ours);
    expect(byUs.error).toBeUndefined();
    expect(byUs.content?.reference).toBe("dd44");
    expect(byUs.content?.content).toBe("from the SDK");
    expect(String(byUs.content?.contentType)).toBe("xmtp.org/text:1.0");

    const inner: Reaction = { reference: "ee55", action: "added", schema: "unicode", content: "🎉" };
    const nested = await encodeContent({ reference: "ee55", contentType: ContentTypeReaction, content: inner }, { contentType: ContentTypeReply }, ours);
    expect((await decodeContent<Reply>(nested, ours)).content?.content).toEqual(inner);
    expect((await sdkDecode(nested, sdkClient)).content).toMatchObject({ reference: "ee55", content: inner });
  });

  it("refuses a reply without a reference or with content it has no codec for", () => {
    const codec = new ReplyCodec();
    expect(() => codec.encode({ reference: "", contentType: ContentTypeText, content: "x" }, ours)).toThrow(/reference/);
    const unknownType = { authorityId: "example.org", typeId: "nope", versionMajor: 1, versionMinor: 0 };
    expect(() => codec.encode({ reference: "ff66", contentType: unknownType, content: "x" }, ours)).toThrow(/unknown type/);
  });
});
