// What a node accepts from its peers (relay and sync). A peer is not trusted to have run the publishing checks, so
// every envelope that arrives over the network is checked again here before it reaches storage or subscribers.
import { MAX_POSTAGE_PROOF_BYTES } from "@xmtp-ts/postage";
import type { Envelope } from "../store/EnvelopeStore.js";

/** The largest envelope message relayed between nodes (1 MiB). */
export const MAX_RELAYED_MESSAGE_BYTES = 1024 * 1024;
export const MAX_TOPIC_LENGTH = 300;
/** Envelope timestamps travel as WakuMessage sint64, so the largest relayable timestampNs is 2^63 - 1. */
export const MAX_RELAYED_TIMESTAMP_NS = (1n << 63n) - 1n;

const XMTP_TOPIC_PREFIX = "/xmtp/0/";
const XMTP_TOPIC_SUFFIX = "/proto";
const TEST_TOPIC_PREFIX = "test-";
// Topics are ASCII identifiers on the wire; control characters and spaces never occur in a valid one.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** Returns why a topic cannot be relayed, or undefined when it is acceptable. */
export function relayTopicProblem(topic: string): string | undefined {
  if (topic.length === 0) return "empty content topic";
  if (topic.length > MAX_TOPIC_LENGTH) return `content topic longer than ${MAX_TOPIC_LENGTH} characters`;
  if (!PRINTABLE_ASCII.test(topic)) return "content topic has characters outside printable ASCII";
  if (topic.startsWith(TEST_TOPIC_PREFIX)) return undefined;
  if (
    topic.startsWith(XMTP_TOPIC_PREFIX) &&
    topic.endsWith(XMTP_TOPIC_SUFFIX) &&
    topic.length > XMTP_TOPIC_PREFIX.length + XMTP_TOPIC_SUFFIX.length
  ) {
    return undefined;
  }
  return `content topic is neither /xmtp/0/<name>/proto nor test-<name>`;
}

/** Returns why an envelope received from a peer must be dropped, or undefined when it is acceptable. */
export function relayEnvelopeProblem(envelope: Envelope): string | undefined {
  const topicProblem = relayTopicProblem(envelope.contentTopic);
  if (topicProblem) return topicProblem;
  if (envelope.message.length === 0) return "empty message";
  if (envelope.message.length > MAX_RELAYED_MESSAGE_BYTES) {
    return `message of ${envelope.message.length} bytes exceeds ${MAX_RELAYED_MESSAGE_BYTES}`;
  }
  if (envelope.timestampNs < 0n || envelope.timestampNs > MAX_RELAYED_TIMESTAMP_NS) {
    return `timestamp ${envelope.timestampNs} out of range`;
  }
  if (envelope.postage && envelope.postage.length > MAX_POSTAGE_PROOF_BYTES) {
    return `postage proof of ${envelope.postage.length} bytes exceeds ${MAX_POSTAGE_PROOF_BYTES}`;
  }
  return undefined;
}
