// Access control over real HTTP: allowlist and denylist decisions (403, code 7, a message saying why), the admin
// API that edits the lists, and the order of checks (validate → authenticate → access control → rate limit).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesOf, createIdentity, envelopeJson, everythingStored, nowNs, post, publish, type Identity, type TestNode } from "../http/helpers.js";
import { ADMIN_TOKEN, admin, startSecureNode } from "./helpers.js";

let alice: Identity;
let bob: Identity;
const contactOf = (id: Identity) => envelopeJson(`/xmtp/0/contact-${id.address}/proto`, nowNs(), bytesOf("bundle"));
const message = () => envelopeJson("/xmtp/0/m-acl/proto", nowNs(), bytesOf(`hello ${Math.random()}`));

beforeAll(async () => {
  [alice, bob] = await Promise.all([createIdentity(), createIdentity()]);
});

async function expectDenied(node: TestNode, res: { status: number; body: any }, message: RegExp, storedBefore: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(res.body).toMatchObject({ code: 7, details: [] });
  expect(res.body.message).toMatch(message);
  expect(await everythingStored(node)).toHaveLength(storedBefore);
}

describe("allowlist mode", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startSecureNode({ accessMode: "allowlist", adminToken: ADMIN_TOKEN });
  });
  afterAll(() => node?.dispose());

  it("refuses a wallet that is not allowlisted, for registering and for publishing", async () => {
    await expectDenied(node, await publish(node, [contactOf(alice)], alice.token()), new RegExp(`registering an identity denied: .*${alice.address} is not on its allowlist`), 0);
    await expectDenied(node, await publish(node, [message()], alice.token()), /publishing denied: this node only accepts allowlisted wallets/, 0);
  });

  it("accepts the wallet as soon as an admin allowlists it, and refuses it again once removed", async () => {
    expect((await admin(node, "POST", "/admin/v1/authz", { address: alice.address, permission: "allow" })).status).toBe(200);
    expect((await publish(node, [contactOf(alice)], alice.token())).status).toBe(200);
    expect((await publish(node, [message()], alice.token())).status).toBe(200);
    // Bob is still refused.
    const before = (await everythingStored(node)).length;
    await expectDenied(node, await publish(node, [message()], bob.token()), /not on its allowlist/, before);
    expect((await admin(node, "DELETE", `/admin/v1/authz/${alice.address}`)).status).toBe(200);
    await expectDenied(node, await publish(node, [message()], alice.token()), /not on its allowlist/, before);
  });

  it("leaves reads open to everyone (the SDK sends no token on reads)", async () => {
    const res = await post(node.url, "/message/v1/query", { contentTopics: ["/xmtp/0/m-acl/proto"] });
    expect(res.status).toBe(200);
  });
});

describe("denylist in open mode", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startSecureNode({ adminToken: ADMIN_TOKEN });
  });
  afterAll(() => node?.dispose());

  it("refuses a denied wallet even for its own contact topic, and lets others publish", async () => {
    expect((await publish(node, [contactOf(bob)], bob.token())).status).toBe(200);
    await admin(node, "PUT", `/admin/v1/authz/${bob.address.toLowerCase()}`, { permission: "deny" });
    const before = (await everythingStored(node)).length;
    await expectDenied(node, await publish(node, [contactOf(bob)], bob.token()), new RegExp(`wallet ${bob.address} is on this node's denylist`), before);
    await expectDenied(node, await publish(node, [message()], bob.token()), /publishing denied: .* denylist/, before);
    expect((await publish(node, [message()], alice.token())).status).toBe(200);
  });
});

describe("the admin API over HTTP", () => {
  it("is off without --admin-token", async () => {
    const node = await startSecureNode();
    try {
      const res = await admin(node, "GET", "/admin/v1/authz");
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 5, message: expect.stringMatching(/admin API is disabled/) });
    } finally {
      await node.dispose();
    }
  });

  it("refuses missing and wrong tokens and changes nothing", async () => {
    const node = await startSecureNode({ accessMode: "allowlist", adminToken: ADMIN_TOKEN });
    try {
      const missing = await admin(node, "POST", "/admin/v1/authz", { address: alice.address, permission: "allow" }, "");
      expect(missing.status).toBe(401);
      expect(missing.body.code).toBe(16);
      const wrong = await admin(node, "POST", "/admin/v1/authz", { address: alice.address, permission: "allow" }, ADMIN_TOKEN + "x");
      expect(wrong.status).toBe(401);
      // A publish token is not an admin token.
      const publishToken = await admin(node, "GET", "/admin/v1/authz", undefined, alice.token());
      expect(publishToken.status).toBe(401);
      expect((await admin(node, "GET", "/admin/v1/authz")).body.entries).toEqual([]);
      expect((await publish(node, [message()], alice.token())).status).toBe(403);
    } finally {
      await node.dispose();
    }
  });

  it("answers bad input with 400 code 3", async () => {
    const node = await startSecureNode({ adminToken: ADMIN_TOKEN });
    try {
      const res = await admin(node, "POST", "/admin/v1/authz", { address: "0x12", permission: "allow" });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 3, message: expect.stringMatching(/invalid Ethereum address/) });
    } finally {
      await node.dispose();
    }
  });
});

describe("order of checks: validate → authenticate → access control → rate limit → store", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startSecureNode({
      adminToken: ADMIN_TOKEN,
      rateLimits: { publish: { capacity: 2, refillPerSecond: 0.001 } },
      limits: { maxEnvelopesPerPublish: 2 },
    });
    await admin(node, "POST", "/admin/v1/authz", { address: bob.address, permission: "deny" });
  });
  afterAll(() => node?.dispose());

  it("answers invalid input with 400 before looking at the (missing) token", async () => {
    const res = await post(node.url, "/message/v1/publish", { envelopes: [{ contentTopic: "", message: "AA==" }] });
    expect(res.status).toBe(400);
    const tooMany = await publish(node, [message(), message(), message()]);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/too many envelopes in one publish: 3 given, this node accepts at most 2/);
  });

  it("answers a denied wallet's forged token with 401, not 403", async () => {
    const forged = bob.token(nowNs() - 7_200_000_000_000n);
    expect((await publish(node, [message()], forged)).status).toBe(401);
  });

  it("answers a denied wallet with 403 however often it tries, without spending its rate limit", async () => {
    for (let i = 0; i < 5; i++) expect((await publish(node, [message()], bob.token())).status).toBe(403);
    await admin(node, "DELETE", `/admin/v1/authz/${bob.address}`);
    // Its whole burst of 2 is still there: the refusals above never reached the rate limiter.
    expect((await publish(node, [message()], bob.token())).status).toBe(200);
    expect((await publish(node, [message()], bob.token())).status).toBe(200);
    expect((await publish(node, [message()], bob.token())).status).toBe(429);
  });
});
