// A full disk under the real node binary with its default SQLite store, on a small tmpfs of its own (mounting needs
// root, which CI has). The promise: refused publishes get 503 / code 14 with Retry-After (never 500), /readyz says
// 503 while the store cannot write, reads are still served, the node recovers by itself once space is freed,
// SIGTERM on a full disk exits 0, and no acknowledged envelope is missing after a restart.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { createIdentity, envelopeJson, nowNs, post, type Identity } from "../http/helpers.js";

const isRoot = process.getuid?.() === 0;
const inCi = Boolean(process.env.CI);
const TOPIC = "/xmtp/0/m-disk-full/proto";
const MESSAGE_BYTES = 48 * 1024;

describe.skipIf(!isRoot && !inCi)("a full disk (SQLite on a 24 MiB tmpfs)", () => {
  let mountPoint: string | undefined;
  let node: RunningNode | undefined;
  afterAll(async () => {
    await node?.stop().catch(() => {});
    if (mountPoint) {
      execFileSync("umount", [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  it("is answered 503 and survived, and nothing acknowledged is lost", { timeout: 120_000 }, async () => {
    expect(isRoot, "this suite mounts a tmpfs and must run as root (CI does)").toBe(true);
    mountPoint = mkdtempSync(join(tmpdir(), "xmtp-disk-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint]);
    const dataDir = join(mountPoint, "data");
    node = await startNode({ dataDir });
    const alice = await createIdentity();
    const acknowledged = new Set<string>();

    const publishOne = async () => {
      const message = randomBytes(MESSAGE_BYTES).toString("base64");
      const envelope = envelopeJson(TOPIC, nowNs(), message);
      const answer = await post(node!.url, "/message/v1/publish", { envelopes: [envelope] }, { authorization: `Bearer ${alice.token()}` });
      if (answer.status === 200) acknowledged.add(message);
      return answer;
    };
    for (let i = 0; i < 10; i++) expect((await publishOne()).status).toBe(200);

    // Fill the file system, then publish until the store runs out of room.
    const filler = join(mountPoint, "filler");
    fillDisk(filler);
    const refusals = [];
    for (let i = 0; i < 200 && refusals.length < 5; i++) {
      const answer = await publishOne();
      if (answer.status !== 200) refusals.push(answer);
    }
    expect(refusals.length).toBe(5);
    for (const refusal of refusals) {
      expect(refusal.status, JSON.stringify(refusal.body)).toBe(503);
      expect(refusal.body).toMatchObject({ code: 14, message: expect.stringMatching(/disk is full/) });
      expect(refusal.headers.get("retry-after")).toBe("1");
    }
    const notReady = await fetch(`${node.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/store cannot write/);
    // Reads are still served, with everything acknowledged so far.
    expect(await storedMessages(node, alice)).toEqual(expect.arrayContaining([...acknowledged]));
    expect(node.process.exitCode).toBeNull();

    // Space comes back: the node finds out by itself (write probes) and takes publishes again.
    unlinkSync(filler);
    await waitFor(async () => (await fetch(`${node!.url}/readyz`)).status === 200, 15_000);
    expect((await publishOne()).status).toBe(200);

    // Full again, then SIGTERM: the node stops cleanly (exit 0) although the store cannot fold its WAL back.
    fillDisk(filler);
    for (let i = 0; i < 50 && (await publishOne()).status === 200; i++);
    expect(await node.stop()).toBe(0);

    unlinkSync(filler);
    node = await startNode({ dataDir });
    const stored = await storedMessages(node, alice);
    const missing = [...acknowledged].filter((message) => !stored.includes(message));
    expect(missing).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(10);
  });
});

/** Writes zeros until the file system says it is full. */
function fillDisk(path: string): void {
  const fd = openSync(path, "a");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  expect(statfsSync(path).bavail).toBeLessThan(16);
}

async function storedMessages(node: RunningNode, _reader: Identity): Promise<string[]> {
  const messages: string[] = [];
  let cursor: unknown;
  for (;;) {
    const page = await post(node.url, "/message/v1/query", {
      contentTopics: [TOPIC],
      pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING", ...(cursor ? { cursor } : {}) },
    });
    expect(page.status).toBe(200);
    for (const envelope of page.body.envelopes ?? []) messages.push(envelope.message);
    cursor = page.body.pagingInfo?.cursor;
    if (!cursor || (page.body.envelopes ?? []).length === 0) return messages;
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
