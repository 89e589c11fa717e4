// Envelopes as the node's JSON API carries them, and their identity (docs/protocol/api.md §2.1, §2.2).
import { createHash } from "node:crypto";
import type { NotifyEnvelope } from "./store/NotifyStore.js";

/** An envelope's identity, as the node computes it: sha256(topic ‖ message), here as lowercase hex. */
export function envelopeDigest(topic: string, message: Uint8Array): string {
  return createHash("sha256").update(Buffer.from(topic, "utf8")).update(message).digest("hex");
}

export function makeEnvelope(topic: string, timestampNs: bigint, message: Uint8Array): NotifyEnvelope {
  return { topic, timestampNs, message, digest: envelopeDigest(topic, message) };
}

const UINT64_MAX = (1n << 64n) - 1n;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads one envelope of the node's JSON (`{contentTopic, timestampNs, message}`, snake_case accepted); throws with
 * what is wrong on anything else.
 */
export function envelopeFromJson(value: unknown): NotifyEnvelope {
  if (typeof value !== "object" || value === null) throw new Error("envelope is not an object");
  const record = value as Record<string, unknown>;
  const topic = record.contentTopic ?? record.content_topic;
  const timestamp = record.timestampNs ?? record.timestamp_ns ?? "0";
  const message = record.message ?? "";
  if (typeof topic !== "string" || topic.length === 0) throw new Error("envelope has no contentTopic");
  if (typeof timestamp !== "string" && typeof timestamp !== "number") throw new Error("envelope timestampNs is not a number");
  if (!/^\d+$/.test(String(timestamp))) throw new Error("envelope timestampNs is not a decimal integer");
  const timestampNs = BigInt(timestamp);
  if (timestampNs > UINT64_MAX) throw new Error("envelope timestampNs is out of range");
  if (typeof message !== "string" || message.length % 4 !== 0 || !BASE64.test(message)) {
    throw new Error("envelope message is not standard base64");
  }
  return makeEnvelope(topic, timestampNs, new Uint8Array(Buffer.from(message, "base64")));
}

/** The JSON the node uses for an envelope; the webhook body carries this. */
export function envelopeToJson(envelope: NotifyEnvelope): { contentTopic: string; timestampNs: string; message: string } {
  return {
    contentTopic: envelope.topic,
    timestampNs: envelope.timestampNs.toString(),
    message: Buffer.from(envelope.message).toString("base64"),
  };
}
