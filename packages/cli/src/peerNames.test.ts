import { describe, expect, it } from "vitest";
import type { NameResolver } from "@xmtp-ts/client";
import { NAME_RETRY_AFTER_MS, PeerNames } from "./peerNames.js";

describe("PeerNames", () => {
  it("says nothing without a resolver", async () => {
    const names = new PeerNames(undefined, () => undefined);
    expect(names.enabled).toBe(false);
    expect(await names.nameOf("0x1")).toBeUndefined();
  });

  it("turns a failed lookup into null, notes it once, and tries again after a pause", async () => {
    let now = 0;
    let down = true;
    let asked = 0;
    const resolver: NameResolver = {
      resolve: async () => null,
      lookup: async () => {
        asked++;
        if (down) throw new Error("the RPC is down");
        return "alice.eth";
      },
    };
    const notes: unknown[] = [];
    const names = new PeerNames(resolver, (e) => notes.push(e), () => now);
    expect(await names.nameOf("0x1")).toBeNull();
    expect(await names.nameOf("0x2")).toBeNull();
    expect(asked).toBe(1);
    down = false;
    now = NAME_RETRY_AFTER_MS - 1;
    expect(await names.nameOf("0x1")).toBeNull();
    now = NAME_RETRY_AFTER_MS;
    expect(await names.nameOf("0x1")).toBe("alice.eth");
    down = true;
    expect(await names.nameOf("0x1")).toBeNull();
    expect(notes).toHaveLength(1);
  });
});
