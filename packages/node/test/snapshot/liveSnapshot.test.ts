// A snapshot of a real `xmtp-node` process's SQLite store taken while it keeps serving publishes, restored into a new
// data directory; the restored node, started with --peer the source, catches up only the tail and ends with exactly
// the source's envelopes, none missing, none twice (docs/storage.md §6). Once per format: the database pages (the
// backup copy must not restart or tear while the node commits) and the records.
import "../../src/p2p/promiseWithResolvers.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runSnapshotCommand } from "../../src/snapshot/snapshotCommand.js";
import { SYNC_STATE_FILE } from "../../src/sync/syncState.js";
import { bytesOf, createIdentity, envelopeJson, publish } from "../http/helpers.js";
import { eventually, keysOf, queryAll, startRelayNode, type RelayNode } from "../network/support.js";
import { FORMATS } from "./support.js";

const TOPICS = ["/xmtp/0/m-live-a/proto", "/xmtp/0/m-live-b/proto", "/xmtp/0/m-live-c/proto"];
const nodes: RelayNode[] = [];
const directories: string[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.dispose()));
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

describe.each(FORMATS)("snapshot of a running node (--format %s)", (format) => {
  it("is consistent while publishes go on, and the restored node catches up only the tail", { timeout: 120_000 }, async () => {
    const source = await startRelayNode({ syncIntervalMs: 300, extraArgs: ["--rate-limits", "off"] });
    nodes.push(source);
    const identity = await createIdentity();
    let sent = 0;
    /** Envelopes whose publish was answered 200: only those must be in a snapshot begun after. */
    let acknowledged = 0;
    const base = 1_700_000_000_000_000_000n;
    const publishBatch = async (size: number) => {
      const batch = Array.from({ length: size }, () => {
        const i = sent++;
        return envelopeJson(TOPICS[i % TOPICS.length], base + BigInt(i), bytesOf(`live envelope ${i}`));
      });
      const answer = await publish(source, batch, identity.token());
      if (answer.status !== 200) throw new Error(`publish failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      acknowledged += size;
    };
    for (let i = 0; i < 30; i++) await publishBatch(50);

    // Publishes keep coming while the snapshot is written.
    let publishing = true;
    const publisher = (async () => {
      while (publishing) await publishBatch(5);
    })();
    const work = mkdtempSync(join(tmpdir(), "xmtp-live-snapshot-"));
    directories.push(work);
    const file = join(work, "node.snapshot");
    let stdout = "";
    let stderr = "";
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
    // A batch may be in flight now: counted in `sent`, not yet acknowledged, and not necessarily in the snapshot.
    const acknowledgedBefore = acknowledged;
    expect(await runSnapshotCommand(["create", "--data-dir", source.dataDir, "--out", file, "--format", format, "--quiet"], {}, io), stderr).toBe(0);
    const sentDuring = sent - acknowledgedBefore;
    for (let i = 0; i < 20; i++) await publishBatch(5);
    publishing = false;
    await publisher;
    const inSnapshot = Number(/: ([\d,]+) envelopes up to sequence/.exec(stdout)![1].replace(/,/g, ""));
    expect(inSnapshot).toBeGreaterThanOrEqual(acknowledgedBefore);
    expect(inSnapshot).toBeLessThan(sent);
    expect(stdout).toContain(`source peer ${source.peerId}`);

    const target = join(work, "restored");
    expect(await runSnapshotCommand(["restore", file, "--data-dir", target, "--quiet"], {}, io), stderr).toBe(0);
    const positions = JSON.parse(readFileSync(join(target, SYNC_STATE_FILE), "utf8")) as { peers: Record<string, string> };
    expect(Object.keys(positions.peers)).toEqual([source.peerId]);

    const restored = await startRelayNode({ dataDir: target, peers: [source.multiaddr], syncIntervalMs: 300 });
    nodes.push(restored);
    const expected = await Promise.all(TOPICS.map((t) => queryAll(source, t)));
    expect(expected.flat()).toHaveLength(sent);
    await eventually(async () => {
      const got = await Promise.all(TOPICS.map((t) => queryAll(restored, t)));
      return got.flat().length >= sent;
    }, "the restored node caught up");
    const got = await Promise.all(TOPICS.map((t) => queryAll(restored, t)));
    for (let t = 0; t < TOPICS.length; t++) expect(keysOf(got[t])).toEqual(keysOf(expected[t]));
    // Catch-up fetched the tail only: what was published after the head, not the whole store again.
    const received = restored.logs
      .filter((l) => l.includes('"msg":"caught up from peer"'))
      .reduce((sum, l) => sum + (JSON.parse(l) as { received: number }).received, 0);
    expect(received).toBe(sent - inSnapshot);
    expect(sentDuring).toBeGreaterThanOrEqual(0);
  });
});
