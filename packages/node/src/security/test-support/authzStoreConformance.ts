// What every AuthzStore must do, run against each implementation (SQLite always, PostgreSQL when a URL is given).
import { afterEach, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { AuthzInputError, type AuthzStore } from "../authzStore.js";

export interface AuthzStoreFactory {
  /** A store on a fresh, empty database. */
  openFresh(): Promise<AuthzStore>;
  /** Another store on the same database as the last openFresh(): another process sharing it. */
  openSame(): Promise<AuthzStore>;
}

export function describeAuthzStoreConformance(name: string, factory: AuthzStoreFactory): void {
  describe(`${name} authz store`, () => {
    const opened: AuthzStore[] = [];
    const track = (store: AuthzStore) => (opened.push(store), store);
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    const alice = Wallet.createRandom().address;
    const bob = Wallet.createRandom().address;

    it("starts empty and keeps entries under their EIP-55 address, sorted", async () => {
      const store = track(await factory.openFresh());
      expect(await store.list()).toEqual([]);
      const entry = await store.put({ address: alice.toLowerCase(), permission: "allow", priority: true });
      expect(entry).toMatchObject({ address: alice, permission: "allow", priority: true });
      await store.put({ address: bob, permission: "deny" });
      const listed = await store.list();
      expect(listed.map((e) => e.address)).toEqual([alice, bob].sort());
      expect(listed.find((e) => e.address === bob)).toMatchObject({ permission: "deny", priority: false });
      expect(typeof listed[0].updatedAtMs).toBe("number");
    });

    it("replaces an entry rather than duplicating it", async () => {
      const store = track(await factory.openFresh());
      await store.put({ address: alice, permission: "allow", priority: true });
      await store.put({ address: alice.toUpperCase().replace("0X", "0x"), permission: "deny" });
      expect(await store.list()).toMatchObject([{ address: alice, permission: "deny", priority: false }]);
    });

    it("bumps the version on every change and not on removing nothing", async () => {
      const store = track(await factory.openFresh());
      const v0 = await store.version();
      await store.put({ address: alice, permission: "allow" });
      await store.put({ address: alice, permission: "allow", priority: true });
      expect(await store.version()).toBe(v0 + 2);
      expect(await store.remove(bob)).toBe(false);
      expect(await store.version()).toBe(v0 + 2);
      expect(await store.remove(alice.toLowerCase())).toBe(true);
      expect(await store.version()).toBe(v0 + 3);
      expect(await store.list()).toEqual([]);
    });

    it("shows changes made through another connection, version included", async () => {
      const node = track(await factory.openFresh());
      const cli = track(await factory.openSame());
      const before = await node.version();
      await cli.put({ address: alice, permission: "deny" });
      expect(await node.version()).toBe(before + 1);
      expect(await node.list()).toMatchObject([{ address: alice, permission: "deny" }]);
    });

    it("keeps entries across reopening", async () => {
      const first = await factory.openFresh();
      await first.put({ address: alice, permission: "allow", priority: true });
      await first.close();
      const again = track(await factory.openSame());
      expect(await again.list()).toMatchObject([{ address: alice, permission: "allow", priority: true }]);
    });

    it("rejects bad input with a message naming the problem and stores nothing", async () => {
      const store = track(await factory.openFresh());
      await expect(store.put({ address: "0x1234", permission: "allow" })).rejects.toThrow(AuthzInputError);
      await expect(store.put({ address: "0x1234", permission: "allow" })).rejects.toThrow(/invalid Ethereum address/);
      await expect(store.put({ address: alice, permission: "maybe" as "allow" })).rejects.toThrow(/permission must be/);
      await expect(store.put({ address: alice, permission: "deny", priority: true })).rejects.toThrow(
        /priority applies to allowed wallets only/,
      );
      await expect(store.remove("not an address")).rejects.toThrow(AuthzInputError);
      expect(await store.list()).toEqual([]);
    });
  });
}
