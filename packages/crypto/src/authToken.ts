import {
  create,
  fromBinary,
  toBinary,
  AuthDataSchema,
  TokenSchema,
  type PublicKey,
} from "@xmtp-ts/proto";
import { fromBase64, toBase64 } from "./bytes.js";
import { keccak256 } from "./hashes.js";
import { walletAddressOfIdentityKey, compactOf, publicKeyPoint } from "./identityKey.js";
import { signDigest, verifyDigest } from "./secp256k1.js";

export const AUTH_TOKEN_MAX_AGE_NS = 3_600_000_000_000n;
/** How far ahead of our clock a token may be dated: client clocks drift, but a far-future token would never expire. */
export const AUTH_TOKEN_MAX_FUTURE_SKEW_NS = 600_000_000_000n;

export class AuthTokenError extends Error {
  constructor(reason: string) {
    super(`validating token: ${reason}`);
    this.name = "AuthTokenError";
  }
}

export interface AuthTokenInput {
  /** The legacy identity public key, carrying the wallet's Create-Identity signature. */
  identityKey: PublicKey;
  identityPrivateKey: Uint8Array;
  walletAddress: string;
  createdNs: bigint;
}

/** A publish token: identity key + AuthData signed by the identity key over keccak256. Returns base64. */
export function createAuthToken(input: AuthTokenInput): string {
  const authDataBytes = toBinary(
    AuthDataSchema,
    create(AuthDataSchema, { walletAddr: input.walletAddress, createdNs: input.createdNs }),
  );
  const signature = signDigest(keccak256(authDataBytes), input.identityPrivateKey);
  const token = create(TokenSchema, {
    identityKey: input.identityKey,
    authDataBytes,
    authDataSignature: { union: { case: "ecdsaCompact", value: signature } },
  });
  return toBase64(toBinary(TokenSchema, token));
}

export interface VerifiedAuthToken {
  walletAddress: string;
  createdNs: bigint;
}

export interface VerifyAuthTokenOptions {
  nowNs: bigint;
  maxAgeNs?: bigint;
}

/**
 * Checks a bearer token as the reference node does: wallet recovered from the identity key's
 * Create-Identity signature, AuthData signed by the identity key, wallets equal, and not too old.
 * Every failure is an AuthTokenError whose message starts with "validating token:".
 */
export function verifyAuthToken(tokenBase64: string, options: VerifyAuthTokenOptions): VerifiedAuthToken {
  let token;
  try {
    token = fromBinary(TokenSchema, fromBase64(tokenBase64));
  } catch (err) {
    throw new AuthTokenError(`cannot decode token: ${(err as Error).message}`);
  }
  if (!token.identityKey) throw new AuthTokenError("token has no identity key");
  if (!token.authDataSignature) throw new AuthTokenError("token has no auth data signature");

  let walletAddress: string;
  try {
    walletAddress = walletAddressOfIdentityKey(token.identityKey);
  } catch (err) {
    throw new AuthTokenError(`identity key signature: ${(err as Error).message}`);
  }

  let signatureOk: boolean;
  try {
    signatureOk = verifyDigest(
      keccak256(token.authDataBytes),
      compactOf(token.authDataSignature),
      publicKeyPoint(token.identityKey),
    );
  } catch {
    signatureOk = false;
  }
  if (!signatureOk) throw new AuthTokenError("auth data signature does not match the identity key");

  let authData;
  try {
    authData = fromBinary(AuthDataSchema, token.authDataBytes);
  } catch (err) {
    throw new AuthTokenError(`cannot decode auth data: ${(err as Error).message}`);
  }
  if (authData.walletAddr !== walletAddress) {
    throw new AuthTokenError(`wallet address mismatch: token is for ${authData.walletAddr}, key is of ${walletAddress}`);
  }
  const maxAge = options.maxAgeNs ?? AUTH_TOKEN_MAX_AGE_NS;
  if (options.nowNs - authData.createdNs > maxAge) throw new AuthTokenError("token expired");
  if (authData.createdNs - options.nowNs > AUTH_TOKEN_MAX_FUTURE_SKEW_NS) {
    throw new AuthTokenError("token created in the future");
  }
  return { walletAddress, createdNs: authData.createdNs };
}
