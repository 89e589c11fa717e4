import { describe, expect, it } from "vitest";
import { envelopeDigestHex, messageDigestHex } from "./digests.js";

const bytes = (text: string) => new TextEncoder().encode(text);
// FIPS 180-2's example: SHA-256("abc").
const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

describe("digests", () => {
  it("messageDigestHex covers the message alone", () => {
    expect(messageDigestHex(bytes("abc"))).toBe(SHA256_ABC);
  });

  it("envelopeDigestHex covers the topic, then the message", () => {
    expect(envelopeDigestHex({ contentTopic: "ab", message: bytes("c") })).toBe(SHA256_ABC);
    expect(envelopeDigestHex({ contentTopic: "/xmtp/0/a", message: bytes("m") })).not.toBe(
      envelopeDigestHex({ contentTopic: "/xmtp/0/b", message: bytes("m") }),
    );
  });
});
