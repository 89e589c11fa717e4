import { describe, expect, it } from "vitest";
import { MAX_RELAYED_MESSAGE_BYTES, relayEnvelopeProblem, relayTopicProblem } from "./validation.js";
import { envelopeToWakuMessageBytes, wakuMessageBytesToEnvelope } from "./wakuRelay.js";
import { decodeWakuMessage, encodeWakuMessage } from "./wakuMessage.js";

const envelope = (contentTopic: string, message = Uint8Array.of(1), timestampNs = 1_000n) => ({
  contentTopic,
  message,
  timestampNs,
});

describe("relay validation", () => {
  it("accepts XMTP and test topics", () => {
    for (const topic of [
      "/xmtp/0/m-0123456789abcdef/proto",
      "/xmtp/0/privatestore-0x9b1c4C2E75d423391AEF02C34A6B8b1F36FaC7bd/key_bundle/proto",
      "test-anything",
    ]) {
      expect(relayTopicProblem(topic)).toBeUndefined();
    }
  });

  it("names what is wrong with a topic", () => {
    expect(relayTopicProblem("")).toMatch(/empty/);
    expect(relayTopicProblem("/xmtp/0/" + "a".repeat(300) + "/proto")).toMatch(/longer than 300/);
    expect(relayTopicProblem("/xmtp/0/m x/proto")).toMatch(/printable ASCII/);
    expect(relayTopicProblem("/xmtp/0/m\u00e9/proto")).toMatch(/printable ASCII/);
    expect(relayTopicProblem("/xmtp/1/m/proto")).toMatch(/neither/);
    expect(relayTopicProblem("/xmtp/0//proto")).toMatch(/neither/);
    expect(relayTopicProblem("/xmtp/0/m-1")).toMatch(/neither/);
  });

  it("checks message size and timestamp", () => {
    const topic = "/xmtp/0/m-1/proto";
    expect(relayEnvelopeProblem(envelope(topic, new Uint8Array(MAX_RELAYED_MESSAGE_BYTES)))).toBeUndefined();
    expect(relayEnvelopeProblem(envelope(topic, new Uint8Array(MAX_RELAYED_MESSAGE_BYTES + 1)))).toMatch(/exceeds/);
    expect(relayEnvelopeProblem(envelope(topic, new Uint8Array(0)))).toMatch(/empty message/);
    expect(relayEnvelopeProblem(envelope(topic, Uint8Array.of(1), -1n))).toMatch(/timestamp/);
  });

  it("carries an envelope through a WakuMessage and back, flagging ephemeral topics as Waku ephemeral", () => {
    const original = envelope("/xmtp/0/m-1/proto", Uint8Array.of(5, 6, 7), 1_795_659_984_974_000_000n);
    expect(wakuMessageBytesToEnvelope(envelopeToWakuMessageBytes(original))).toEqual(original);
    expect(decodeWakuMessage(envelopeToWakuMessageBytes(original)).ephemeral).toBeUndefined();
    const ephemeral = envelope("/xmtp/0/mE-1/proto");
    expect(decodeWakuMessage(envelopeToWakuMessageBytes(ephemeral)).ephemeral).toBe(true);
  });

  it("drops relayed messages that are undecodable, untimed or invalid", () => {
    expect(() => wakuMessageBytesToEnvelope(Uint8Array.of(0xff, 0xff))).toThrow();
    expect(() => wakuMessageBytesToEnvelope(encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "test-x" }))).toThrow(
      /no timestamp/,
    );
    expect(() =>
      wakuMessageBytesToEnvelope(encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "bad", timestamp: 1n })),
    ).toThrow(/neither/);
    expect(() =>
      wakuMessageBytesToEnvelope(encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "test-x", timestamp: -5n })),
    ).toThrow(/timestamp/);
  });
});
