import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkVapidSubject, generateVapidKeys, MAX_VAPID_TOKEN_LIFETIME_MS, VapidSigner, vapidKeysFromPrivateKey, type VapidKeys } from "./vapid.js";

function parse(header: string) {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(header);
  if (!match) throw new Error(`not a vapid header: ${header}`);
  const [head, claims, signature] = match[1].split(".");
  return {
    key: match[2],
    head: JSON.parse(Buffer.from(head, "base64url").toString()),
    claims: JSON.parse(Buffer.from(claims, "base64url").toString()),
    signed: Buffer.from(`${head}.${claims}`),
    signature: Buffer.from(signature, "base64url"),
  };
}

function verifies(keys: VapidKeys, signed: Buffer, signature: Buffer): boolean {
  const point = Buffer.from(keys.publicKey);
  const key = createPublicKey({
    format: "jwk",
    key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
  });
  return verify("sha256", signed, { key, dsaEncoding: "ieee-p1363" }, signature);
}

describe("VAPID (RFC 8292)", () => {
  it("signs an ES256 token for the push service's origin, valid under 24 hours, naming the subject and the public key", () => {
    const keys = generateVapidKeys();
    let now = 1_800_000_000_000;
    const signer = new VapidSigner(keys, "mailto:ops@example.org", () => now);
    const token = parse(signer.authorization("https://push.example.net:8443/wpush/v2/abc?x=1"));
    expect(token.head).toEqual({ typ: "JWT", alg: "ES256" });
    expect(token.claims.aud).toBe("https://push.example.net:8443");
    expect(token.claims.sub).toBe("mailto:ops@example.org");
    expect(token.claims.exp * 1000).toBeGreaterThan(now);
    expect(token.claims.exp * 1000 - now).toBeLessThanOrEqual(MAX_VAPID_TOKEN_LIFETIME_MS);
    expect(token.key).toBe(Buffer.from(keys.publicKey).toString("base64url"));
    expect(token.signature.length).toBe(64);
    expect(verifies(keys, token.signed, token.signature)).toBe(true);
    // A token from another key does not verify under this one.
    expect(verifies(generateVapidKeys(), token.signed, token.signature)).toBe(false);

    // Reused for a while per origin, renewed long before it expires.
    expect(signer.authorization("https://push.example.net:8443/other")).toBe(signer.authorization("https://push.example.net:8443/wpush/v2/abc"));
    now += 7 * 3_600_000;
    const renewed = parse(signer.authorization("https://push.example.net:8443/other"));
    expect(renewed.claims.exp * 1000).toBeGreaterThan(now + 3_600_000);
  });

  it("derives the public key from the stored private key, and refuses keys that are not P-256 scalars", () => {
    const keys = generateVapidKeys();
    expect(vapidKeysFromPrivateKey(keys.privateKey)).toEqual(keys);
    expect(keys.publicKey.length).toBe(65);
    expect(() => vapidKeysFromPrivateKey(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => vapidKeysFromPrivateKey(new Uint8Array(32))).toThrow();
    expect(() => vapidKeysFromPrivateKey(new Uint8Array(32).fill(0xff))).toThrow();
  });

  it("takes a mailto: or https: subject only", () => {
    expect(() => checkVapidSubject("mailto:ops@example.org")).not.toThrow();
    expect(() => checkVapidSubject("https://example.org/contact")).not.toThrow();
    for (const bad of ["ops@example.org", "http://example.org", "mailto:", ""]) expect(() => checkVapidSubject(bad)).toThrow(/mailto: address or an https: URL/);
  });
});
