import { createAuthToken, type UserKeys } from "@xmtp-ts/crypto";
import type { AuthTokenProvider } from "../api/index.js";

/** The node accepts tokens up to an hour old; renew a little before, as the SDK does (3,590 s). */
const TOKEN_LIFETIME_MS = 3_590_000;

/** Publish tokens signed by the identity key, cached until shortly before they expire or the node refuses one. */
export function authTokenProvider(keys: UserKeys, now: () => number = Date.now): AuthTokenProvider {
  let cached: { token: string; createdMs: number } | undefined;
  return async ({ refresh }) => {
    const nowMs = now();
    if (!refresh && cached && nowMs - cached.createdMs < TOKEN_LIFETIME_MS) return cached.token;
    const token = createAuthToken({
      identityKey: keys.identityKey,
      identityPrivateKey: keys.identityPrivateKey,
      walletAddress: keys.walletAddress,
      createdNs: BigInt(nowMs) * 1_000_000n,
    });
    cached = { token, createdMs: nowMs };
    return token;
  };
}
