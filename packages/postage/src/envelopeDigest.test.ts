import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { toHex } from "@xmtp-ts/crypto";
import { envelopeDigest } from "./envelopeDigest.js";

describe("envelope digest", () => {
  it("is sha256(utf8(topic) ‖ message), as the node's store computes it with node:crypto", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), (topic, message) => {
        const node = createHash("sha256").update(topic, "utf8").update(message).digest("hex");
        expect(toHex(envelopeDigest(topic, message))).toBe(node);
      }),
      { numRuns: 200 },
    );
  });
});
