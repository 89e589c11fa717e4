import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { getCryptoBackend } from "./backend/index.js";
import { toHex } from "./bytes.js";
import { sha256 } from "./hashes.js";

describe("sha256", () => {
  it("moves to node:crypto under Node.js and gives noble's digest for every length, as a plain Uint8Array", async () => {
    await getCryptoBackend();
    expect(sha256.toString()).not.toContain("noble");
    for (let length = 0; length < 300; length += 7) {
      const data = crypto.getRandomValues(new Uint8Array(length));
      const digest = sha256(data);
      expect(toHex(digest)).toBe(toHex(nobleSha256(data)));
      expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
    }
    expect(toHex(sha256(new TextEncoder().encode("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
