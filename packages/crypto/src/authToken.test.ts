import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { Wallet, type BaseWallet } from "ethers";
import { fromBinary, toBinary, TokenSchema, AuthDataSchema, create, PublicKeySchema } from "@xmtp-ts/proto";
import { AuthTokenError, createAuthToken, verifyAuthToken } from "./authToken.js";
import { fromBase64, toBase64 } from "./bytes.js";
import { generatePrivateKey, getPublicKey } from "./secp256k1.js";
import { createIdentityText, walletSignatureToCompact } from "./walletSignature.js";
import { unsignedPublicKeyBytes } from "./identityKey.js";

const require = createRequire(import.meta.url);
// The public SDK is only a peer to check against; its ES-module build fails on Node 20.
const sdk = require("@xmtp/xmtp-js");

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

async function sdkToken(wallet: BaseWallet, createdAt = new Date()): Promise<string> {
  const bundle = await sdk.PrivateKeyBundleV1.generate(wallet);
  const authenticator = new sdk.LocalAuthenticator(bundle.identityKey);
  const token = await authenticator.createToken(createdAt);
  return token.toBase64();
}

async function ourIdentity(wallet: BaseWallet) {
  const identityPrivateKey = generatePrivateKey();
  const unsigned = create(PublicKeySchema, {
    timestamp: BigInt(Date.now()),
    union: { case: "secp256k1Uncompressed", value: { bytes: getPublicKey(identityPrivateKey) } },
  });
  const walletSig = walletSignatureToCompact(
    fromHexSig(await wallet.signMessage(createIdentityText(unsignedPublicKeyBytes(unsigned)))),
  );
  const identityKey = create(PublicKeySchema, {
    timestamp: unsigned.timestamp,
    union: { case: "secp256k1Uncompressed", value: { bytes: getPublicKey(identityPrivateKey) } },
    signature: { union: { case: "ecdsaCompact", value: walletSig } },
  });
  return { identityKey, identityPrivateKey };
}

function fromHexSig(sig: string): Uint8Array {
  return Uint8Array.from(Buffer.from(sig.slice(2), "hex"));
}

describe("verifyAuthToken", () => {
  it("accepts a token made by the public SDK and recovers its wallet", async () => {
    const wallet = Wallet.createRandom();
    const verified = verifyAuthToken(await sdkToken(wallet), { nowNs: nowNs() });
    expect(verified.walletAddress).toBe(wallet.address);
  });

  it("accepts a token we create", async () => {
    const wallet = Wallet.createRandom();
    const { identityKey, identityPrivateKey } = await ourIdentity(wallet);
    const token = createAuthToken({ identityKey, identityPrivateKey, walletAddress: wallet.address, createdNs: nowNs() });
    expect(verifyAuthToken(token, { nowNs: nowNs() }).walletAddress).toBe(wallet.address);
  });

  it("rejects an expired token", async () => {
    const wallet = Wallet.createRandom();
    const token = await sdkToken(wallet, new Date(Date.now() - 2 * 3600_000));
    expect(() => verifyAuthToken(token, { nowNs: nowNs() })).toThrow(/validating token: token expired/);
  });

  it("rejects a token dated far in the future, which would never expire", async () => {
    const wallet = Wallet.createRandom();
    const token = await sdkToken(wallet, new Date(Date.now() + 3600_000));
    expect(() => verifyAuthToken(token, { nowNs: nowNs() })).toThrow(/validating token: token created in the future/);
    const slightlyAhead = await sdkToken(wallet, new Date(Date.now() + 60_000));
    expect(verifyAuthToken(slightlyAhead, { nowNs: nowNs() }).walletAddress).toBe(wallet.address);
  });

  it("rejects auth data signed by another key", async () => {
    const wallet = Wallet.createRandom();
    const { identityKey } = await ourIdentity(wallet);
    const token = createAuthToken({
      identityKey,
      identityPrivateKey: generatePrivateKey(),
      walletAddress: wallet.address,
      createdNs: nowNs(),
    });
    expect(() => verifyAuthToken(token, { nowNs: nowNs() })).toThrow(/auth data signature/);
  });

  it("rejects a token claiming another wallet", async () => {
    const wallet = Wallet.createRandom();
    const other = Wallet.createRandom();
    const { identityKey, identityPrivateKey } = await ourIdentity(wallet);
    const token = createAuthToken({ identityKey, identityPrivateKey, walletAddress: other.address, createdNs: nowNs() });
    expect(() => verifyAuthToken(token, { nowNs: nowNs() })).toThrow(/wallet address mismatch/);
  });

  it("rejects a token whose auth data was swapped after signing", async () => {
    const wallet = Wallet.createRandom();
    const decoded = fromBinary(TokenSchema, fromBase64(await sdkToken(wallet)));
    decoded.authDataBytes = toBinary(AuthDataSchema, create(AuthDataSchema, { walletAddr: wallet.address, createdNs: nowNs() + 1n }));
    expect(() => verifyAuthToken(toBase64(toBinary(TokenSchema, decoded)), { nowNs: nowNs() })).toThrow(AuthTokenError);
  });

  it("rejects garbage with a clear error", () => {
    expect(() => verifyAuthToken("not base64!", { nowNs: nowNs() })).toThrow(/validating token: cannot decode token/);
    expect(() => verifyAuthToken("", { nowNs: nowNs() })).toThrow(/validating token: token has no identity key/);
  });
});
