// `snapshot create --format pages` (the default for a SQLite node): the node's database file itself, copied
// consistently while the node keeps serving it, stripped of node-local state, and framed as a version 2 snapshot
// (docs/storage.md §6). Restoring it into a new SQLite data directory is a file copy and a few checks instead of
// inserting every row again (figures in the README's "Store at scale").
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm, stat, writeFile } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { removeDatabaseFiles } from "../store/sqliteFiles.js";
import type { SnapshotSummary } from "./createSnapshot.js";
import { dropNodeLocalState } from "./nodeLocalState.js";
import { SNAPSHOT_VERSION_DATABASE, encodeHeader, encodeTrailer } from "./snapshotFormat.js";

export interface CreateDatabaseSnapshotOptions {
  /** The node's SQLite database; opened read-only, never migrated or checkpointed. */
  databasePath: string;
  /** The snapshot's path; written to `${out}.partial` and renamed when complete. */
  out: string;
  sourcePeerId?: string;
  nowMs?: () => number;
  /** Called as the copy and then the framing advance, with bytes done and bytes expected. */
  onProgress?: (phase: "copy" | "write", done: number, total: number) => void;
}

/**
 * Pages copied per backup step: 16 MiB at 4 KiB pages, so progress is reported about every tenth of a second and the
 * event loop turns between steps.
 */
const PAGES_PER_STEP = 4096;
/** Bytes read at a time while framing: fewer system calls than the default 64 KiB on a file of gigabytes. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export async function createDatabaseSnapshot(options: CreateDatabaseSnapshotOptions): Promise<SnapshotSummary> {
  const { out } = options;
  const nowMs = options.nowMs ?? Date.now;
  const startedAt = performance.now();
  const partial = `${out}.partial`;
  // The copy sits next to the output: the same file system, which must have room for the snapshot anyway.
  const copy = `${out}.partial-db`;
  removeDatabaseFiles(copy);
  let complete = false;
  try {
    const createdAtMs = nowMs();
    await copyDatabase(options.databasePath, copy, options.onProgress);
    const { headSequence, envelopeCount } = prepareCopy(copy);
    const header = encodeHeader(
      { sourceKind: "sqlite", createdAtMs, headSequence, envelopeCount, ...(options.sourcePeerId ? { sourcePeerId: options.sourcePeerId } : {}) },
      SNAPSHOT_VERSION_DATABASE,
    );
    const databaseBytes = (await stat(copy)).size;
    await writeFile(partial, header);
    // Stored uncompressed, so the body's digest is also the database file's. A pipeline, so reading, hashing and
    // writing overlap.
    const hash = createHash("sha256");
    let done = 0;
    await pipeline(
      createReadStream(copy, { highWaterMark: CHUNK_BYTES }),
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          done += chunk.length;
          options.onProgress?.("write", done, databaseBytes);
          callback(null, chunk);
        },
      }),
      createWriteStream(partial, { flags: "a", highWaterMark: 4 * CHUNK_BYTES }),
    );
    if (done !== databaseBytes) throw new Error(`the database copy changed size while it was framed (${databaseBytes} bytes, then ${done})`);
    const digest = hash.digest();
    const trailer = encodeTrailer({
      envelopeCount,
      recordBytes: BigInt(databaseBytes),
      bodyBytes: BigInt(databaseBytes),
      bodySha256: digest,
      recordsSha256: digest,
    });
    const file = await open(partial, "a");
    try {
      await file.write(trailer);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partial, out);
    complete = true;
    return {
      envelopeCount,
      headSequence,
      fileBytes: header.length + databaseBytes + trailer.length,
      durationMs: performance.now() - startedAt,
      ...(options.sourcePeerId ? { sourcePeerId: options.sourcePeerId } : {}),
    };
  } finally {
    removeDatabaseFiles(copy);
    if (!complete) await rm(partial, { force: true });
  }
}

/**
 * SQLite's online backup, inside one read transaction held on the source for the whole copy. The backup API restarts
 * from the first page whenever another process writes the source between two steps; under an open read transaction
 * the source connection keeps seeing one version of the database (WAL: the node's writer goes on, its checkpoints
 * stop short of what this reader still sees), so the copy never restarts and is that version, whatever the node
 * commits meanwhile. Chosen over VACUUM INTO, which rebuilds every table and index row by row (measured in the
 * README's "Store at scale").
 */
async function copyDatabase(
  path: string,
  copy: string,
  onProgress: CreateDatabaseSnapshotOptions["onProgress"],
): Promise<void> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    db.exec("BEGIN");
    // A deferred transaction starts reading at its first statement: this one fixes the version the backup copies.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    await db.backup(copy, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.("copy", (totalPages - remainingPages) * pageSize, totalPages * pageSize);
        return PAGES_PER_STEP;
      },
    });
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

/**
 * Makes the copy a snapshot body: node-local state removed, rollback journal instead of WAL (the file travels alone,
 * with no -wal beside it), and reads the head and count it holds, which the header states.
 */
function prepareCopy(copy: string): { headSequence: bigint; envelopeCount: number } {
  const db = new Database(copy, { fileMustExist: true });
  try {
    db.pragma("journal_mode = DELETE");
    dropNodeLocalState(db);
    const row = db.prepare("SELECT coalesce(max(seq), 0) AS head, count(*) AS count FROM envelopes").safeIntegers(true).get() as { head: bigint; count: bigint };
    return { headSequence: row.head, envelopeCount: Number(row.count) };
  } finally {
    db.close();
  }
}
