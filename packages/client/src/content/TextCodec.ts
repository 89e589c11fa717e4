import { bytesToUtf8, utf8ToBytes } from "@xmtp-ts/crypto";
import { ContentTypeId } from "./ContentTypeId.js";
import type { ContentCodec, EncodedContentShape } from "./types.js";

export const ContentTypeText = new ContentTypeId({
  authorityId: "xmtp.org",
  typeId: "text",
  versionMajor: 1,
  versionMinor: 0,
});

export const TEXT_ENCODING_UTF8 = "UTF-8";

/** `xmtp.org/text:1.0`: UTF-8 bytes with `encoding=UTF-8`, the one codec every client has. */
export class TextCodec implements ContentCodec<string> {
  get contentType(): ContentTypeId {
    return ContentTypeText;
  }

  encode(content: string): EncodedContentShape {
    if (typeof content !== "string") {
      throw new TypeError(`text content must be a string, got ${content === null ? "null" : typeof content}`);
    }
    return {
      type: ContentTypeText,
      parameters: { encoding: TEXT_ENCODING_UTF8 },
      content: utf8ToBytes(content),
    };
  }

  decode(content: EncodedContentShape): string {
    const encoding = content.parameters?.encoding;
    if (encoding !== TEXT_ENCODING_UTF8) {
      throw new Error(`unrecognized text encoding ${JSON.stringify(encoding)}: only "UTF-8" is supported`);
    }
    // Invalid sequences become U+FFFD rather than failing, as in the public SDK.
    return bytesToUtf8(content.content);
  }

  fallback(): string | undefined {
    return undefined;
  }

  shouldPush(): boolean {
    return true;
  }
}
