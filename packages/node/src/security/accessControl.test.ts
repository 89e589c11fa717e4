import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Wallet } from "ethers";
import { ApiError, GrpcCode } from "../errors.js";
import { AccessControl, accessActionOfTopic, accessActionOfTopics } from "./accessControl.js";
import type { AuthzStore } from "./authzStore.js";
import { openSqliteAuthzStore } from "./sqliteAuthzStore.js";

let dir: string;
let dbPath: string;
const opened: AuthzStore[] = [];
const controls: AccessControl[] = [];

function open(): AuthzStore {
  const store = openSqliteAuthzStore(dbPath);
  opened.push(store);
  return store;
}

async function control(mode: "open" | "allowlist", store = open(), refreshIntervalMs = 0): Promise<AccessControl> {
  const ac = new AccessControl(store, { mode, refreshIntervalMs });
  controls.push(ac);
  await ac.start();
  return ac;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmtp-authz-"));
  dbPath = join(dir, "node.db");
});

afterEach(async () => {
  for (const ac of controls.splice(0)) ac.stop();
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const alice = Wallet.createRandom().address;
const bob = Wallet.createRandom().address;

function expectDenied(error: ApiError | null, pattern: RegExp) {
  expect(error).toBeInstanceOf(ApiError);
  expect(error!.code).toBe(GrpcCode.PERMISSION_DENIED);
  expect(error!.httpStatus).toBe(403);
  expect(error!.message).toMatch(pattern);
}

describe("topic actions", () => {
  it("calls publishing to contact- and privatestore- topics registering, anything else publishing", () => {
    expect(accessActionOfTopic(`/xmtp/0/contact-${alice}/proto`)).toBe("register");
    expect(accessActionOfTopic(`/xmtp/0/privatestore-${alice}/key_bundle/proto`)).toBe("register");
    expect(accessActionOfTopic(`/xmtp/0/invite-${alice}/proto`)).toBe("publish");
    expect(accessActionOfTopic("/xmtp/0/m-abc/proto")).toBe("publish");
    expect(accessActionOfTopics(["/xmtp/0/m-abc/proto", `/xmtp/0/contact-${alice}/proto`])).toBe("register");
    expect(accessActionOfTopics(["/xmtp/0/m-abc/proto"])).toBe("publish");
  });
});

describe("AccessControl in open mode", () => {
  it("lets any wallet register and publish", async () => {
    const ac = await control("open");
    expect(ac.check(alice, "register")).toBeNull();
    expect(ac.check(alice, "publish")).toBeNull();
  });

  it("refuses a denylisted wallet for both actions, saying it is denylisted", async () => {
    const ac = await control("open");
    await ac.put({ address: alice, permission: "deny" });
    expectDenied(ac.check(alice, "register"), new RegExp(`registering an identity denied: wallet ${alice} is on this node's denylist`));
    expectDenied(ac.check(alice, "publish"), /publishing denied: .* denylist/);
    expect(ac.check(bob, "publish")).toBeNull();
  });

  it("matches a wallet however its address was typed", async () => {
    const ac = await control("open");
    await ac.put({ address: alice.toLowerCase(), permission: "deny" });
    expectDenied(ac.check(alice, "publish"), /denylist/);
    expect(ac.list()[0].address).toBe(alice);
  });
});

describe("AccessControl in allowlist mode", () => {
  it("refuses wallets not on the allowlist, saying so", async () => {
    const ac = await control("allowlist");
    expectDenied(ac.check(alice, "register"), new RegExp(`only accepts allowlisted wallets and ${alice} is not on its allowlist`));
    expectDenied(ac.check(alice, "publish"), /publishing denied/);
  });

  it("lets allowlisted wallets register and publish", async () => {
    const ac = await control("allowlist");
    await ac.put({ address: alice, permission: "allow" });
    expect(ac.check(alice, "register")).toBeNull();
    expect(ac.check(alice, "publish")).toBeNull();
    expectDenied(ac.check(bob, "publish"), /allowlist/);
  });

  it("moves a wallet from the allowlist to the denylist", async () => {
    const ac = await control("allowlist");
    await ac.put({ address: alice, permission: "allow", priority: true });
    expect(ac.isPriority(alice)).toBe(true);
    await ac.put({ address: alice, permission: "deny" });
    expectDenied(ac.check(alice, "publish"), /denylist/);
    expect(ac.isPriority(alice)).toBe(false);
  });

  it("removing a wallet takes it off the allowlist", async () => {
    const ac = await control("allowlist");
    await ac.put({ address: alice, permission: "allow" });
    expect(await ac.remove(alice)).toBe(true);
    expectDenied(ac.check(alice, "publish"), /allowlist/);
    expect(await ac.remove(alice)).toBe(false);
  });
});

describe("lists changed by another process", () => {
  it("are seen at the next refresh (the version counter moved)", async () => {
    const ac = await control("open");
    const cli = open();
    await cli.put({ address: alice, permission: "deny" });
    expect(ac.check(alice, "publish")).toBeNull();
    expect(await ac.refresh()).toBe(true);
    expectDenied(ac.check(alice, "publish"), /denylist/);
    expect(await ac.refresh()).toBe(false);
  });

  it("are picked up by the refresh timer without any call", async () => {
    const ac = await control("allowlist", open(), 20);
    const cli = open();
    await cli.put({ address: alice, permission: "allow" });
    await vi.waitFor(() => expect(ac.check(alice, "publish")).toBeNull(), { timeout: 5000, interval: 10 });
    await cli.remove(alice);
    await vi.waitFor(() => expectDenied(ac.check(alice, "publish"), /allowlist/), { timeout: 5000, interval: 10 });
  });

  it("survive a restart (the lists are persisted)", async () => {
    const first = open();
    await first.put({ address: alice, permission: "allow", priority: true });
    await first.put({ address: bob, permission: "deny" });
    await first.close();
    const ac = await control("allowlist");
    expect(ac.check(alice, "register")).toBeNull();
    expect(ac.isPriority(alice)).toBe(true);
    expectDenied(ac.check(bob, "register"), /denylist/);
  });
});

describe("a store that stops answering", () => {
  it("keeps the last lists, logs the outage once, and logs the recovery", async () => {
    const store = open();
    const alwaysDeny = Wallet.createRandom().address;
    await store.put({ address: alwaysDeny, permission: "deny" });
    let failing = false;
    let failedPolls = 0;
    const flaky: AuthzStore = {
      version: () => (failing ? (failedPolls++, Promise.reject(new Error("database is locked"))) : store.version()),
      list: () => store.list(),
      put: (c) => store.put(c),
      remove: (a) => store.remove(a),
      close: async () => undefined,
    };
    const lines: { msg: string }[] = [];
    const logger = {
      debug() {},
      info: (msg: string) => lines.push({ msg }),
      warn() {},
      error: (msg: string) => lines.push({ msg }),
      child() {
        return logger;
      },
    };
    const ac = new AccessControl(flaky, { mode: "open", refreshIntervalMs: 10, logger });
    controls.push(ac);
    await ac.start();
    failing = true;
    await vi.waitFor(() => expect(lines.filter((l) => l.msg.startsWith("authz refresh failed")).length).toBe(1), {
      timeout: 5000,
    });
    // Many more polls fail, still one error line, and decisions still use the lists read before.
    await vi.waitFor(() => expect(failedPolls).toBeGreaterThanOrEqual(10), { timeout: 5000 });
    expect(lines.filter((l) => l.msg.startsWith("authz refresh failed"))).toHaveLength(1);
    expect(ac.check(alwaysDeny, "publish")?.message).toMatch(/denylist/);
    failing = false;
    await vi.waitFor(() => expect(lines.map((l) => l.msg)).toContain("authz lists readable again"), { timeout: 5000 });
  });
});
