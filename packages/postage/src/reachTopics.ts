// docs/postage.md §1: the topics through which a stranger reaches a wallet, and whose they are.
//
// The node decides who owns `contact-`/`privatestore-` topics by a prefix of the topic's first name segment and
// compares the owner as an exact EIP-55 string (packages/node/src/auth.ts `topicOwner`). Reach topics are read
// the same way, so that a topic the node would call `invite-…` is never missed here: any topic whose first
// segment starts with `invite-` or `intro-` is a reach topic *candidate*, and only the exact form every SDK
// subscribes to, `/xmtp/0/invite-<EIP-55 address>/proto`, has an owner. A candidate without an owner (lower-case
// address, extra path segments, not an address at all) is read by nobody; `checkPostage` refuses it rather than
// letting it through free, as the node refuses a write to a contact topic whose owner string no wallet matches.
import { toChecksumAddress } from "@xmtp-ts/crypto";
import { isEip55Address } from "./addresses.js";

export type ReachTopicKind = "invite" | "intro";

export interface ReachTopic {
  kind: ReachTopicKind;
  /** The wallet the topic belongs to, EIP-55, exactly as written in the topic. */
  owner: string;
}

const XMTP_PREFIX = "/xmtp/0/";
const KINDS: readonly ReachTopicKind[] = ["invite", "intro"];

/** The reach topic kind a topic claims by its first name segment (as the node parses owned topics), if any. */
export function reachTopicKind(contentTopic: string): ReachTopicKind | undefined {
  if (!contentTopic.startsWith(XMTP_PREFIX)) return undefined;
  const rest = contentTopic.slice(XMTP_PREFIX.length);
  const slash = rest.indexOf("/");
  const name = slash >= 0 ? rest.slice(0, slash) : rest;
  return KINDS.find((kind) => name.startsWith(`${kind}-`));
}

/**
 * The kind and owner of a reach topic in its one canonical form, `/xmtp/0/<kind>-<EIP-55 address>/proto`;
 * undefined for every other topic, including reach topic candidates that are not canonical.
 */
export function parseReachTopic(contentTopic: string): ReachTopic | undefined {
  const kind = reachTopicKind(contentTopic);
  if (kind === undefined) return undefined;
  const prefix = `${XMTP_PREFIX}${kind}-`;
  const suffix = "/proto";
  if (!contentTopic.endsWith(suffix)) return undefined;
  const owner = contentTopic.slice(prefix.length, contentTopic.length - suffix.length);
  if (!isEip55Address(owner)) return undefined;
  return { kind, owner };
}

/** The reach topic of `owner` (any case in, EIP-55 in the topic). */
export function reachTopic(kind: ReachTopicKind, owner: string): string {
  return `${XMTP_PREFIX}${kind}-${toChecksumAddress(owner)}/proto`;
}
