import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { ApiError, GrpcCode } from "../errors.js";
import { AccessControl } from "./accessControl.js";
import { adminTokenMatches, answerAdminRequest, type AdminRequest } from "./adminApi.js";
import type { AuthzStore } from "./authzStore.js";
import { openSqliteAuthzStore } from "./sqliteAuthzStore.js";

const TOKEN = "admin-token-0123456789abcdef";
let dir: string;
let store: AuthzStore;
let accessControl: AccessControl;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "xmtp-admin-"));
  store = openSqliteAuthzStore(join(dir, "node.db"));
  accessControl = new AccessControl(store, { mode: "allowlist", refreshIntervalMs: 0 });
  await accessControl.start();
});

afterEach(async () => {
  accessControl.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// null = send no Authorization header (a default parameter would turn undefined into TOKEN).
function request(method: string, path: string, body: unknown = "", token: string | null = TOKEN): AdminRequest {
  return {
    method,
    path,
    authorization: token === null ? undefined : `Bearer ${token}`,
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

async function admin(req: AdminRequest, adminToken: string | null = TOKEN) {
  return answerAdminRequest(req, { adminToken: adminToken ?? undefined, accessControl });
}

async function rejection(req: AdminRequest, adminToken: string | null = TOKEN): Promise<ApiError> {
  try {
    await admin(req, adminToken);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected the admin request to be refused");
}

const wallet = Wallet.createRandom().address;
/** The address with the case of its first letter digit flipped: mixed case that is not its EIP-55 checksum. */
function miscased(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address[i];
  return address.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + address.slice(i + 1);
}

describe("admin API authentication", () => {
  it("is switched off (404) when no admin token is configured, even with a token presented", async () => {
    const err = await rejection(request("GET", "/admin/v1/authz"), null);
    expect(err.code).toBe(GrpcCode.NOT_FOUND);
    expect(err.message).toMatch(/admin API is disabled.*--admin-token/);
  });

  it("refuses a request without a bearer token", async () => {
    const err = await rejection(request("GET", "/admin/v1/authz", "", null));
    expect(err.code).toBe(GrpcCode.UNAUTHENTICATED);
    expect(err.message).toMatch(/missing 'Authorization: Bearer/);
  });

  it("refuses a wrong token of the same length, a prefix of the token, and the token with extra characters", async () => {
    const sameLength = TOKEN.slice(0, -1) + (TOKEN.endsWith("f") ? "e" : "f");
    for (const forged of [sameLength, TOKEN.slice(0, 10), TOKEN + "x"]) {
      const err = await rejection(request("POST", "/admin/v1/authz", { address: wallet, permission: "allow" }, forged));
      expect(err.code).toBe(GrpcCode.UNAUTHENTICATED);
      expect(err.message).toBe("admin API: wrong admin token");
    }
    // None of the forged requests changed the lists.
    expect(await store.list()).toEqual([]);
  });

  it("compares tokens exactly", () => {
    expect(adminTokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(adminTokenMatches(TOKEN.toUpperCase(), TOKEN)).toBe(false);
    expect(adminTokenMatches("", TOKEN)).toBe(false);
  });
});

describe("admin API on the lists", () => {
  it("allows a wallet, which takes effect at once, and lists it", async () => {
    expect(accessControl.check(wallet, "publish")).not.toBeNull();
    const added = await admin(request("POST", "/admin/v1/authz", { address: wallet.toLowerCase(), permission: "allow", priority: true }));
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ entry: { address: wallet, permission: "allow", priority: true } });
    expect(accessControl.check(wallet, "publish")).toBeNull();
    expect(accessControl.isPriority(wallet)).toBe(true);
    const listed = await admin(request("GET", "/admin/v1/authz"));
    expect(listed.body).toMatchObject({ mode: "allowlist", entries: [{ address: wallet, permission: "allow" }] });
    const one = await admin(request("GET", `/admin/v1/authz/${wallet}`));
    expect(one.body).toMatchObject({ entry: { address: wallet } });
  });

  it("denies with PUT and removes with DELETE", async () => {
    await admin(request("PUT", `/admin/v1/authz/${wallet}`, { permission: "deny" }));
    expect(accessControl.check(wallet, "publish")?.message).toMatch(/denylist/);
    const removed = await admin(request("DELETE", `/admin/v1/authz/${wallet}`));
    expect(removed.body).toEqual({ removed: true, address: wallet });
    expect(accessControl.entryOf(wallet)).toBeUndefined();
    const again = await rejection(request("DELETE", `/admin/v1/authz/${wallet}`));
    expect(again.code).toBe(GrpcCode.NOT_FOUND);
    expect(again.message).toMatch(/on neither list/);
  });

  it("answers bad input with code 3 naming the problem, and changes nothing", async () => {
    const cases: [AdminRequest, RegExp][] = [
      [request("POST", "/admin/v1/authz", "{not json"), /not valid JSON/],
      [request("POST", "/admin/v1/authz", "[]"), /must be a JSON object/],
      [request("POST", "/admin/v1/authz", { address: "0xnothex", permission: "allow" }), /invalid Ethereum address/],
      // Mixed case that is not the checksum: most likely a typo, refused rather than listing a wallet nobody owns.
      [request("POST", "/admin/v1/authz", { address: miscased(wallet), permission: "deny" }), /does not match its EIP-55 checksum/],
      [request("POST", "/admin/v1/authz", { address: 42, permission: "allow" }), /wallet address must be a string/],
      [request("POST", "/admin/v1/authz", { address: wallet, permission: "ALLOW" }), /permission must be "allow" or "deny"/],
      [request("POST", "/admin/v1/authz", { address: wallet, permission: "deny", priority: true }), /priority applies/],
      [request("POST", "/admin/v1/authz", { address: wallet, permission: "allow", priority: "yes" }), /priority must be true or false/],
      [request("PUT", "/admin/v1/authz/0x12", { permission: "allow" }), /in the path: invalid Ethereum address/],
      [request("PUT", `/admin/v1/authz/${wallet}`, { address: Wallet.createRandom().address, permission: "allow" }), /differs/],
    ];
    for (const [req, message] of cases) {
      const err = await rejection(req);
      expect(err.code, req.body).toBe(GrpcCode.INVALID_ARGUMENT);
      expect(err.message).toMatch(message);
    }
    expect(await store.list()).toEqual([]);
  });

  it("answers unknown paths with 404 and wrong methods with 405", async () => {
    expect((await rejection(request("GET", "/admin/v1/nothing"))).code).toBe(GrpcCode.NOT_FOUND);
    const wrongMethod = await rejection(request("PATCH", "/admin/v1/authz"));
    expect(wrongMethod.httpStatus).toBe(405);
    expect(wrongMethod.message).toMatch(/allowed: GET, POST/);
  });
});
