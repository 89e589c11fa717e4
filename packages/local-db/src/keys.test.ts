import { hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveDatabaseKeys } from "./keys.js";

describe("deriveDatabaseKeys", () => {
  it("is HKDF-SHA256 with the package's salt, one info per key (checked against node:crypto)", async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
    const keys = await deriveDatabaseKeys(secret);
    const salt = "@xmtp-ts/local-db format 1 key derivation";
    const expected = (info: string) => new Uint8Array(hkdfSync("sha256", secret, salt, info, 32));
    expect(keys).toEqual({
      encryptionKey: expected("record encryption key"),
      indexKey: expected("blind index key"),
      keyCheck: expected("key check value"),
    });
  });

  it("takes any secret of 32 bytes or more, and refuses shorter ones", async () => {
    const long = await deriveDatabaseKeys(new Uint8Array(64).fill(1));
    const short = await deriveDatabaseKeys(new Uint8Array(32).fill(1));
    expect(long.keyCheck).not.toEqual(short.keyCheck);
    await expect(deriveDatabaseKeys(new Uint8Array(31))).rejects.toThrow(RangeError);
    await expect(deriveDatabaseKeys("secret" as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });
});
