// Reactions and replies as the thread shows them (the public content types xmtp.org/reaction:1.0 and
// xmtp.org/reply:1.0, whose codecs the client registers). Pure: messages in, what to draw out.
import type { ChatMessage } from "./xmtp.js";

/** The quick reactions offered on every message. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉"] as const;

export interface ReactionContent {
  reference: string;
  action: "added" | "removed";
  schema: string;
  content: string;
}

export interface ReplyContent {
  reference: string;
  content: unknown;
}

/** One emoji under a message: how many people have it on, and whether we are one of them. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  mine: boolean;
}

function typeIs(message: ChatMessage, typeId: string): boolean {
  return message.contentType?.authorityId === "xmtp.org" && message.contentType.typeId === typeId;
}

/** The reaction a message carries, if it is one (and readable). */
export function reactionOf(message: ChatMessage): ReactionContent | undefined {
  if (message.error || !typeIs(message, "reaction")) return undefined;
  const c = message.content as Partial<ReactionContent> | undefined;
  if (!c || typeof c.reference !== "string" || typeof c.content !== "string") return undefined;
  if (c.action !== "added" && c.action !== "removed") return undefined;
  return { reference: c.reference, action: c.action, schema: String(c.schema ?? "unicode"), content: c.content };
}

/** The reply a message carries, if it is one (and readable). */
export function replyOf(message: ChatMessage): ReplyContent | undefined {
  if (message.error || !typeIs(message, "reply")) return undefined;
  const c = message.content as Partial<ReplyContent> | undefined;
  if (!c || typeof c.reference !== "string") return undefined;
  return { reference: c.reference, content: c.content };
}

/**
 * The reactions on each message of a thread (oldest first), by the referenced message's id: per person and emoji
 * the latest action counts (added, then removed, is off), in the order the emoji were first used.
 */
export function reactionsByMessage(messages: readonly ChatMessage[], me: string): Map<string, ReactionSummary[]> {
  const on = new Map<string, Map<string, Set<string>>>(); // reference → emoji → senders with it on
  for (const message of messages) {
    const reaction = reactionOf(message);
    if (!reaction) continue;
    let emojis = on.get(reaction.reference);
    if (!emojis) on.set(reaction.reference, (emojis = new Map()));
    let senders = emojis.get(reaction.content);
    if (!senders) emojis.set(reaction.content, (senders = new Set()));
    if (reaction.action === "added") senders.add(message.senderAddress);
    else senders.delete(message.senderAddress);
  }
  const summaries = new Map<string, ReactionSummary[]>();
  for (const [reference, emojis] of on) {
    const list = [...emojis]
      .filter(([, senders]) => senders.size > 0)
      .map(([emoji, senders]) => ({ emoji, count: senders.size, mine: senders.has(me) }));
    if (list.length > 0) summaries.set(reference, list);
  }
  return summaries;
}

/** Whether tapping `emoji` on a message adds it or takes ours off. */
export function reactionToggle(summaries: readonly ReactionSummary[] | undefined, emoji: string): "added" | "removed" {
  return summaries?.some((s) => s.emoji === emoji && s.mine) ? "removed" : "added";
}

/** The words of a message's own text: plain text, or the text a reply wraps; undefined for anything else. */
export function plainText(message: ChatMessage): string | undefined {
  if (message.error) return undefined;
  if (typeof message.content === "string") return message.content;
  const reply = replyOf(message);
  return typeof reply?.content === "string" ? reply.content : undefined;
}
