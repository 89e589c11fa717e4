// Delivery targets as the API takes them. One kind today (webhook); a new kind adds a case here and a sender.
import type { DeliveryTarget } from "./store/NotifyStore.js";

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
    throw new InputError(field, 'must be an object such as {"kind":"webhook","url":"https://…"}');
  }
  const record = value as Record<string, unknown>;
  switch (record.kind) {
    case "webhook":
      return { kind: "webhook", url: parseWebhookUrl(record.url, `${field}.url`) };
    default:
      throw new InputError(`${field}.kind`, `must be "webhook" (the only kind this service delivers to), got ${JSON.stringify(record.kind ?? null)}`);
  }
}

function parseWebhookUrl(value: unknown, field: string): string {
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
