import { toChecksumAddress } from "@xmtp-ts/crypto";
import { describe, expect, it } from "vitest";
import { checkAddressInput } from "./addressInput.js";

// A fixed address whose checksum has both upper and lower case letters.
const ADDRESS = toChecksumAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");

/** The address with the case of its first letter flipped: same digits, wrong checksum. */
function typo(address: string): string {
  const at = address.slice(2).search(/[a-fA-F]/) + 2;
  const letter = address[at];
  const flipped = letter === letter.toUpperCase() ? letter.toLowerCase() : letter.toUpperCase();
  return address.slice(0, at) + flipped + address.slice(at + 1);
}

describe("checkAddressInput", () => {
  it("accepts all-lower, all-upper and checksummed input, trimmed, and returns the checksummed form", () => {
    expect(ADDRESS).toBe("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    for (const input of [ADDRESS, ADDRESS.toLowerCase(), "0x" + ADDRESS.slice(2).toUpperCase(), `  ${ADDRESS}\n`]) {
      expect(checkAddressInput(input)).toEqual({ ok: true, address: ADDRESS });
    }
  });

  it("names input that is no address, trimmed", () => {
    expect(checkAddressInput(" vitalik.eth ")).toEqual({ ok: false, problem: "not_an_address", input: "vitalik.eth" });
    expect(checkAddressInput("0x1234")).toMatchObject({ ok: false, problem: "not_an_address" });
    expect(checkAddressInput(ADDRESS + "0")).toMatchObject({ ok: false, problem: "not_an_address" });
  });

  it("refuses mixed case with a wrong checksum and suggests no re-cased address", () => {
    const wrong = typo(ADDRESS);
    // Exactly these fields: no "corrected" address (the same digits re-cased) for a caller to offer.
    expect(checkAddressInput(wrong)).toEqual({ ok: false, problem: "wrong_checksum", input: wrong });
    // The same digits in all lower case carry no checksum and are accepted, for a user who is sure of them.
    expect(checkAddressInput(wrong.toLowerCase())).toEqual({ ok: true, address: ADDRESS });
  });
});
