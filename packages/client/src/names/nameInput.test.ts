import { describe, expect, it } from "vitest";
import { InvalidNameError } from "./nameErrors.js";
import { isAddressLike, normalizeName } from "./nameInput.js";
import { resolvePeer } from "./resolvePeer.js";
import { InvalidAddressInputError } from "../contacts/ContactBook.js";
import type { NameResolver } from "./NameResolver.js";

const ADDRESS = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";

describe("names and addresses as typed", () => {
  it("takes anything starting with 0x and hex digits as an address, never a name", () => {
    expect(isAddressLike(ADDRESS)).toBe(true);
    expect(isAddressLike(" 0x12 ")).toBe(true);
    expect(isAddressLike("0x")).toBe(true);
    expect(isAddressLike("alice.eth")).toBe(false);
    expect(isAddressLike("0xnope")).toBe(true);
    expect(isAddressLike("0xalice.eth")).toBe(false);
  });

  it("normalizes names and refuses malformed ones", () => {
    expect(normalizeName(" Alice.ETH ")).toBe("alice.eth");
    expect(normalizeName("sub.alice.eth")).toBe("sub.alice.eth");
    for (const bad of ["", "  ", "alice", "alice..eth", ".eth", "eth.", ADDRESS, "al ice.eth"]) {
      expect(() => normalizeName(bad), JSON.stringify(bad)).toThrow(InvalidNameError);
    }
  });

  it("resolves peers: addresses checksummed as they are, names through the resolver only", async () => {
    const calls: string[] = [];
    const resolver: NameResolver = {
      resolve: async (name) => {
        calls.push(name);
        return name === "alice.eth" ? ADDRESS.toLowerCase() : null;
      },
      lookup: async () => null,
    };
    expect(await resolvePeer(ADDRESS.toLowerCase(), resolver)).toBe(ADDRESS);
    expect(calls).toEqual([]);
    expect(await resolvePeer("alice.eth", resolver)).toBe(ADDRESS);
    await expect(resolvePeer("bob.eth", resolver)).rejects.toMatchObject({ code: "name_not_found", input: "bob.eth" });
    await expect(resolvePeer("alice.eth", undefined)).rejects.toMatchObject({ code: "no_name_resolver" });
    await expect(resolvePeer("0x1234", resolver)).rejects.toBeInstanceOf(InvalidAddressInputError);
    await expect(resolvePeer("0xnope", resolver)).rejects.toBeInstanceOf(InvalidAddressInputError);
  });
});
