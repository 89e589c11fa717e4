import { describe, expect, it } from "vitest";
import { MAX_RELAYED_MESSAGE_BYTES, relayEnvelopeProblem, relayTopicProblem } from "./validation.js";

const envelope = (contentTopic: string, message = Uint8Array.of(1), timestampNs = 1_000n) => ({
  contentTopic,
  message,
  timestampNs,
});

describe("envelopes from peers", () => {
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
});
