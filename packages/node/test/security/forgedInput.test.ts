// Forged input over real HTTP: tokens that were tampered with, spliced from two identities, malleated or replayed
// against another wallet's topics; and contact bundles whose signatures do not match. The node stores contact
// bundles as opaque bytes (wire doc §1: it never reads `message`), so forged bundles are caught by the reader's
// bundle verification, which the second part checks on what the node hands back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBytes } from "ethers";
import {
  create,
  fromBinary,
  toBinary,
  PublicKeySchema,
  SignedPublicKeyBundleSchema,
  TokenSchema,
  type PublicKeyBundle,
} from "@xmtp-ts/proto";
import {
  createAuthToken,
  decodeContactBundle,
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
  verifyPublicKeyBundle,
  verifySignedPublicKeyBundle,
} from "@xmtp-ts/crypto";
import {
  bytesOf,
  createIdentity,
  envelopeJson,
  everythingStored,
  nowNs,
  publish,
  post,
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

describe("forged contact bundles", () => {
  interface Published {
    topicAddress: string;
    bytes: Uint8Array;
  }

  /** What a reader does with a contact entry: decode, verify, and require the signer to own the topic (§6.3). */
  async function readerAccepts(entry: Published): Promise<boolean> {
    try {
      const decoded = decodeContactBundle(entry.bytes);
      const signer =
        decoded.version === "v1" ? await verifyPublicKeyBundle(decoded.bundle) : await verifySignedPublicKeyBundle(decoded.bundle);
      return signer.toLowerCase() === entry.topicAddress.toLowerCase();
    } catch {
      return false;
    }
  }

  async function publishContact(owner: Identity, bytes: Uint8Array): Promise<Published> {
    const topic = `/xmtp/0/contact-${owner.address}/proto`;
    const res = await publish(node, [envelopeJson(topic, nowNs(), bytes)], owner.token());
    expect(res.status).toBe(200);
    // Read back through the API, as a peer would, to check what the node hands out is what was sent.
    const queried = await post(node.url, "/message/v1/query", {
      contentTopics: [topic],
      pagingInfo: { limit: 1, direction: "SORT_DIRECTION_DESCENDING" },
    });
    return { topicAddress: owner.address, bytes: fromBase64(queried.body.envelopes[0].message) };
  }

  let genuine: PublicKeyBundle;
  let carol: Identity;
  let mallory: Identity;

  beforeAll(async () => {
    [carol, mallory] = await Promise.all([createIdentity(), createIdentity()]);
    const keys = await generatePrivateKeyBundleV1(async (text) => getBytes(await carol.wallet.signMessage(text)));
    genuine = publicKeyBundleOf(keys);
  });

  const v2Of = (bundle: PublicKeyBundle) =>
    create(SignedPublicKeyBundleSchema, {
      identityKey: signedPublicKeyFromLegacy(bundle.identityKey!, true),
      preKey: signedPublicKeyFromLegacy(bundle.preKey!, false),
    });

  it("the genuine v1 and v2 bundles pass the reader's checks (the baseline)", async () => {
    expect(await readerAccepts(await publishContact(carol, encodeContactBundleV1(genuine)))).toBe(true);
    expect(await readerAccepts(await publishContact(carol, encodeContactBundleV2(v2Of(genuine))))).toBe(true);
  });

  it("a pre-key signed by another key is rejected", async () => {
    const forged = structuredClone(genuine);
    forged.preKey = signLegacyPublicKey(create(PublicKeySchema, { ...genuine.preKey!, signature: undefined }), generatePrivateKey());
    expect(await readerAccepts(await publishContact(carol, encodeContactBundleV1(forged)))).toBe(false);
  });

  it("a pre-key swapped for the attacker's own (keeping the old signature) is rejected", async () => {
    const attackerKeys = await generatePrivateKeyBundleV1(async (text) => getBytes(await mallory.wallet.signMessage(text)));
    const forged = structuredClone(genuine);
    forged.preKey = create(PublicKeySchema, { ...publicKeyBundleOf(attackerKeys).preKey!, signature: genuine.preKey!.signature });
    expect(await readerAccepts(await publishContact(carol, encodeContactBundleV1(forged)))).toBe(false);
    expect(await readerAccepts(await publishContact(carol, encodeContactBundleV2(v2Of(forged))))).toBe(false);
  });

  it("a valid bundle of another wallet, published on the victim's topic, is rejected", async () => {
    // Mallory cannot write carol's topic (403), so the test publishes mallory's genuine bundle on carol's topic with
    // carol's own token, the worst case of a compromised or buggy node: the reader still refuses it.
    const malloryKeys = await generatePrivateKeyBundleV1(async (text) => getBytes(await mallory.wallet.signMessage(text)));
    const entry = await publishContact(carol, encodeContactBundleV1(publicKeyBundleOf(malloryKeys)));
    expect(await readerAccepts(entry)).toBe(false);
    expect(await readerAccepts({ ...entry, topicAddress: mallory.address })).toBe(true);
  });

  it("a v2 identity key signed with ecdsa_compact instead of wallet_ecdsa_compact is rejected", async () => {
    const forged = v2Of(genuine);
    forged.identityKey = signedPublicKeyFromLegacy(genuine.identityKey!, false);
    expect(await readerAccepts(await publishContact(carol, encodeContactBundleV2(forged)))).toBe(false);
  });

  it("a bundle with one flipped bit in the identity key is rejected", async () => {
    const bytes = encodeContactBundleV1(genuine);
    const point = genuine.identityKey!.union.value!.bytes as Uint8Array;
    const at = Buffer.from(bytes).indexOf(Buffer.from(point)) + 20;
    const flipped = Uint8Array.from(bytes);
    flipped[at] ^= 0x01;
    expect(await readerAccepts(await publishContact(carol, flipped))).toBe(false);
  });
});
