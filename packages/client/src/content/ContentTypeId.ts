import type { ContentTypeIdShape } from "./types.js";

/**
 * A content type such as `xmtp.org/text:1.0`. Same fields and string form as the ContentTypeId class of
 * `@xmtp/content-type-primitives`, so codecs written for the public SDK can call `toString()` and `sameAs()`
 * on the ids we hand them.
 */
export class ContentTypeId implements ContentTypeIdShape {
  readonly authorityId: string;
  readonly typeId: string;
  readonly versionMajor: number;
  readonly versionMinor: number;

  constructor(id: ContentTypeIdShape) {
    this.authorityId = id.authorityId;
    this.typeId = id.typeId;
    this.versionMajor = id.versionMajor;
    this.versionMinor = id.versionMinor;
  }

  toString(): string {
    return `${this.authorityId}/${this.typeId}:${this.versionMajor}.${this.versionMinor}`;
  }

  /** Parses `authority/type:major.minor`, e.g. `xmtp.org/reaction:1.0`. */
  static fromString(text: string): ContentTypeId {
    const match = /^([^/:\s]+)\/([^/:\s]+):(\d+)\.(\d+)$/.exec(text);
    if (!match) {
      throw new TypeError(`invalid content type ${JSON.stringify(text)}: expected "authority/type:major.minor"`);
    }
    return new ContentTypeId({
      authorityId: match[1],
      typeId: match[2],
      versionMajor: Number(match[3]),
      versionMinor: Number(match[4]),
    });
  }

  /** Same authority and type, whatever the version (as in the public SDK). */
  sameAs(other: ContentTypeIdShape): boolean {
    return this.authorityId === other.authorityId && this.typeId === other.typeId;
  }
}

/** The registry key of a content type: versions are matched separately. */
export function contentTypeKey(id: ContentTypeIdShape): string {
  return `${id.authorityId}/${id.typeId}`;
}
