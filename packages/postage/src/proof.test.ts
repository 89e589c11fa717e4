import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { hexlify, randomBytes, Wallet } from "ethers";
import { toBase64 } from "@xmtp-ts/crypto";
import { create, equals, postage, toBinary } from "@xmtp-ts/proto";
import { makeRelationshipGrant } from "./grant.js";
import {
  decodePostageProof,
  encodePostageProof,
  grantProof,
  makePostageStamp,
  MAX_POSTAGE_PROOF_BYTES,
  PostageProofError,
  postageProofFromBase64,
  postageProofToBase64,
  priorContactProof,
  sealOnlyProof,
  stampProof,
} from "./proof.js";
import { makeSenderSeal } from "./seal.js";
import { editedBytes, postageFuzzParameters } from "./test-support/fuzz.js";
import { makePerson, type Person } from "./test-support/people.js";

const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

function expectProofError(run: () => unknown, code: PostageProofError["code"], reason?: RegExp) {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PostageProofError);
  expect((caught as PostageProofError).code).toBe(code);
  if (reason) expect((caught as PostageProofError).reason).toMatch(reason);
}

describe("postage proof encoding (docs/postage.md §3)", () => {
  let alice: Person;
  let bob: Person;
  let proofs: postage.PostageProof[];
  beforeAll(async () => {
    [alice, bob] = await Promise.all([makePerson(), makePerson()]);
    const seal = makeSenderSeal(alice.identity, randomBytes(32));
    const grant = makeRelationshipGrant({ grantor: bob.identity, grantee: alice.address, expiresNs: 1n << 62n, chainId: 31337n, vault: VAULT });
    const stamp = makePostageStamp({
      payer: alice.address,
      operator: new Wallet(hexlify(randomBytes(32))).address,
      cumulative: 123_456_789n,
      signature: randomBytes(65),
    });
    proofs = [
      priorContactProof(),
      priorContactProof(seal),
      grantProof(grant, seal),
      grantProof(grant),
      stampProof(stamp, seal),
      stampProof(stamp),
      sealOnlyProof(seal),
    ];
  });

  it("round-trips every basis, as bytes and as base64", () => {
    for (const proof of proofs) {
      const bytes = encodePostageProof(proof);
      expect(bytes.length).toBeLessThan(1024);
      expect(equals(postage.PostageProofSchema, decodePostageProof(bytes), proof)).toBe(true);
      expect(equals(postage.PostageProofSchema, postageProofFromBase64(postageProofToBase64(proof)), proof)).toBe(true);
    }
    expect(decodePostageProof(new Uint8Array(0)).basis.case).toBeUndefined();
  });

  it("refuses more than 8 KiB before parsing", () => {
    expectProofError(() => decodePostageProof(new Uint8Array(MAX_POSTAGE_PROOF_BYTES + 1)), "proof_too_large", /8193 bytes exceeds 8192/);
    expectProofError(() => postageProofFromBase64("A".repeat(11_000)), "proof_too_large");
    const huge = create(postage.PostageProofSchema, { seal: { identityKey: alice.identity.publicKey, signature: new Uint8Array(65) } });
    huge.seal!.identityKey = { ...alice.identity.publicKey, keyBytes: new Uint8Array(9000) };
    expectProofError(() => encodePostageProof(huge), "proof_too_large");
  });

  it("refuses malformed bytes and ill-formed fields with a typed error", () => {
    expectProofError(() => decodePostageProof(Uint8Array.of(0x0a, 0x05, 0x01)), "malformed_proof", /cannot decode/);
    expectProofError(() => postageProofFromBase64("not base64!"), "malformed_proof", /base64/);
    const sealWithoutKey = toBinary(postage.PostageProofSchema, create(postage.PostageProofSchema, { seal: { signature: new Uint8Array(65) } }));
    expectProofError(() => decodePostageProof(sealWithoutKey), "malformed_proof", /seal has no identity key/);
    const shortSeal = create(postage.PostageProofSchema, { seal: { identityKey: alice.identity.publicKey, signature: new Uint8Array(64) } });
    expectProofError(() => decodePostageProof(toBinary(postage.PostageProofSchema, shortSeal)), "malformed_proof", /seal signature must be 65 bytes/);
    const stamp = (fields: Partial<postage.PostageStamp>) =>
      toBinary(
        postage.PostageProofSchema,
        create(postage.PostageProofSchema, {
          basis: { case: "stamp", value: { payer: alice.address, operator: bob.address, cumulative: Uint8Array.of(1), signature: new Uint8Array(65), ...fields } },
        }),
      );
    expect(decodePostageProof(stamp({})).basis.case).toBe("stamp");
    expectProofError(() => decodePostageProof(stamp({ payer: alice.address.toLowerCase() })), "malformed_proof", /stamp payer/);
    expectProofError(() => decodePostageProof(stamp({ operator: "" })), "malformed_proof", /stamp operator/);
    expectProofError(() => decodePostageProof(stamp({ cumulative: Uint8Array.of(0, 1) })), "malformed_proof", /leading zero/);
    expectProofError(() => decodePostageProof(stamp({ cumulative: new Uint8Array(33).fill(1) })), "malformed_proof", /33 bytes/);
    expectProofError(() => decodePostageProof(stamp({ signature: new Uint8Array(66) })), "malformed_proof", /stamp signature/);
    const grant = (fields: Partial<postage.SignedRelationshipGrant>) =>
      toBinary(
        postage.PostageProofSchema,
        create(postage.PostageProofSchema, {
          basis: { case: "grant", value: { grantBytes: Uint8Array.of(1), grantorIdentityKey: bob.identity.publicKey, signature: new Uint8Array(65), ...fields } },
        }),
      );
    expectProofError(() => decodePostageProof(grant({ grantBytes: new Uint8Array(0) })), "malformed_proof", /no grant bytes/);
    expectProofError(() => decodePostageProof(grant({ grantorIdentityKey: undefined })), "malformed_proof", /no grantor identity key/);
    expectProofError(() => decodePostageProof(grant({ signature: Uint8Array.of(1) })), "malformed_proof", /grant signature/);
  });

  function onlyTypedErrors(decode: () => unknown) {
    try {
      decode();
    } catch (err) {
      if (!(err instanceof PostageProofError)) throw err;
    }
  }

  it("fuzz: random bytes decode or fail with PostageProofError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyTypedErrors(() => decodePostageProof(bytes))),
      postageFuzzParameters("random proof bytes", 2000),
    );
  });

  it("fuzz: edited valid proofs decode or fail with PostageProofError, and what decodes re-encodes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }).chain((i) => editedBytes(encodePostageProof(proofs[i]))),
        (bytes) => {
          let proof: postage.PostageProof | undefined;
          try {
            proof = decodePostageProof(bytes);
          } catch (err) {
            if (!(err instanceof PostageProofError)) throw err;
          }
          if (proof) expect(() => encodePostageProof(proof)).not.toThrow();
        },
      ),
      postageFuzzParameters("edited proof bytes", 2000),
    );
  });

  it("fuzz: random text as the HTTP field fails with PostageProofError only", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }).map((b) => toBase64(b))),
        (text) => onlyTypedErrors(() => postageProofFromBase64(text)),
      ),
      postageFuzzParameters("proof base64 text", 1500),
    );
  });
});
