// Envelopes as the WakuMessages the relay carries them in: the round trip, and what a received one must pass.
import { describe, expect, it } from "vitest";
import { envelopeToWakuMessageBytes, wakuMessageBytesToEnvelope } from "./wakuRelay.js";
import { decodeWakuMessage, encodeWakuMessage } from "./wakuMessage.js";

describe("relayed envelopes as WakuMessages", () => {
  it("carries an envelope through a WakuMessage and back, flagging ephemeral topics as Waku ephemeral", () => {
    const original = { contentTopic: "/xmtp/0/m-1/proto", message: Uint8Array.of(5, 6, 7), timestampNs: 1_795_659_984_974_000_000n };
    expect(wakuMessageBytesToEnvelope(envelopeToWakuMessageBytes(original))).toEqual(original);
    expect(decodeWakuMessage(envelopeToWakuMessageBytes(original)).ephemeral).toBeUndefined();
    const ephemeral = { contentTopic: "/xmtp/0/mE-1/proto", message: Uint8Array.of(1), timestampNs: 1_000n };
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
