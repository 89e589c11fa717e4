// Relationship grants on the client: made by the grantor's client for the node's network, accepted by the grantee's
// client only when genuine, and every forgery or misuse refused with the reason.
import { beforeAll, describe, expect, it } from "vitest";
import { toBase64 } from "@xmtp-ts/crypto";
import { grantSigningDigest, identityKeyMaterialOf, makeRelationshipGrant, signWithIdentityKey, verifyRelationshipGrant } from "@xmtp-ts/postage";
import { create, toBinary, postage } from "@xmtp-ts/proto";
import { ClientPostage } from "./ClientPostage.js";
import { InvalidPostageGrantError, PostageUnavailableError } from "./errors.js";
import { GrantStore } from "./GrantStore.js";
import { MAX_GRANT_BYTES, postageGrantFromBytes, postageGrantOf, type PostageGrant } from "./PostageGrant.js";
import { makeIdentity, type TestIdentity } from "./test-support/identities.js";
import { MemoryPostageNode } from "./test-support/memoryPostageNode.js";

let grantor: TestIdentity;
let grantee: TestIdentity;
let stranger: TestIdentity;
let node: MemoryPostageNode;
beforeAll(async () => {
  [grantor, grantee, stranger] = await Promise.all([makeIdentity(), makeIdentity(), makeIdentity()]);
  node = new MemoryPostageNode({ chainId: 8453n });
});

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

function postageOf(who: TestIdentity): ClientPostage {
  return new ClientPostage({ api: node.apiFor(who.address), address: who.address, keys: who.keys, grants: new GrantStore(who.address) });
}

function signedGrant(terms: { grantee?: string; expiresNs?: bigint; by?: TestIdentity } = {}) {
  return makeRelationshipGrant({
    grantor: identityKeyMaterialOf((terms.by ?? grantor).keys),
    grantee: terms.grantee ?? grantee.address,
    expiresNs: terms.expiresNs ?? nowNs() + 60_000_000_000n,
    chainId: node.terms.chainId,
    vault: node.terms.vault,
  });
}

function refusal(action: () => unknown): InvalidPostageGrantError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPostageGrantError);
    return err as InvalidPostageGrantError;
  }
  throw new Error("expected the grant to be refused");
}

describe("making a grant", () => {
  it("signs a grant for the node's network that the node would accept for the grantee's write", async () => {
    const grant = await postageOf(grantor).grant(grantee.address.toLowerCase(), { expiresInMs: 3_600_000 });
    expect(grant).toMatchObject({ grantor: grantor.address, grantee: grantee.address, chainId: 8453n, vault: node.terms.vault });
    expect(grant.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3_590_000);
    expect(grant.base64).toBe(toBase64(grant.bytes));
    const check = verifyRelationshipGrant(grant.signed, {
      topicOwner: grantor.address,
      writer: grantee.address,
      chainId: node.terms.chainId,
      vault: node.terms.vault,
      nowNs: nowNs(),
    });
    expect(check.ok).toBe(true);
  });

  it("needs a node with postage on (the network comes from its quote) and sane arguments", async () => {
    const off = new MemoryPostageNode();
    off.mode = "off";
    const client = new ClientPostage({ api: off.apiFor(grantor.address), address: grantor.address, keys: grantor.keys, grants: new GrantStore(grantor.address) });
    await expect(client.grant(grantee.address, { expiresInMs: 1000 })).rejects.toBeInstanceOf(PostageUnavailableError);
    await expect(postageOf(grantor).grant("bob", { expiresInMs: 1000 })).rejects.toThrow(TypeError);
    await expect(postageOf(grantor).grant(grantee.address, { expiresInMs: 0 })).rejects.toThrow(RangeError);
    await expect(postageOf(grantor).grant(grantee.address, { expiresInMs: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe("accepting a grant", () => {
  it("keeps a genuine grant given as bytes, base64 or a decoded grant, and finds it by grantor", async () => {
    const made = await postageOf(grantor).grant(grantee.address, { expiresInMs: 60_000 });
    for (const input of [made.bytes, made.base64, made]) {
      const store = new GrantStore(grantee.address);
      const accepted = store.accept(input);
      expect(accepted.grantor).toBe(grantor.address);
      expect(store.forGrantor(grantor.address)?.bytes).toEqual(made.bytes);
      expect(store.forGrantor(stranger.address)).toBeUndefined();
    }
  });

  it("refuses a grant for another wallet", () => {
    const store = new GrantStore(stranger.address);
    expect(refusal(() => store.accept(postageGrantOf(signedGrant()).bytes)).reason).toBe("not_for_us");
    expect(store.list()).toHaveLength(0);
  });

  it("refuses an expired grant", () => {
    const store = new GrantStore(grantee.address);
    expect(refusal(() => store.accept(postageGrantOf(signedGrant({ expiresNs: nowNs() - 1n })).bytes)).reason).toBe("expired");
  });

  it("refuses a grant whose signature was altered", () => {
    const signed = signedGrant();
    const signature = Uint8Array.from(signed.signature);
    signature[5] ^= 0x01;
    const forged = create(postage.SignedRelationshipGrantSchema, { ...signed, signature });
    expect(refusal(() => new GrantStore(grantee.address).accept(postageGrantOf(forged).bytes)).reason).toBe("forged");
  });

  it("refuses a grant whose terms were stretched after signing (a later expiry under the old signature)", () => {
    const genuine = signedGrant();
    const stretched = toBinary(
      postage.RelationshipGrantSchema,
      create(postage.RelationshipGrantSchema, {
        grantor: grantor.address,
        grantee: grantee.address,
        expiresNs: nowNs() + 10n ** 18n,
        chainId: node.terms.chainId,
        vault: node.terms.vault,
      }),
    );
    const forged = create(postage.SignedRelationshipGrantSchema, { ...genuine, grantBytes: stretched });
    expect(refusal(() => new GrantStore(grantee.address).accept(postageGrantOf(forged).bytes)).reason).toBe("forged");
  });

  it("refuses a grant in the grantor's name signed by someone else's identity key", () => {
    // The stranger writes "grantor grants grantee" and signs it with its own (valid, wallet-signed) identity key.
    const grantBytes = toBinary(
      postage.RelationshipGrantSchema,
      create(postage.RelationshipGrantSchema, {
        grantor: grantor.address,
        grantee: grantee.address,
        expiresNs: nowNs() + 60_000_000_000n,
        chainId: node.terms.chainId,
        vault: node.terms.vault,
      }),
    );
    const material = identityKeyMaterialOf(stranger.keys);
    const forged = create(postage.SignedRelationshipGrantSchema, {
      grantBytes,
      grantorIdentityKey: material.publicKey,
      signature: signWithIdentityKey(grantSigningDigest(grantBytes), material.privateKey),
    });
    expect(refusal(() => new GrantStore(grantee.address).accept(postageGrantOf(forged).bytes)).reason).toBe("identity_not_grantor");
  });

  it("refuses a grant carrying the grantor's public identity key but signed with another key", () => {
    const genuine = signedGrant();
    const forged = create(postage.SignedRelationshipGrantSchema, {
      ...genuine,
      signature: signWithIdentityKey(grantSigningDigest(genuine.grantBytes), identityKeyMaterialOf(stranger.keys).privateKey),
    });
    expect(refusal(() => new GrantStore(grantee.address).accept(postageGrantOf(forged).bytes)).reason).toBe("forged");
  });

  it.each([
    ["empty bytes", new Uint8Array(0)],
    ["not protobuf", new Uint8Array([0xff, 0xff, 0xff])],
    ["not base64", "not base64!"],
    ["too many bytes", new Uint8Array(MAX_GRANT_BYTES + 1)],
    ["no grantor key", toBinary(postage.SignedRelationshipGrantSchema, create(postage.SignedRelationshipGrantSchema, { grantBytes: new Uint8Array([1]) }))],
  ])("refuses %s as malformed", (_what, input) => {
    expect(refusal(() => new GrantStore(grantee.address).accept(input as Uint8Array | string)).reason).toBe("malformed");
  });

  it("reads a decoded grant again from its bytes: a doctored view cannot lengthen it", () => {
    let now = nowNs();
    const store = new GrantStore(grantee.address, () => now);
    const real = postageGrantOf(signedGrant({ expiresNs: now + 1_000_000_000n }));
    const doctored: PostageGrant = { ...real, expiresNs: now + 10n ** 18n };
    expect(store.accept(doctored).expiresNs).toBe(real.expiresNs);
    now += 2_000_000_000n;
    expect(store.forGrantor(grantor.address)).toBeUndefined();
    expect(store.list()).toHaveLength(0);
  });

  it("keeps the longest-lasting grant per grantor and network", () => {
    const store = new GrantStore(grantee.address);
    const short = postageGrantOf(signedGrant({ expiresNs: nowNs() + 10_000_000_000n }));
    const long = postageGrantOf(signedGrant({ expiresNs: nowNs() + 90_000_000_000n }));
    store.accept(long);
    store.accept(short);
    expect(store.list()).toHaveLength(1);
    expect(store.forGrantor(grantor.address)?.expiresNs).toBe(long.expiresNs);
    store.forget(grantor.address);
    expect(store.forGrantor(grantor.address)).toBeUndefined();
  });

  it("ignores quietly, in `receive`, what `accept` refuses (grants arriving inside messages)", () => {
    const store = new GrantStore(grantee.address);
    expect(store.receive(postageGrantOf(signedGrant({ grantee: stranger.address })))).toBe(false);
    expect(store.receive(postageGrantOf(signedGrant({ expiresNs: nowNs() - 1n })))).toBe(false);
    expect(store.receive(postageGrantOf(signedGrant()))).toBe(true);
  });

  it("round-trips through base64 text with surrounding whitespace (pasted from a link)", () => {
    const grant = postageGrantOf(signedGrant());
    expect(postageGrantFromBytes(`  ${grant.base64}\n`).bytes).toEqual(grant.bytes);
  });
});
