import { createECDH, randomBytes } from "node:crypto";
import { decrypt } from "http_ece";
import { describe, expect, it } from "vitest";
import { checkSubscriptionKeys, encryptPushPayload, MAX_PUSH_BODY_BYTES, MAX_PUSH_PLAINTEXT_BYTES, PushKeyError } from "./payloadEncryption.js";

const b64 = (text: string) => Buffer.from(text, "base64url");

// RFC 8291 Appendix A: the worked example, frozen. Every input and the expected body are protocol facts.
const RFC8291 = {
  plaintext: "When I grow up, I want to be a watermelon",
  uaPublic: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
  uaPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
  auth: "BTBZMqHH6r4Tts7J_aSIgg",
  asPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
  asPublic: "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
  salt: "DGv6ra1nlYgDCS1FRnbzlw",
  body:
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
};

function browserKeys() {
  const keys = createECDH("prime256v1");
  keys.generateKeys();
  return { ecdh: keys, p256dh: keys.getPublicKey(), auth: randomBytes(16) };
}

describe("Web Push payload encryption (RFC 8291, aes128gcm)", () => {
  it("produces the RFC 8291 Appendix A body from its inputs", () => {
    const sender = createECDH("prime256v1");
    sender.setPrivateKey(b64(RFC8291.asPrivate));
    expect(sender.getPublicKey().toString("base64url")).toBe(RFC8291.asPublic);
    const body = encryptPushPayload(Buffer.from(RFC8291.plaintext), { p256dh: b64(RFC8291.uaPublic), auth: b64(RFC8291.auth) }, { salt: b64(RFC8291.salt), senderKeys: sender });
    expect(Buffer.from(body).toString("base64url")).toBe(RFC8291.body);
  });

  it("is decrypted by an independent implementation (http_ece) at every size up to the limit", () => {
    const browser = browserKeys();
    for (const size of [0, 1, 100, 3_000, MAX_PUSH_PLAINTEXT_BYTES]) {
      const plaintext = randomBytes(size);
      const body = encryptPushPayload(plaintext, { p256dh: browser.p256dh, auth: browser.auth });
      expect(body.length).toBeLessThanOrEqual(MAX_PUSH_BODY_BYTES);
      expect(decrypt(Buffer.from(body), { version: "aes128gcm", privateKey: browser.ecdh, authSecret: browser.auth }).equals(plaintext)).toBe(true);
    }
  });

  it("uses a fresh salt and sender key per message, so equal payloads never look equal", () => {
    const browser = browserKeys();
    const one = encryptPushPayload(Buffer.from("same"), browser);
    const two = encryptPushPayload(Buffer.from("same"), browser);
    expect(Buffer.from(one).subarray(0, 16).equals(Buffer.from(two).subarray(0, 16))).toBe(false);
    expect(Buffer.from(one).subarray(21, 86).equals(Buffer.from(two).subarray(21, 86))).toBe(false);
  });

  it("cannot be opened with another subscription's auth secret", () => {
    const browser = browserKeys();
    const body = encryptPushPayload(Buffer.from("secret"), browser);
    expect(() => decrypt(Buffer.from(body), { version: "aes128gcm", privateKey: browser.ecdh, authSecret: randomBytes(16) })).toThrow();
  });

  it("refuses a payload over one push message", () => {
    expect(() => encryptPushPayload(new Uint8Array(MAX_PUSH_PLAINTEXT_BYTES + 1), browserKeys())).toThrow(RangeError);
  });

  it("refuses subscription keys a browser could not have made", () => {
    const { p256dh, auth } = browserKeys();
    expect(() => checkSubscriptionKeys({ p256dh, auth })).not.toThrow();
    expect(() => checkSubscriptionKeys({ p256dh: p256dh.subarray(0, 33), auth })).toThrow(/65 bytes/);
    expect(() => checkSubscriptionKeys({ p256dh, auth: auth.subarray(0, 8) })).toThrow(/auth must be 16 bytes/);
    const offCurve = Buffer.from(p256dh);
    offCurve[64] ^= 1; // y no longer matches x
    expect(() => checkSubscriptionKeys({ p256dh: offCurve, auth })).toThrow(PushKeyError);
  });
});
