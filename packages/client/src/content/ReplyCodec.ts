import { create, fromBinary, toBinary, EncodedContentSchema } from "@xmtp-ts/proto";
import { ContentTypeId } from "./ContentTypeId.js";
import type { CodecRegistryShape, ContentCodec, ContentTypeIdShape, EncodedContentShape } from "./types.js";

/** `xmtp.org/reply:1.0`, the public content type for a message that answers an earlier one. */
export const ContentTypeReply = new ContentTypeId({
  authorityId: "xmtp.org",
  typeId: "reply",
  versionMajor: 1,
  versionMinor: 0,
});

export interface Reply {
  /** The id of the message replied to. */
  reference: string;
  /** Only for messages of inbox-id networks; absent on this one. */
  referenceInboxId?: string;
  /** The type of `content` (text for a plain answer); its codec must be registered. */
  contentType: ContentTypeIdShape;
  content: unknown;
}

/**
 * Replies on the public wire format: the parameters name the reference and the inner content type, and the content
 * is the inner content as a whole EncodedContent (protobuf), encoded and decoded with the registry's codec for it.
 */
export class ReplyCodec implements ContentCodec<Reply> {
  get contentType(): ContentTypeId {
    return ContentTypeReply;
  }

  encode(reply: Reply, registry: CodecRegistryShape): EncodedContentShape {
    if (typeof reply?.reference !== "string" || reply.reference.length === 0) throw new Error("reply without a reference");
    const innerType = new ContentTypeId(reply.contentType);
    const codec = registry.codecFor(innerType);
    if (!codec) throw new Error(`reply content of unknown type ${innerType}: register its codec first`);
    const inner = codec.encode(reply.content, registry);
    const type = inner.type ?? innerType;
    const fallback = codec.fallback(reply.content);
    const bytes = toBinary(
      EncodedContentSchema,
      create(EncodedContentSchema, {
        type: { authorityId: type.authorityId, typeId: type.typeId, versionMajor: type.versionMajor, versionMinor: type.versionMinor },
        parameters: { ...(inner.parameters ?? {}) },
        fallback: fallback || undefined,
        content: inner.content,
      }),
    );
    const parameters: Record<string, string> = { reference: reply.reference, contentType: innerType.toString() };
    if (reply.referenceInboxId) parameters.referenceInboxId = reply.referenceInboxId;
    return { type: ContentTypeReply, parameters, content: bytes };
  }

  decode(encoded: EncodedContentShape, registry: CodecRegistryShape): Reply {
    const reference = encoded.parameters?.reference;
    if (!reference) throw new Error("reply without a reference");
    const inner = fromBinary(EncodedContentSchema, encoded.content);
    const typeId = inner.type ?? (encoded.parameters.contentType ? ContentTypeId.fromString(encoded.parameters.contentType) : undefined);
    if (!typeId) throw new Error("reply content without a content type");
    const contentType = new ContentTypeId(typeId);
    if (inner.compression !== undefined) throw new Error("compressed reply content is not supported");
    const codec = registry.codecFor(contentType);
    if (!codec) throw new Error(`reply content of unknown type ${contentType}`);
    const content: unknown = codec.decode(
      { type: contentType, parameters: { ...inner.parameters }, fallback: inner.fallback, content: inner.content },
      registry,
    );
    return {
      reference,
      ...(encoded.parameters.referenceInboxId ? { referenceInboxId: encoded.parameters.referenceInboxId } : {}),
      contentType,
      content,
    };
  }

  fallback(reply: Reply): string | undefined {
    return typeof reply.content === "string" ? `Replied with “${reply.content}” to an earlier message` : "Replied to an earlier message";
  }

  shouldPush(): boolean {
    return true;
  }
}
