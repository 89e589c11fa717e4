// Delivery targets as the API takes them: webhooks and Web Push subscriptions. A new kind adds a case here and a
// sender in src/delivery/sender.ts.
import type { DeliveryTarget } from "./store/NotifyStore.js";
import { checkSubscriptionKeys, PushKeyError } from "./webpush/payloadEncryption.js";

export const MAX_TARGET_URL_LENGTH = 2_048;

/** Thrown for bad input; `field` names the request field at fault (e.g. "target.url", "topics[2]"). */
export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "InputError";
  }
}

export function parseTarget(value: unknown, field = "target"): DeliveryTarget {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(field, 'must be an object such as {"kind":"webhook","url":"https://…"} or {"kind":"webpush","endpoint":"https://…","keys":{"p256dh":"…","auth":"…"}}');
  }
  const record = value as Record<string, unknown>;
  switch (record.kind) {
    case "webhook":
      rejectOtherFields(record, ["kind", "url"], field);
      return { kind: "webhook", url: parseHttpUrl(record.url, `${field}.url`) };
    case "webpush":
      rejectOtherFields(record, ["kind", "endpoint", "keys", "expirationTime"], field);
      return { kind: "webpush", endpoint: parseHttpUrl(record.endpoint, `${field}.endpoint`), keys: parsePushKeys(record.keys, `${field}.keys`) };
    default:
      throw new InputError(`${field}.kind`, `must be "webhook" or "webpush", got ${JSON.stringify(record.kind ?? null)}`);
  }
}

// `expirationTime` is accepted because it is part of what PushSubscription.toJSON() gives; it is not kept.
function rejectOtherFields(record: Record<string, unknown>, allowed: string[], field: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) throw new InputError(`${field}.${key}`, `unknown field (expected ${allowed.join(", ")})`);
  }
}

/** base64url (padding tolerated) to bytes; anything else is refused rather than decoded leniently. */
function parseBase64Url(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw new InputError(field, "must be a base64url string");
  return Buffer.from(value.replace(/=+$/, ""), "base64url");
}

function parsePushKeys(value: unknown, field: string): { p256dh: string; auth: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(field, "must be an object with p256dh and auth (as PushSubscription.toJSON().keys gives them)");
  }
  const record = value as Record<string, unknown>;
  rejectOtherFields(record, ["p256dh", "auth"], field);
  const p256dh = parseBase64Url(record.p256dh, `${field}.p256dh`);
  const auth = parseBase64Url(record.auth, `${field}.auth`);
  try {
    checkSubscriptionKeys({ p256dh, auth });
  } catch (error) {
    if (!(error instanceof PushKeyError)) throw error;
    throw new InputError(error.message.startsWith("auth") ? `${field}.auth` : `${field}.p256dh`, error.message);
  }
  // Kept in one spelling (unpadded base64url) whatever the browser sent.
  return { p256dh: Buffer.from(p256dh).toString("base64url"), auth: Buffer.from(auth).toString("base64url") };
}

function parseHttpUrl(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0) throw new InputError(field, "must be a non-empty string");
  if (value.length > MAX_TARGET_URL_LENGTH) throw new InputError(field, `must be at most ${MAX_TARGET_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InputError(field, "is not an absolute URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InputError(field, "must be an http: or https: URL");
  if (parsed.username || parsed.password) throw new InputError(field, "must not carry a user name or password");
  return parsed.toString();
}
