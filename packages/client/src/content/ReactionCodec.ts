import { bytesToUtf8, utf8ToBytes } from "@xmtp-ts/crypto";
import { ContentTypeId } from "./ContentTypeId.js";
import type { ContentCodec, EncodedContentShape } from "./types.js";

/** `xmtp.org/reaction:1.0`, the public content type for reactions (an emoji or a short text on an earlier message). */
export const ContentTypeReaction = new ContentTypeId({
  authorityId: "xmtp.org",
  typeId: "reaction",
  versionMajor: 1,
  versionMinor: 0,
});

export interface Reaction {
  /** The id of the message reacted to. */
  reference: string;
  /** Only for messages of inbox-id networks; absent on this one. */
  referenceInboxId?: string;
  action: "added" | "removed";
  /** How `content` is to be read: a Unicode emoji, a shortcode such as ":thumbsup:", or a custom name. */
  schema: "unicode" | "shortcode" | "custom";
  content: string;
}

const ACTIONS = new Set(["added", "removed"]);
const SCHEMAS = new Set(["unicode", "shortcode", "custom"]);

function checked(value: Partial<Reaction>): Reaction {
  if (typeof value.reference !== "string" || value.reference.length === 0) throw new Error("reaction without a reference");
  if (!value.action || !ACTIONS.has(value.action)) throw new Error(`reaction action ${JSON.stringify(value.action)} is not "added" or "removed"`);
  if (!value.schema || !SCHEMAS.has(value.schema)) throw new Error(`reaction schema ${JSON.stringify(value.schema)} is not unicode, shortcode or custom`);
  if (typeof value.content !== "string") throw new Error("reaction without content");
  return {
    reference: value.reference,
    ...(typeof value.referenceInboxId === "string" ? { referenceInboxId: value.referenceInboxId } : {}),
    action: value.action,
    schema: value.schema,
    content: value.content,
  };
}

/**
 * Reactions on the public wire format: the reaction as a UTF-8 JSON object in the content. Decoding also takes the
 * older form some clients still send (reference, action and schema as parameters, the bare emoji as content).
 */
export class ReactionCodec implements ContentCodec<Reaction> {
  get contentType(): ContentTypeId {
    return ContentTypeReaction;
  }

  encode(reaction: Reaction): EncodedContentShape {
    const value = checked(reaction);
    return { type: ContentTypeReaction, parameters: {}, content: utf8ToBytes(JSON.stringify(value)) };
  }

  decode(encoded: EncodedContentShape): Reaction {
    const text = bytesToUtf8(encoded.content);
    const parameters = encoded.parameters ?? {};
    if (parameters.reference !== undefined) {
      return checked({
        reference: parameters.reference,
        referenceInboxId: parameters.referenceInboxId,
        action: parameters.action as Reaction["action"],
        schema: parameters.schema as Reaction["schema"],
        content: text,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error("reaction content is not JSON");
    }
    if (typeof parsed !== "object" || parsed === null) throw new Error("reaction content is not an object");
    return checked(parsed as Partial<Reaction>);
  }

  fallback(reaction: Reaction): string | undefined {
    return reaction.action === "removed"
      ? `Removed “${reaction.content}” from an earlier message`
      : `Reacted “${reaction.content}” to an earlier message`;
  }

  /** A reaction is not worth a push notification. */
  shouldPush(): boolean {
    return false;
  }
}
