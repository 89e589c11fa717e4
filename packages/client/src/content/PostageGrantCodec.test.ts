// xmtp-ts.org/postageGrant:1.0 through the content pipeline both ends use.
import { beforeAll, describe, expect, it } from "vitest";
import { identityKeyMaterialOf, makeRelationshipGrant } from "@xmtp-ts/postage";
import { create, toBinary, EncodedContentSchema } from "@xmtp-ts/proto";
import { postageGrantOf, type PostageGrant } from "../postage/PostageGrant.js";
import { makeIdentity } from "../postage/test-support/identities.js";
import { CodecRegistry, decodeContent, encodeContentPayload } from "./CodecRegistry.js";
import { ContentTypePostageGrant, PostageGrantCodec } from "./PostageGrantCodec.js";

let grant: PostageGrant;
beforeAll(async () => {
  const [grantor, grantee] = await Promise.all([makeIdentity(), makeIdentity()]);
  grant = postageGrantOf(
    makeRelationshipGrant({
      grantor: identityKeyMaterialOf(grantor.keys),
      grantee: grantee.address,
      expiresNs: 1_900_000_000_000_000_000n,
      chainId: 31337n,
      vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    }),
  );
});

const registry = () => new CodecRegistry([new PostageGrantCodec()]);

describe("PostageGrantCodec", () => {
  it("is xmtp-ts.org/postageGrant:1.0", () => {
    expect(ContentTypePostageGrant.toString()).toBe("xmtp-ts.org/postageGrant:1.0");
  });

  it("round-trips a grant: the bytes that arrive are the bytes sent, and the fields read from them", async () => {
    const { payload, shouldPush } = await encodeContentPayload(grant, { contentType: ContentTypePostageGrant }, registry());
    expect(shouldPush).toBe(false);
    const decoded = await decodeContent<PostageGrant>(payload, registry());
    expect(decoded.error).toBeUndefined();
    expect(decoded.contentType.toString()).toBe("xmtp-ts.org/postageGrant:1.0");
    expect(decoded.content!.bytes).toEqual(grant.bytes);
    expect(decoded.content).toMatchObject({ grantor: grant.grantor, grantee: grant.grantee, expiresNs: grant.expiresNs, chainId: 31337n });
    // Clients without the codec see who grants whom, and until when.
    expect(decoded.contentFallback).toContain(grant.grantor);
    expect(decoded.contentFallback).toContain("2030-03-17");
  });

  it("also encodes the bare grant bytes", async () => {
    const { payload } = await encodeContentPayload(grant.bytes, { contentType: ContentTypePostageGrant }, registry());
    expect((await decodeContent<PostageGrant>(payload, registry())).content!.grantor).toBe(grant.grantor);
  });

  it("refuses to send anything that is not a grant", async () => {
    await expect(encodeContentPayload("hello", { contentType: ContentTypePostageGrant }, registry())).rejects.toThrow(TypeError);
    await expect(encodeContentPayload(new Uint8Array([1, 2, 3]), { contentType: ContentTypePostageGrant }, registry())).rejects.toThrow(
      "relationship grant refused (malformed)",
    );
  });

  it("decodes garbage under its type as a message with an error, not a throw", async () => {
    const payload = toBinary(
      EncodedContentSchema,
      create(EncodedContentSchema, {
        type: { authorityId: "xmtp-ts.org", typeId: "postageGrant", versionMajor: 1, versionMinor: 0 },
        content: new Uint8Array([0xde, 0xad]),
      }),
    );
    const decoded = await decodeContent(payload, registry());
    expect(decoded.content).toBeUndefined();
    expect(decoded.error?.message).toContain("cannot decode xmtp-ts.org/postageGrant:1.0");
  });
});
