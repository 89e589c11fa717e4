// `snapshot restore` of a page-level (version 2) snapshot (docs/storage.md §6). Into a data directory with no database
// yet, the snapshot's database file becomes the node's: streamed into `xmtp.sqlite3.restoring` while its SHA-256 is
// computed, checked (checkSnapshotDatabase.ts), switched to WAL, synced and renamed into place. Into any other target
// (PostgreSQL, a SQLite database that exists), the file is streamed into a temporary directory, checked the same way,
// and its envelopes are read out of it and appended through the target, as a record-format snapshot's are.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { withDigest } from "../store/digest.js";
import { removeDatabaseFiles, syncPath } from "../store/sqliteFiles.js";
import { checkSnapshotDatabase } from "./checkSnapshotDatabase.js";
import type { SnapshotFrame } from "./restoreSnapshot.js";
import { SnapshotError } from "./snapshotFormat.js";
import { openSqliteSnapshotSource } from "./snapshotSource.js";
import type { SnapshotTarget } from "./snapshotTarget.js";

export interface RestoreDatabaseSnapshotOptions {
  path: string;
  frame: SnapshotFrame;
  target: SnapshotTarget;
  /** Where the database is unpacked for a target that is not a new SQLite file (default: the system's temporary directory). */
  workDir?: string;
  /** "unpack" counts bytes of the database file, "restore" envelopes appended. */
  onProgress?: (phase: "unpack" | "restore", done: number, total: number) => void;
}

/** Restores the snapshot; resolves with how many envelopes it held and how many of them the target found already stored. */
export async function restoreDatabaseSnapshot(options: RestoreDatabaseSnapshotOptions): Promise<{ envelopeCount: number; skipped: number }> {
  const { target } = options;
  if (target.newDatabase) {
    await placeDatabase(options, target.newDatabase);
    return { envelopeCount: options.frame.header.envelopeCount, skipped: 0 };
  }
  return appendFromDatabase(options);
}

async function placeDatabase(options: RestoreDatabaseSnapshotOptions, database: NonNullable<SnapshotTarget["newDatabase"]>): Promise<void> {
  const { path } = database;
  if (existsSync(path)) throw new Error(`a database already exists at ${path}: a snapshot's database replaces none`);
  const restoring = `${path}.restoring`;
  const createdDirectory = mkdirSync(dirname(path), { recursive: true });
  removeDatabaseFiles(restoring); // left by a restore that was interrupted
  try {
    await extractSnapshotDatabase(options.path, options.frame, restoring, options.onProgress);
    await checkSnapshotDatabase(restoring, options.frame.header, { wakuHasher: database.wakuHasher, forStore: true });
    syncPath(restoring);
    renameSync(restoring, path);
    syncPath(dirname(path));
  } catch (error) {
    removeDatabaseFiles(restoring);
    if (createdDirectory) rmSync(createdDirectory, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Unpacks and checks the database in a temporary directory, then reads its envelopes (with their proofs) in sequence
 * order and hands them to the target, a target batch at a time.
 */
async function appendFromDatabase(options: RestoreDatabaseSnapshotOptions): Promise<{ envelopeCount: number; skipped: number }> {
  const { target, frame } = options;
  const total = frame.header.envelopeCount;
  const base = options.workDir ?? tmpdir();
  const createdDirectory = mkdirSync(base, { recursive: true });
  const work = await mkdtemp(join(base, "snapshot-restore-"));
  let failed = true;
  try {
    const unpacked = join(work, "snapshot.sqlite3");
    // Checked whole before the target is opened: appends into it cannot be undone halfway.
    await extractSnapshotDatabase(options.path, frame, unpacked, options.onProgress);
    await checkSnapshotDatabase(unpacked, frame.header, { forStore: false });
    const source = openSqliteSnapshotSource(unpacked);
    let appended = 0;
    let added = 0;
    try {
      await target.open();
      let after = 0n;
      for (;;) {
        const page = await source.readPage(after, frame.header.headSequence, target.batchSize);
        if (page.envelopes.length > 0) {
          added += await target.load(page.envelopes.map(withDigest));
          appended += page.envelopes.length;
          options.onProgress?.("restore", appended, total);
        }
        if (page.done) break;
        after = page.nextSequence;
      }
      await target.commit();
    } catch (error) {
      await target.abort();
      throw error;
    } finally {
      await source.close();
    }
    failed = false;
    return { envelopeCount: appended, skipped: appended - added };
  } finally {
    await rm(work, { recursive: true, force: true });
    if (failed && createdDirectory) rmSync(createdDirectory, { recursive: true, force: true });
  }
}

/** Bytes read at a time: fewer system calls than the default 64 KiB on a file of gigabytes. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Copies the snapshot's body into `destination` (which must not exist) while computing its SHA-256, then compares it
 * with the trailer's: a damaged or altered body is refused (`checksum_mismatch`) and nothing of it is used.
 */
export async function extractSnapshotDatabase(
  path: string,
  frame: SnapshotFrame,
  destination: string,
  onProgress?: (phase: "unpack", done: number, total: number) => void,
): Promise<void> {
  const { trailer, bodyStart, bodyEnd } = frame;
  // Stored uncompressed: the database's length and digest are the body's.
  if (trailer.recordBytes !== trailer.bodyBytes) {
    throw new SnapshotError("corrupt", `the snapshot's trailer gives the database ${trailer.recordBytes} bytes and the body ${trailer.bodyBytes}`);
  }
  if (!Buffer.from(trailer.recordsSha256).equals(Buffer.from(trailer.bodySha256))) {
    throw new SnapshotError("checksum_mismatch", "the snapshot trailer's two SHA-256 digests of the database differ: the trailer is damaged");
  }
  if (bodyEnd <= bodyStart) throw new SnapshotError("corrupt", "the snapshot's body is empty: it holds no database");
  const hash = createHash("sha256");
  let done = 0;
  // A pipeline, so reading the next chunk, hashing this one and writing the previous one overlap (reads and writes run
  // on libuv's threads, the hash on this one).
  await pipeline(
    createReadStream(path, { start: bodyStart, end: bodyEnd - 1, highWaterMark: CHUNK_BYTES }),
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        done += chunk.length;
        onProgress?.("unpack", done, bodyEnd - bodyStart);
        callback(null, chunk);
      },
    }),
    createWriteStream(destination, { flags: "wx", highWaterMark: 4 * CHUNK_BYTES }),
  );
  if (!hash.digest().equals(Buffer.from(trailer.bodySha256))) {
    throw new SnapshotError("checksum_mismatch", "the snapshot body's SHA-256 does not match the trailer: the file was altered or damaged");
  }
}
