import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "@xmtp-ts/crypto";
import { clone, create, postage, SignedPublicKeySchema, toBinary } from "@xmtp-ts/proto";
import {
  decodeRelationshipGrant,
  GRANT_DOMAIN,
  grantSigningDigest,
  makeRelationshipGrant,
  verifyRelationshipGrant,
  type GrantContext,
  type GrantRefusalCode,
} from "./grant.js";
import { signWithIdentityKey } from "./identitySignature.js";
import { fixedIdentity, makePerson, type Person } from "./test-support/people.js";

const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OTHER_VAULT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const CHAIN = 31337n;
const HOUR_NS = 3_600_000_000_000n;
const NOW_NS = 1_750_000_000_000_000_000n;

function expectRefused(signed: postage.SignedRelationshipGrant, context: GrantContext, code: GrantRefusalCode, reason: RegExp) {
  const check = verifyRelationshipGrant(signed, context);
  expect(check).toMatchObject({ ok: false, code });
  if (!check.ok) expect(check.reason).toMatch(reason);
}

describe("relationship grant (docs/postage.md §3.3)", () => {
  describe("known-answer vector", () => {
    const GRANT_BYTES =
      "0a2a307835436244643836613246413844633462446464386138663639644261343835373245654330374642122a3078313945374533373645374332" +
      "31334237453765376534366363373041356444303836444166663241188080d09de9ceb8fd1820e9f4012a2a3078354662444232333135363738616665" +
      "63623336376630333264393346363432663634313830616133";
    const GRANT_DIGEST = "40d78d1571e70df2c4e123b5e546137177962a623eeb98a40aafffa9325a2c49";
    const GRANT_SIGNATURE =
      "f9ab5d65d9b32911f53aeed8ebf9b6eb6d39e82da925a2f3f2725d8fecb404760d49ce14b55b13493b2c9d06a93adf34b4b5d47b2394066f9184b7f5e9864b451c";

    it("encodes, hashes and signs a fixed grant byte for byte", async () => {
      const grantor = await fixedIdentity("0x" + "33".repeat(32), "44".repeat(32), 1_700_000_000_000n);
      const grantee = await fixedIdentity("0x" + "11".repeat(32), "22".repeat(32), 1_700_000_000_000n);
      expect(grantor.address).toBe("0x5CbDd86a2FA8Dc4bDdd8a8f69dBa48572EeC07FB");
      const signed = makeRelationshipGrant({
        grantor: grantor.material,
        grantee: grantee.address.toLowerCase(), // any case in, EIP-55 in the grant
        expiresNs: 1_800_000_000_000_000_000n,
        chainId: CHAIN,
        vault: VAULT,
      });
      expect(toHex(signed.grantBytes)).toBe(GRANT_BYTES);
      expect(GRANT_DOMAIN).toBe("xmtp-ts/postage/grant/1");
      const independent = createHash("sha256").update("xmtp-ts/postage/grant/1", "utf8").update(signed.grantBytes).digest("hex");
      expect(toHex(grantSigningDigest(signed.grantBytes))).toBe(independent);
      expect(toHex(grantSigningDigest(signed.grantBytes))).toBe(GRANT_DIGEST);
      expect(toHex(signed.signature)).toBe(GRANT_SIGNATURE);
      expect(decodeRelationshipGrant(fromHex(GRANT_BYTES))).toMatchObject({
        grantor: grantor.address,
        grantee: grantee.address,
        expiresNs: 1_800_000_000_000_000_000n,
        chainId: CHAIN,
        vault: VAULT,
      });
    });
  });

  describe("with real keys", () => {
    let bob: Person; // grantor, owner of the topic
    let alice: Person; // grantee, the writer
    let mallory: Person;
    let grant: postage.SignedRelationshipGrant;
    let context: GrantContext;
    beforeAll(async () => {
      [bob, alice, mallory] = await Promise.all([makePerson(), makePerson(), makePerson()]);
      grant = makeRelationshipGrant({ grantor: bob.identity, grantee: alice.address, expiresNs: NOW_NS + HOUR_NS, chainId: CHAIN, vault: VAULT });
      context = { topicOwner: bob.address, writer: alice.address, chainId: CHAIN, vault: VAULT, nowNs: NOW_NS };
    });

    it("admits the grantee writing to the grantor until the deadline", () => {
      const check = verifyRelationshipGrant(grant, context);
      expect(check).toMatchObject({ ok: true, grant: { grantor: bob.address, grantee: alice.address } });
      expect(verifyRelationshipGrant(grant, { ...context, vault: VAULT.toLowerCase() }).ok).toBe(true);
      expect(verifyRelationshipGrant(grant, { ...context, nowNs: NOW_NS + HOUR_NS - 1n }).ok).toBe(true);
    });

    it("refuses it once expired, saying when", () => {
      expectRefused(grant, { ...context, nowNs: NOW_NS + HOUR_NS }, "grant_expired", /relationship grant expired at \d{4}-\d\d-\d\dT.*Z \(\d+ ns\)/);
    });

    it("refuses another writer (wrong grantee)", () => {
      expectRefused(grant, { ...context, writer: mallory.address }, "grant_wrong_grantee", new RegExp(`is for ${alice.address}, not for the writer ${mallory.address}`));
    });

    it("refuses it on another wallet's topic (wrong grantor)", () => {
      expectRefused(grant, { ...context, topicOwner: mallory.address }, "grant_wrong_grantor", new RegExp(`from ${bob.address}, not from the topic owner ${mallory.address}`));
    });

    it("refuses it on another chain or vault (replayed elsewhere)", () => {
      expectRefused(grant, { ...context, chainId: 1n }, "grant_replayed_elsewhere", /replayed elsewhere/);
      expectRefused(grant, { ...context, vault: OTHER_VAULT }, "grant_replayed_elsewhere", new RegExp(`vault ${VAULT} on chain 31337, not this network's vault ${OTHER_VAULT}`));
    });

    it("refuses altered grant bytes (a later deadline, signature unchanged)", () => {
      // Bob's key and signature over bytes that say the same but with a far deadline.
      const forged = clone(postage.SignedRelationshipGrantSchema, grant);
      forged.grantBytes = toBinary(
        postage.RelationshipGrantSchema,
        create(postage.RelationshipGrantSchema, { grantor: bob.address, grantee: alice.address, expiresNs: NOW_NS + 1000n * HOUR_NS, chainId: CHAIN, vault: VAULT }),
      );
      expectRefused(forged, context, "grant_forged", /not its identity key's \(forged or altered\)/);
    });

    it("refuses a grant for the victim signed by another wallet's key (forged grantor)", () => {
      // Mallory writes "Bob grants Alice" and signs it with her own identity key.
      const forged = clone(postage.SignedRelationshipGrantSchema, grant);
      forged.grantorIdentityKey = clone(SignedPublicKeySchema, mallory.identity.publicKey);
      forged.signature = signWithIdentityKey(grantSigningDigest(forged.grantBytes), mallory.identity.privateKey);
      expectRefused(forged, context, "grant_identity_not_grantor", new RegExp(`identity key of ${mallory.address}, not of its grantor ${bob.address}`));
    });

    it("refuses Bob's identity key on Mallory's signature (forged signature)", () => {
      const forged = clone(postage.SignedRelationshipGrantSchema, grant);
      forged.signature = signWithIdentityKey(grantSigningDigest(forged.grantBytes), mallory.identity.privateKey);
      expectRefused(forged, context, "grant_forged", /forged or altered/);
    });

    it("refuses a missing or unsigned identity key and a malformed signature", () => {
      expectRefused({ ...grant, grantorIdentityKey: undefined }, context, "grant_forged", /identity key: missing/);
      const truncated = { ...grant, signature: grant.signature.subarray(0, 64) };
      expectRefused(truncated, context, "grant_forged", /malformed: expected 65 bytes/);
    });

    it("refuses grant bytes that do not decode or name addresses not in EIP-55 form", () => {
      expectRefused({ ...grant, grantBytes: Uint8Array.of(0xff, 0xff) }, context, "grant_malformed", /malformed relationship grant/);
      const lower = toBinary(
        postage.RelationshipGrantSchema,
        create(postage.RelationshipGrantSchema, { grantor: bob.address.toLowerCase(), grantee: alice.address, expiresNs: NOW_NS + HOUR_NS, chainId: CHAIN, vault: VAULT }),
      );
      expectRefused({ ...grant, grantBytes: lower }, context, "grant_malformed", /grantor "0x[0-9a-f]{40}" is not an EIP-55 address/);
    });

    it("checks its arguments when making a grant", () => {
      expect(() => makeRelationshipGrant({ grantor: bob.identity, grantee: alice.address, expiresNs: -1n, chainId: CHAIN, vault: VAULT })).toThrow(RangeError);
      expect(() => makeRelationshipGrant({ grantor: bob.identity, grantee: "0x1234", expiresNs: 1n, chainId: CHAIN, vault: VAULT })).toThrow(/invalid Ethereum address/);
    });
  });
});
