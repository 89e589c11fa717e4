// Forged input over real HTTP: tokens that were tampered with, spliced from two identities, malleated or replayed
// against another wallet's topics; and contact bundles whose signatures do not match. The node stores contact
// bundles as opaque bytes (docs/protocol/api.md §1: it never reads `message`), so forged bundles must be caught by the client
// reading them: the second part asks our client (@xmtp-ts/client, Client.canMessage) about each forgery.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBytes } from "ethers";
import {
  create,
  fromBinary,
  toBinary,
  PublicKeyBundleSchema,
  PublicKeySchema,
  SignedPublicKeyBundleSchema,
  TokenSchema,
  type PublicKeyBundle,
} from "@xmtp-ts/proto";
import {
  createAuthToken,
  encodeContactBundleV1,
  encodeContactBundleV2,
  fromBase64,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  getPublicKey,
  publicKeyBundleOf,
  signLegacyPublicKey,
  signedPublicKeyFromLegacy,
  toBase64,
} from "@xmtp-ts/crypto";
import { Client } from "@xmtp-ts/client";
import {
  bytesOf,
  createIdentity,
  envelopeJson,
  everythingStored,
  nowNs,
  publish,
  startTestNode,
  storedOn,
  type Identity,
  type TestNode,
} from "../http/helpers.js";

let node: TestNode;
let alice: Identity;
let bob: Identity;
const OPEN_TOPIC = "/xmtp/0/m-forged/proto";
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

beforeAll(async () => {
  node = await startTestNode();
  [alice, bob] = await Promise.all([createIdentity(), createIdentity()]);
});
afterAll(() => node?.dispose());

async function expectUnauthenticated(token: string, reason: RegExp) {
  const before = (await everythingStored(node)).length;
  const res = await publish(node, [envelopeJson(OPEN_TOPIC, nowNs(), bytesOf("forged"))], token);
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body.code).toBe(16);
  expect(res.body.message).toMatch(reason);
  expect(await everythingStored(node)).toHaveLength(before);
}

function decodeToken(token: string) {
  return fromBinary(TokenSchema, fromBase64(token));
}

function encodeToken(token: ReturnType<typeof decodeToken>): string {
  return toBase64(toBinary(TokenSchema, token));
}

describe("forged publish tokens", () => {
  it("accepts the genuine tokens the forgeries start from", async () => {
    const res = await publish(node, [envelopeJson(OPEN_TOPIC, nowNs(), bytesOf("genuine"))], alice.token());
    expect(res.status).toBe(200);
  });

  it("refuses a token splicing bob's identity key onto alice's signed auth data", async () => {
    const spliced = decodeToken(alice.token());
    spliced.identityKey = bob.identityKey;
    await expectUnauthenticated(encodeToken(spliced), /auth data signature does not match the identity key/);
  });

  it("refuses a token whose auth data was rewritten to bob's wallet after signing", async () => {
    const aliceToken = decodeToken(alice.token());
    const bobsAuthData = decodeToken(bob.token()).authDataBytes;
    aliceToken.authDataBytes = bobsAuthData;
    await expectUnauthenticated(encodeToken(aliceToken), /auth data signature does not match/);
  });

  it("refuses an identity key whose timestamp was changed after the wallet signed it", async () => {
    const tampered = create(PublicKeySchema, { ...alice.identityKey, timestamp: alice.identityKey.timestamp + 1n });
    const token = createAuthToken({
      identityKey: tampered,
      identityPrivateKey: alice.identityPrivateKey,
      walletAddress: alice.address,
      createdNs: nowNs(),
    });
    // The wallet signature now recovers to some unrelated address, which cannot match the claimed wallet.
    await expectUnauthenticated(token, /wallet address mismatch/);
  });

  it("refuses an identity key carrying another wallet's signature", async () => {
    const grafted = create(PublicKeySchema, { ...alice.identityKey, signature: bob.identityKey.signature });
    const token = createAuthToken({
      identityKey: grafted,
      identityPrivateKey: alice.identityPrivateKey,
      walletAddress: bob.address,
      createdNs: nowNs(),
    });
    await expectUnauthenticated(token, /wallet address mismatch/);
  });

  it("refuses a self-signed identity key (no wallet involved)", async () => {
    const identityPrivateKey = generatePrivateKey();
    const unsigned = create(PublicKeySchema, {
      timestamp: BigInt(Date.now()),
      union: { case: "secp256k1Uncompressed", value: { bytes: getPublicKey(identityPrivateKey) } },
    });
    const selfSigned = signLegacyPublicKey(unsigned, identityPrivateKey);
    const token = createAuthToken({ identityKey: selfSigned, identityPrivateKey, walletAddress: alice.address, createdNs: nowNs() });
    await expectUnauthenticated(token, /wallet address mismatch/);
  });

  it("refuses a malleated (high-S) auth data signature", async () => {
    const token = decodeToken(alice.token());
    const signature = token.authDataSignature!.union;
    if (signature.case !== "ecdsaCompact") throw new Error("expected an ecdsaCompact signature");
    const r = signature.value.bytes.slice(0, 32);
    const s = BigInt("0x" + Buffer.from(signature.value.bytes.slice(32)).toString("hex"));
    const highS = SECP256K1_ORDER - s;
    signature.value.bytes = Uint8Array.from([...r, ...getBytes("0x" + highS.toString(16).padStart(64, "0"))]);
    signature.value.recovery ^= 1;
    await expectUnauthenticated(encodeToken(token), /auth data signature does not match/);
  });

  it("refuses a token created over an hour ago, even one that was accepted before", async () => {
    const createdNs = nowNs() - 3_600_000_000_000n + 2_000_000_000n;
    const token = alice.token(createdNs);
    expect((await publish(node, [envelopeJson(OPEN_TOPIC, nowNs(), bytesOf("fresh"))], token)).status).toBe(200);
    await expectUnauthenticated(alice.token(nowNs() - 3_601_000_000_000n), /token expired/);
  });

  it.each([
    ["contact", (id: Identity) => `/xmtp/0/contact-${id.address}/proto`],
    ["privatestore", (id: Identity) => `/xmtp/0/privatestore-${id.address}/key_bundle/proto`],
  ])("refuses alice's genuine token replayed to write bob's %s topic", async (_, topicOf) => {
    const before = (await everythingStored(node)).length;
    const res = await publish(node, [envelopeJson(topicOf(bob), nowNs(), bytesOf("hijack"))], alice.token());
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 7 });
    expect(res.body.message).toMatch(/^publishing to restricted topic/);
    expect(await everythingStored(node)).toHaveLength(before);
    expect(await storedOn(node, topicOf(bob))).toHaveLength(0);
  });
});

describe("forged contact bundles, as our client reads them", () => {
  interface Owner {
    identity: Identity;
    /** The owner's genuine legacy bundle (identity key signed by its wallet, pre-key by the identity key). */
    genuine: PublicKeyBundle;
  }

  /** A wallet with a publish token and a genuine key bundle, whose contact topic is still empty. */
  async function newOwner(): Promise<Owner> {
    const identity = await createIdentity();
    const keys = await generatePrivateKeyBundleV1(async (text) => getBytes(await identity.wallet.signMessage(text)));
    return { identity, genuine: publicKeyBundleOf(keys) };
  }

  /**
   * Publishes `bytes` as the owner's only contact entry (with the owner's own token: the node stores contact bundles
   * as opaque bytes) and asks our client, as any peer would, whether the owner can be messaged.
   */
  async function clientAcceptsContact(owner: Owner, bytes: Uint8Array): Promise<boolean> {
    const topic = `/xmtp/0/contact-${owner.identity.address}/proto`;
    const res = await publish(node, [envelopeJson(topic, nowNs(), bytes)], owner.identity.token());
    expect(res.status).toBe(200);
    expect(await storedOn(node, topic)).toHaveLength(1);
    return Client.canMessage(owner.identity.address, { apiUrl: node.url });
  }

  const v2Of = (bundle: PublicKeyBundle) =>
    create(SignedPublicKeyBundleSchema, {
      identityKey: signedPublicKeyFromLegacy(bundle.identityKey!, true),
      preKey: signedPublicKeyFromLegacy(bundle.preKey!, false),
    });

  it("accepts genuine v1 and v2 bundles (the baseline the forgeries start from)", async () => {
    const v1 = await newOwner();
    expect(await clientAcceptsContact(v1, encodeContactBundleV1(v1.genuine))).toBe(true);
    const v2 = await newOwner();
    expect(await clientAcceptsContact(v2, encodeContactBundleV2(v2Of(v2.genuine)))).toBe(true);
  });

  it("rejects a pre-key signed by another key", async () => {
    const owner = await newOwner();
    const forged = create(PublicKeyBundleSchema, {
      identityKey: owner.genuine.identityKey,
      preKey: signLegacyPublicKey(create(PublicKeySchema, { ...owner.genuine.preKey!, signature: undefined }), generatePrivateKey()),
    });
    expect(await clientAcceptsContact(owner, encodeContactBundleV1(forged))).toBe(false);
  });

  it("rejects an attacker's pre-key carrying the owner's pre-key signature, in v1 and v2 form", async () => {
    const attacker = await newOwner();
    for (const encode of [encodeContactBundleV1, (b: PublicKeyBundle) => encodeContactBundleV2(v2Of(b))]) {
      const owner = await newOwner();
      const forged = create(PublicKeyBundleSchema, {
        identityKey: owner.genuine.identityKey,
        preKey: create(PublicKeySchema, { ...attacker.genuine.preKey!, signature: owner.genuine.preKey!.signature }),
      });
      expect(await clientAcceptsContact(owner, encode(forged))).toBe(false);
    }
  });

  it("rejects another wallet's valid bundle on the owner's topic", async () => {
    // The node refuses this publish from the other wallet (403), so the owner's own token writes it: the worst case
    // of a buggy or hostile node. The client still refuses a bundle its topic's wallet did not sign.
    const owner = await newOwner();
    const other = await newOwner();
    expect(await clientAcceptsContact(owner, encodeContactBundleV1(other.genuine))).toBe(false);
  });

  it("rejects a v2 identity key signed with ecdsa_compact instead of wallet_ecdsa_compact", async () => {
    const owner = await newOwner();
    const forged = v2Of(owner.genuine);
    forged.identityKey = signedPublicKeyFromLegacy(owner.genuine.identityKey!, false);
    expect(await clientAcceptsContact(owner, encodeContactBundleV2(forged))).toBe(false);
  });

  it("rejects a bundle with one flipped bit in the identity key", async () => {
    const owner = await newOwner();
    const bytes = encodeContactBundleV1(owner.genuine);
    const point = owner.genuine.identityKey!.union.value!.bytes as Uint8Array;
    const at = Buffer.from(bytes).indexOf(Buffer.from(point));
    expect(at).toBeGreaterThan(0);
    const flipped = Uint8Array.from(bytes);
    flipped[at + 20] ^= 0x01;
    expect(await clientAcceptsContact(owner, flipped)).toBe(false);
  });

  it("skips a forged newest entry and falls back to the owner's genuine older one", async () => {
    const owner = await newOwner();
    const topic = `/xmtp/0/contact-${owner.identity.address}/proto`;
    const other = await newOwner();
    const older = nowNs();
    expect((await publish(node, [envelopeJson(topic, older, encodeContactBundleV1(owner.genuine))], owner.identity.token())).status).toBe(200);
    expect((await publish(node, [envelopeJson(topic, older + 1_000_000n, encodeContactBundleV1(other.genuine))], owner.identity.token())).status).toBe(200);
    expect(await Client.canMessage(owner.identity.address, { apiUrl: node.url })).toBe(true);
  });
});
