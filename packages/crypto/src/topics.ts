// docs/protocol/api.md §5: content topic names. Addresses are EIP-55; pairs are sorted as JS sorts strings.
import { toChecksumAddress } from "./address.js";

const wrap = (name: string) => `/xmtp/0/${name}/proto`;

export const contactTopic = (address: string) => wrap(`contact-${toChecksumAddress(address)}`);
export const privateStoreKeyBundleTopic = (address: string) => wrap(`privatestore-${toChecksumAddress(address)}/key_bundle`);
export const inviteTopic = (address: string) => wrap(`invite-${toChecksumAddress(address)}`);
export const introTopic = (address: string) => wrap(`intro-${toChecksumAddress(address)}`);

function sortedPair(a: string, b: string): string {
  const [x, y] = [toChecksumAddress(a), toChecksumAddress(b)].sort();
  return `${x}-${y}`;
}

export const directMessageTopic = (a: string, b: string) => wrap(`dm-${sortedPair(a, b)}`);
export const ephemeralDirectMessageTopic = (a: string, b: string) => wrap(`dmE-${sortedPair(a, b)}`);

/** The ephemeral twin of a v2 conversation topic: `/xmtp/0/m…` → `/xmtp/0/mE…`. */
export function ephemeralTopicOf(topic: string): string {
  if (topic.startsWith("/xmtp/0/m-")) return topic.replace("/xmtp/0/m", "/xmtp/0/mE");
  if (topic.startsWith("/xmtp/0/dm-")) return topic.replace("/xmtp/0/dm-", "/xmtp/0/dmE-");
  throw new TypeError(`not a conversation topic: ${topic}`);
}

/** The SDK drops conversation topics whose name has characters outside 0x21-0x7F. */
export function isValidTopic(topic: string): boolean {
  const name = topic.replace(/^\/xmtp\/0\//, "").replace(/\/proto$/, "");
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7f) return false;
  }
  return name.length > 0;
}
