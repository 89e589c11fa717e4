import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { KeyBundleVerifier } from "@xmtp-ts/crypto";
import {
  create,
  fromBinary,
  MessageHeaderV1Schema,
  MessageSchema,
  SealedInvitationHeaderV1Schema,
  SealedInvitationSchema,
  toBinary,
} from "@xmtp-ts/proto";
import { isEip55Address } from "./addresses.js";
import { headerParties } from "./headers.js";
import { introEnvelope, invitationEnvelope, makePerson, type Person } from "./test-support/people.js";

describe("envelope headers (docs/postage.md §3.5)", () => {
  let alice: Person;
  let bob: Person;
  let invitation: Uint8Array;
  let intro: Uint8Array;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([makePerson(), makePerson()]);
    invitation = (await invitationEnvelope(alice, bob)).message;
    intro = (await introEnvelope(alice, bob)).message;
  });

  it("reads sender and recipient of a real v2 invitation without decrypting it", async () => {
    expect(await headerParties("invite", invitation)).toEqual({ sender: alice.address, recipient: bob.address });
    expect(await headerParties("invite", invitation, new KeyBundleVerifier())).toEqual({ sender: alice.address, recipient: bob.address });
  });

  it("reads sender and recipient of a real v1 intro without decrypting it", async () => {
    expect(await headerParties("intro", intro)).toEqual({ sender: alice.address, recipient: bob.address });
    expect(await headerParties("intro", intro, new KeyBundleVerifier())).toEqual({ sender: alice.address, recipient: bob.address });
  });

  it("reads an intro's bytes on an invite topic as nothing", async () => {
    expect(await headerParties("invite", intro)).toBeUndefined();
  });

  it("reads an invitation's bytes on an intro topic as the same parties (the wire formats overlap)", async () => {
    // SealedInvitation and Message share field numbers down to the bundles, and protobuf-es reads a v2 bundle's
    // keys as their legacy form: the header still names the wallets that signed those bundles.
    const parties = await headerParties("intro", invitation);
    if (parties !== undefined) expect(parties).toEqual({ sender: alice.address, recipient: bob.address });
  });

  it("reads nothing from a header whose sender's pre-key signature was altered", async () => {
    const sealed = fromBinary(SealedInvitationSchema, invitation);
    if (sealed.version.case !== "v1") throw new Error("expected v1");
    const header = fromBinary(SealedInvitationHeaderV1Schema, sealed.version.value.headerBytes);
    const preKeySignature = header.sender!.preKey!.signature!.union.value!.bytes;
    preKeySignature[5] ^= 1;
    sealed.version.value.headerBytes = toBinary(SealedInvitationHeaderV1Schema, header);
    expect(await headerParties("invite", toBinary(SealedInvitationSchema, sealed))).toBeUndefined();
  });

  it("reads nothing from an intro whose recipient bundle is missing", async () => {
    const message = fromBinary(MessageSchema, intro);
    if (message.version.case !== "v1") throw new Error("expected v1");
    const header = fromBinary(MessageHeaderV1Schema, message.version.value.headerBytes);
    header.recipient = undefined;
    message.version.value.headerBytes = toBinary(MessageHeaderV1Schema, header);
    expect(await headerParties("intro", toBinary(MessageSchema, message))).toBeUndefined();
    expect(await headerParties("intro", toBinary(MessageSchema, create(MessageSchema, {})))).toBeUndefined();
  });

  it("never throws on garbage, only answers undefined", async () => {
    const seeds = [invitation, intro];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("invite" as const, "intro" as const),
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([seed, at, value]) => {
            const out = Uint8Array.from(seed);
            out[at % out.length] = value;
            return out;
          }),
        ),
        async (kind, bytes) => {
          const parties = await headerParties(kind, bytes);
          // A mutated header may still verify: a changed wallet signature recovers some other wallet (a claim
          // about nobody). Whatever is returned is a pair of EIP-55 addresses.
          if (parties !== undefined) {
            expect(isEip55Address(parties.sender) && isEip55Address(parties.recipient)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
