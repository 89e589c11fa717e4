import { beforeAll, describe, expect, it } from "vitest";
import { fromBinary, toBinary, CiphertextSchema, create } from "@xmtp-ts/proto";
import { aeadParts, decryptAead, encryptAead } from "./aead.js";
import { setCryptoBackend } from "./backend/index.js";
import { randomBytes, utf8ToBytes, bytesToUtf8 } from "./bytes.js";
import { DecryptionError, XmtpCryptoError } from "./errors.js";
import { backends } from "./test-support/backends.js";
import { sdk } from "./test-support/sdk.js";

describe.each(backends)("AEAD (docs/protocol/messages.md §1.2) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));
  const secret = randomBytes(195);
  const aad = utf8ToBytes("header bytes");

  it("has the sizes of the spec: salt 32, nonce 12, payload = plaintext + 16", async () => {
    const ct = await encryptAead(secret, utf8ToBytes("hello"), aad);
    const parts = aeadParts(ct);
    expect([parts.hkdfSalt.length, parts.gcmNonce.length, parts.payload.length]).toEqual([32, 12, 21]);
  });

  it("decrypts what the SDK encrypts", async () => {
    const sdkCiphertext = await sdk.encrypt(utf8ToBytes("from the SDK"), secret, aad);
    const ours = fromBinary(CiphertextSchema, sdkCiphertext.toBytes());
    expect(bytesToUtf8(await decryptAead(ours, secret, aad))).toBe("from the SDK");
  });

  it("produces what the SDK decrypts", async () => {
    const ct = await encryptAead(secret, utf8ToBytes("from us"), aad);
    const plain = await sdk.decrypt(sdk.Ciphertext.fromBytes(toBinary(CiphertextSchema, ct)), secret, aad);
    expect(bytesToUtf8(plain)).toBe("from us");
  });

  it("rejects a flipped payload byte, another secret, other AAD and missing AAD", async () => {
    const ct = await encryptAead(secret, utf8ToBytes("hello"), aad);
    const tampered = fromBinary(CiphertextSchema, toBinary(CiphertextSchema, ct));
    (tampered.union.value as { payload: Uint8Array }).payload[2] ^= 0x80;
    await expect(decryptAead(tampered, secret, aad)).rejects.toThrow(DecryptionError);
    await expect(decryptAead(ct, randomBytes(195), aad)).rejects.toThrow(DecryptionError);
    await expect(decryptAead(ct, secret, utf8ToBytes("header bytez"))).rejects.toThrow(DecryptionError);
    await expect(decryptAead(ct, secret)).rejects.toThrow(DecryptionError);
  });

  it("names a malformed ciphertext", async () => {
    const bad = create(CiphertextSchema, {
      union: { case: "aes256GcmHkdfSha256", value: { hkdfSalt: new Uint8Array(16), gcmNonce: new Uint8Array(12), payload: new Uint8Array(20) } },
    });
    await expect(decryptAead(bad, secret)).rejects.toThrow(/salt must be 32 bytes, got 16/);
    await expect(decryptAead(create(CiphertextSchema, {}), secret)).rejects.toThrow(XmtpCryptoError);
  });
});
