// Outside browsers: where Web Workers do not exist (here, Node.js) the pool opens everything in this thread. Its
// browser behaviour is tested in headless Chromium: test/webInvitationPool.test.ts.
import { describe, expect, it } from "vitest";
import { Wallet, getBytes, type BaseWallet } from "ethers";
import { createInvitation, generatePrivateKeyBundleV1, userKeysFromBundle } from "@xmtp-ts/crypto";
import { openInvitations } from "./openInvitations.js";
import { MIN_WORKER_JOBS, WebInvitationPool } from "./WebInvitationPool.js";

const sign = (wallet: BaseWallet) => async (text: string) => getBytes(await wallet.signMessage(text));

describe("WebInvitationPool without Web Workers", () => {
  it("opens a big batch in this thread, with the results openInvitations gives", async () => {
    expect(typeof (globalThis as { Worker?: unknown }).Worker).toBe("undefined");
    const reader = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
    const peer = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
    const jobs = [];
    for (let i = 0; i < MIN_WORKER_JOBS; i++) {
      const sealed = await createInvitation({ sender: peer, recipient: reader.signedBundle, context: { conversationId: `c${i}`, metadata: {} } });
      jobs.push({ message: sealed.bytes, timestampNs: sealed.createdNs });
    }
    const pool = WebInvitationPool.create();
    expect(pool.parallel).toBe(false);
    await pool.warmUp();
    expect(await pool.open(reader, jobs)).toEqual(await openInvitations(reader, jobs));
    expect(pool.batchesOnWorkers).toBe(0);
    expect(pool.workerBackends).toEqual([]);
  });
});
