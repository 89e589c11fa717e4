import { describe, expect, it } from "vitest";
import { Wallet, getBytes } from "ethers";
import { generatePrivateKeyBundleV1, userKeysFromBundle, verifyAuthToken } from "@xmtp-ts/crypto";
import { authTokenProvider } from "./authTokens.js";

describe("authTokenProvider", () => {
  it("makes tokens the node accepts, reuses one until shortly before an hour, and renews on request", async () => {
    const wallet = Wallet.createRandom();
    const keys = userKeysFromBundle(await generatePrivateKeyBundleV1(async (t) => getBytes(await wallet.signMessage(t))));
    let now = 1_800_000_000_000;
    const provider = authTokenProvider(keys, () => now);
    const first = await provider({ refresh: false });
    expect(verifyAuthToken(first, { nowNs: BigInt(now) * 1_000_000n }).walletAddress).toBe(wallet.address);
    now += 60_000;
    expect(await provider({ refresh: false })).toBe(first);
    const refreshed = await provider({ refresh: true });
    expect(refreshed).not.toBe(first);
    now += 3_590_000;
    const renewed = await provider({ refresh: false });
    expect(renewed).not.toBe(refreshed);
    expect(verifyAuthToken(renewed, { nowNs: BigInt(now) * 1_000_000n }).createdNs).toBe(BigInt(now) * 1_000_000n);
  });
});
