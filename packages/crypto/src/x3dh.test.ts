import { beforeAll, describe, expect, it } from "vitest";
import { encryptAead } from "./aead.js";
import { setCryptoBackend } from "./backend/index.js";
import { toHex, utf8ToBytes, bytesToUtf8 } from "./bytes.js";
import { DecryptionError } from "./errors.js";
import { generatePrivateKey, getPublicKey } from "./secp256k1.js";
import { decryptWithX3dh, x3dhSecret, X3dhSecretCache } from "./x3dh.js";
import { backends } from "./test-support/backends.js";

function party() {
  const identity = generatePrivateKey();
  const preKey = generatePrivateKey();
  return {
    own: { identityPrivateKey: identity, preKeyPrivateKey: preKey },
    peer: { identityPublicKey: getPublicKey(identity), preKeyPublicKey: getPublicKey(preKey) },
  };
}

describe.each(backends)("X3DH on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  it("gives both roles the same 195 bytes, three uncompressed points", async () => {
    const alice = party();
    const bob = party();
    const asSender = await x3dhSecret(alice.own, bob.peer, false);
    const asRecipient = await x3dhSecret(bob.own, alice.peer, true);
    expect(asSender).toHaveLength(195);
    expect(toHex(asSender)).toBe(toHex(asRecipient));
    expect([asSender[0], asSender[65], asSender[130]]).toEqual([4, 4, 4]);
    // The roles are not interchangeable: the same side in the other role computes another secret.
    expect(toHex(await x3dhSecret(alice.own, bob.peer, true))).not.toBe(toHex(asSender));
  });

  it("decrypts, caches the exact secret, and still rejects other keys", async () => {
    const alice = party();
    const bob = party();
    const secret = await x3dhSecret(alice.own, bob.peer, false);
    const aad = utf8ToBytes("header");
    const cache = new X3dhSecretCache();
    const first = await encryptAead(secret, utf8ToBytes("one"), aad);
    expect(bytesToUtf8(await decryptWithX3dh(first, aad, bob.own, alice.peer, true, cache))).toBe("one");
    expect(toHex(cache.get(bob.own, alice.peer, true)!)).toBe(toHex(secret));
    const second = await encryptAead(secret, utf8ToBytes("two"), aad);
    expect(bytesToUtf8(await decryptWithX3dh(second, aad, bob.own, alice.peer, true, cache))).toBe("two");
    const mallory = party();
    await expect(decryptWithX3dh(first, aad, bob.own, mallory.peer, true)).rejects.toThrow(DecryptionError);
  });
});
