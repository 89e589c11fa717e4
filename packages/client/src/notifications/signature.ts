// The webhook signature (packages/notify/README.md "Webhooks"): `X-Xmtp-Notify-Signature: sha256=<hex>`, the
// HMAC-SHA256 of the exact body bytes under the installation's secret. WebCrypto, so it runs in browsers too.
import { fromHex } from "@xmtp-ts/crypto";

/** The header carrying the signature (HTTP header names are case-insensitive). */
export const PUSH_SIGNATURE_HEADER = "x-xmtp-notify-signature";

const encoder = new TextEncoder();

async function hmacSha256(secret: string, body: Uint8Array): Promise<Uint8Array> {
  const key = await globalThis.crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, new Uint8Array(body)));
}

/** Compares in time that depends only on the lengths, never on where the bytes differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/**
 * Whether `header` (the `X-Xmtp-Notify-Signature` value) is the signature of `body` under `secret`. Pass the body
 * exactly as received (the raw bytes or their UTF-8 text), before any JSON parsing. False for a missing, repeated or
 * malformed header; never throws on what the sender controls.
 */
export async function verifyPushSignature(
  secret: string,
  body: string | Uint8Array,
  header: string | readonly string[] | null | undefined,
): Promise<boolean> {
  // node:http gives a repeated header as an array: one value is usable, several are not.
  if (Array.isArray(header)) header = header.length === 1 ? (header[0] as string) : undefined;
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const hex = header.slice("sha256=".length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return constantTimeEqual(await hmacSha256(secret, bytes), fromHex(hex));
}

/** The header value for `body` under `secret` (for tests and for a receiver that forwards deliveries). */
export async function signPushBody(secret: string, body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  let hex = "";
  for (const byte of await hmacSha256(secret, bytes)) hex += byte.toString(16).padStart(2, "0");
  return "sha256=" + hex;
}
