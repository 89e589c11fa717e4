// Helpers shared by the snapshot command's tests: temporary directories removed after the file's tests, sample
// envelopes with postage proofs, a SQLite source store filled with them, a store's contents in a comparable form, and
// runSnapshotCommand with its output captured.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { withDigest } from "../../src/store/digest.js";
import type { EnvelopeStore, StoredEnvelope } from "../../src/store/EnvelopeStore.js";
import type { PostageLedger } from "../../src/store/postageLedger.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { runSnapshotCommand } from "../../src/snapshot/snapshotCommand.js";

const directories: string[] = [];
export const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "xmtp-snapshot-"));
  directories.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

export const TOPICS = ["/xmtp/0/m-alpha/proto", "/xmtp/0/contact-0xabc/proto", "/xmtp/0/intro-0xdef/proto", "/xmtp/0/dm-a-b/proto"];

/** n envelopes over a few topics, timestamps out of arrival order within topics, some with postage proofs. */
export function sampleEnvelopes(n: number, seed = "s"): StoredEnvelope[] {
  return Array.from({ length: n }, (_, i) =>
    withDigest({
      contentTopic: TOPICS[i % TOPICS.length],
      timestampNs: 1_700_000_000_000_000_000n + BigInt((i * 7919) % 1000),
      message: new Uint8Array(Buffer.concat([Buffer.from(`${seed}${i}:`), randomBytes(20 + (i % 50))])),
      ...(i % 5 === 0 ? { postage: new Uint8Array(randomBytes(40)) } : {}),
    }),
  );
}

export async function fill(store: EnvelopeStore, envelopes: StoredEnvelope[]): Promise<void> {
  for (let i = 0; i < envelopes.length; i += 250) await store.append(envelopes.slice(i, i + 250));
}

export interface Contents {
  /** Every envelope in arrival order: topic, timestamp, message and proof as text. */
  all: string[];
  /** Per topic, the messages in query order (timestamp, then arrival). */
  perTopic: Record<string, string[]>;
}

export async function contentsOf(store: EnvelopeStore & { postage: PostageLedger }): Promise<Contents> {
  const all: string[] = [];
  let after = 0n;
  for (;;) {
    const page = await store.readDigestsSince(after, 500);
    if (page.sequences.length === 0) break;
    const envelopes = await store.readBySequence(page.sequences);
    const proofs = await store.postage.readProofs(envelopes.map((e) => e.digest));
    for (const e of envelopes) {
      const proof = proofs.get(Buffer.from(e.digest).toString("hex"));
      all.push(`${e.contentTopic} ${e.timestampNs} ${Buffer.from(e.message).toString("hex")} ${proof ? Buffer.from(proof).toString("hex") : "-"}`);
    }
    after = page.nextSequence;
  }
  const perTopic: Record<string, string[]> = {};
  for (const topic of TOPICS) {
    const page = await store.query({ topic, limit: 10_000, direction: "ascending" });
    perTopic[topic] = page.envelopes.map((e) => `${e.timestampNs} ${Buffer.from(e.message).toString("hex")}`);
  }
  return { all, perTopic };
}

export function expected(envelopes: StoredEnvelope[]): string[] {
  return envelopes.map(
    (e) => `${e.contentTopic} ${e.timestampNs} ${Buffer.from(e.message).toString("hex")} ${e.postage ? Buffer.from(e.postage).toString("hex") : "-"}`,
  );
}

export async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runSnapshotCommand(argv, {}, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), progressIntervalMs: 0 });
  return { code, stdout, stderr };
}

export const sqlitePath = (dir: string) => join(dir, "xmtp.sqlite3");
/** The values of `snapshot create --format`: tests that hold for both run once per format. */
export const FORMATS = ["records", "pages"] as const;

export async function sqliteSource(n: number): Promise<{ dir: string; envelopes: StoredEnvelope[] }> {
  const dir = tempDir();
  const envelopes = sampleEnvelopes(n);
  const store = await openSqliteStore(sqlitePath(dir));
  await fill(store, envelopes);
  await store.close();
  return { dir, envelopes };
}

export async function sqliteContents(dir: string): Promise<Contents> {
  const store = await openSqliteStore(sqlitePath(dir));
  try {
    return await contentsOf(store);
  } finally {
    await store.close();
  }
}
