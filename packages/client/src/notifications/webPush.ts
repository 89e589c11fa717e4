// Web Push as xmtp-notify takes it: a browser subscribes its push service with the notification service's VAPID key
// (RFC 8292) and hands the service the subscription (endpoint and keys, RFC 8291) as an installation's target. These
// helpers only convert and check what browsers give; no browser API is touched, so they run in Node.js too.
import { fromBase64 } from "@xmtp-ts/crypto";
import type { WebPushTarget } from "./NotifyApi.js";

/** What `PushSubscription.toJSON()` returns (the DOM's PushSubscriptionJSON), or the subscription itself. */
export type PushSubscriptionLike =
  | { endpoint?: string | null; keys?: Record<string, string | undefined> | null }
  | { toJSON(): { endpoint?: string | null; keys?: Record<string, string | undefined> | null } };

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** base64url (RFC 4648 section 5; padding optional, as browsers and push services write it without) to bytes. */
export function base64UrlToBytes(text: string): Uint8Array {
  if (!BASE64URL.test(text)) throw new TypeError("not base64url: only A-Z a-z 0-9 - _ are allowed");
  return fromBase64(text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/"));
}

/** An uncompressed P-256 point: 0x04, then x and y of 32 bytes each (the only form push keys take). */
function isUncompressedP256(bytes: Uint8Array): boolean {
  return bytes.length === 65 && bytes[0] === 0x04;
}

/**
 * The bytes of a VAPID public key (base64url of a 65-byte uncompressed P-256 point), for `applicationServerKey`.
 * Bytes, not the string, because not every browser accepts the string form there. Throws TypeError otherwise.
 */
export function decodeVapidPublicKey(key: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base64UrlToBytes(key);
  } catch (error) {
    throw new TypeError(`the VAPID public key is not base64url: ${(error as Error).message}`, { cause: error });
  }
  if (!isUncompressedP256(bytes)) {
    throw new TypeError(`the VAPID public key is not an uncompressed P-256 point (65 bytes from 0x04), got ${bytes.length} bytes`);
  }
  return bytes;
}

/** The key of the subscription under `name`, decoded and checked; TypeError naming what is wrong. */
function subscriptionKey(keys: Record<string, string | undefined> | null | undefined, name: "p256dh" | "auth"): string {
  const value = keys?.[name];
  if (typeof value !== "string" || value === "") throw new TypeError(`the push subscription has no keys.${name}`);
  let bytes: Uint8Array;
  try {
    bytes = base64UrlToBytes(value);
  } catch (error) {
    throw new TypeError(`the push subscription's keys.${name} is not base64url: ${(error as Error).message}`, { cause: error });
  }
  if (name === "p256dh" && !isUncompressedP256(bytes)) {
    throw new TypeError(`the push subscription's keys.p256dh is not an uncompressed P-256 point (65 bytes from 0x04)`);
  }
  // RFC 8291 section 3.2: the authentication secret is 16 bytes.
  if (name === "auth" && bytes.length !== 16) throw new TypeError(`the push subscription's keys.auth is ${bytes.length} bytes, not 16`);
  // Sent as browsers write them (no padding), which is what the service expects.
  return value.replace(/=+$/, "");
}

/**
 * The installation target of a browser's push subscription: pass the `PushSubscription` from
 * `pushManager.subscribe()` (or its `toJSON()`, e.g. kept from an earlier visit). Throws TypeError when it lacks
 * an http(s) endpoint or usable keys (a subscription made without `userVisibleOnly`/keys cannot carry payloads).
 */
export function webPushTarget(subscription: PushSubscriptionLike): WebPushTarget {
  const json = "toJSON" in subscription && typeof subscription.toJSON === "function" ? subscription.toJSON() : subscription;
  const { endpoint, keys } = json as { endpoint?: string | null; keys?: Record<string, string | undefined> | null };
  if (typeof endpoint !== "string" || endpoint === "") throw new TypeError("the push subscription has no endpoint");
  let protocol: string;
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    throw new TypeError(`the push subscription's endpoint is not a URL: ${endpoint}`);
  }
  if (protocol !== "https:" && protocol !== "http:") throw new TypeError(`the push subscription's endpoint is not an http(s) URL: ${endpoint}`);
  return { kind: "webpush", endpoint, keys: { p256dh: subscriptionKey(keys, "p256dh"), auth: subscriptionKey(keys, "auth") } };
}
