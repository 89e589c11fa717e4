// `xmtp-ts.org/postageGrant:1.0`: a relationship grant (docs/postage.md §3.3) sent inside a conversation, so a peer
// can hand a stranger's wallet a free first message without any other channel. The content is the signed grant's
// protobuf bytes; decoding checks their form only. Our client keeps the grants it receives this way on its own
// (BaseConversation.decodeMessage hands them to the grant store, which checks the signatures); other clients see
// the fallback text.
import { postageGrantFromBytes, type PostageGrant } from "../postage/PostageGrant.js";
import { ContentTypeId } from "./ContentTypeId.js";
import type { ContentCodec, EncodedContentShape } from "./types.js";

export const ContentTypePostageGrant = new ContentTypeId({
  authorityId: "xmtp-ts.org",
  typeId: "postageGrant",
  versionMajor: 1,
  versionMinor: 0,
});

export class PostageGrantCodec implements ContentCodec<PostageGrant> {
  get contentType(): ContentTypeId {
    return ContentTypePostageGrant;
  }

  /** Takes the grant `client.postage.grant()` made (or the bytes of one). */
  encode(content: PostageGrant | Uint8Array): EncodedContentShape {
    const bytes = content instanceof Uint8Array ? content : content?.bytes;
    if (!(bytes instanceof Uint8Array)) throw new TypeError("postage grant content must be a grant from client.postage.grant() or its bytes");
    // Encoding what decodes keeps garbage from ever being sent under this content type.
    return { type: ContentTypePostageGrant, parameters: {}, content: postageGrantFromBytes(bytes).bytes };
  }

  decode(content: EncodedContentShape): PostageGrant {
    return postageGrantFromBytes(content.content);
  }

  fallback(content: PostageGrant | Uint8Array): string | undefined {
    const grant = content instanceof Uint8Array ? postageGrantFromBytes(content) : content;
    return `A postage grant: ${grant.grantor} accepts first messages from ${grant.grantee} until ${grant.expiresAt.toISOString()}`;
  }

  shouldPush(): boolean {
    return false;
  }
}
