// Runs the compiled worker (packages/client/dist, built by `npm run build` / `npx tsc -b packages/client`).
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Wallet, getBytes, type BaseWallet } from "ethers";
import { createInvitation, generatePrivateKeyBundleV1, userKeysFromBundle } from "@xmtp-ts/crypto";
import { InvitationPool, MIN_PARALLEL_JOBS } from "./InvitationPool.js";
import { openInvitations } from "./openInvitations.js";

const run = promisify(execFile);
const workerUrl = new URL("../../dist/workers/invitationWorker.js", import.meta.url);
const sign = (wallet: BaseWallet) => async (text: string) => getBytes(await wallet.signMessage(text));
const pools: InvitationPool[] = [];
// Vitest runs with the "source" export condition; workers inheriting it would load TypeScript sources and fail.
const execArgv = process.execArgv.filter((flag) => !/^(--conditions|-C)(=|$)/.test(flag) && flag !== "source");
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe("InvitationPool", () => {
  it("opens a big batch on worker threads with the same results as in this thread, failures included", async () => {
    expect(existsSync(workerUrl), "build the client first: npx tsc -b packages/client").toBe(true);
    const reader = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
    const jobs = [];
    for (let i = 0; i < MIN_PARALLEL_JOBS + 2; i++) {
      const peer = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
      const sealed = await createInvitation({ sender: peer, recipient: reader.signedBundle, context: { conversationId: `c${i}`, metadata: { n: String(i) } } });
      jobs.push({ message: sealed.bytes, timestampNs: i === 3 ? sealed.createdNs + 1n : sealed.createdNs });
    }
    jobs.push({ message: new Uint8Array([1, 2, 3]), timestampNs: 1n });
    const pool = await InvitationPool.create({ workerUrl, size: 2, execArgv });
    pools.push(pool);
    expect(pool.parallel).toBe(true);
    const parallel = await pool.open(reader, jobs);
    const local = await openInvitations(reader, jobs);
    expect(parallel).toEqual(local);
    expect(parallel.filter((r) => r.ok)).toHaveLength(jobs.length - 2);
    expect(parallel[3]).toMatchObject({ ok: false, error: expect.stringMatching(/differs from the header's created_ns/) });
    expect(parallel[5]).toMatchObject({ ok: true, context: { conversationId: "c5", metadata: { n: "5" } } });
    // Opened by the workers themselves, not by the fallback in this thread.
    expect(pool.workerChunks).toBeGreaterThan(0);
  });

  it("opens batches arriving while another is in flight (pages of a listing) with the right results each", async () => {
    const reader = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
    const batches: { message: Uint8Array; timestampNs: bigint }[][] = [[], []];
    const topics: string[][] = [[], []];
    for (let i = 0; i < 2 * MIN_PARALLEL_JOBS; i++) {
      const peer = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
      const sealed = await createInvitation({ sender: peer, recipient: reader.signedBundle });
      batches[i % 2].push({ message: sealed.bytes, timestampNs: sealed.createdNs });
      topics[i % 2].push(sealed.topic);
    }
    const pool = await InvitationPool.create({ workerUrl, size: 1, execArgv });
    pools.push(pool);
    const [first, second] = await Promise.all(batches.map((jobs) => pool.open(reader, jobs)));
    expect(first.map((r) => (r.ok ? r.topic : r.error))).toEqual(topics[0]);
    expect(second.map((r) => (r.ok ? r.topic : r.error))).toEqual(topics[1]);
    expect(pool.workerChunks).toBeGreaterThanOrEqual(8);
  });

  it("does not keep the process alive once its work is done", async () => {
    const poolModule = new URL("../../dist/workers/InvitationPool.js", import.meta.url).href;
    const script = `const { InvitationPool } = await import(${JSON.stringify(poolModule)});
      const pool = await InvitationPool.create({ size: 1 });
      if (!pool.parallel) throw new Error("no workers");
      await pool.warmUp();
      console.log("done");`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000 });
    expect(stdout.trim()).toBe("done");
  });

  it("opens a batch in this thread when every worker dies, without hanging", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmtp-broken-worker-"));
    const broken = pathToFileURL(join(dir, "worker.mjs"));
    writeFileSync(broken, 'throw new Error("this worker cannot start");\n');
    const reader = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
    const jobs = [];
    for (let i = 0; i < MIN_PARALLEL_JOBS; i++) {
      const peer = userKeysFromBundle(await generatePrivateKeyBundleV1(sign(Wallet.createRandom())));
      const sealed = await createInvitation({ sender: peer, recipient: reader.signedBundle });
      jobs.push({ message: sealed.bytes, timestampNs: sealed.createdNs });
    }
    const pool = await InvitationPool.create({ workerUrl: broken, size: 1, execArgv });
    pools.push(pool);
    expect(pool.parallel).toBe(true);
    const [first, second] = await Promise.all([pool.open(reader, jobs), pool.open(reader, jobs)]);
    expect(first).toEqual(await openInvitations(reader, jobs));
    expect(second).toEqual(first);
    expect(pool.workerChunks).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs in this thread when the worker script is missing", async () => {
    const pool = await InvitationPool.create({ workerUrl: new URL("./no-such-worker.js", import.meta.url) });
    expect(pool.parallel).toBe(false);
  });
});
