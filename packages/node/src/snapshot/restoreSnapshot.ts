// `snapshot restore`: checks a whole snapshot file first (header, trailer, body digest, records, count), and only
// then opens the target store, refuses it unless empty, and appends the envelopes in batches (docs/storage.md §6).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress } from "node:zlib";
import type { Envelope, EnvelopeStore } from "../store/EnvelopeStore.js";
import { withDigest } from "../store/digest.js";
import { writeSyncPositions } from "../sync/syncState.js";
import {
  HEADER_MIN_BYTES,
  RecordReader,
  SnapshotError,
  TRAILER_BYTES,
  decodeHeader,
  decodeTrailer,
  type SnapshotHeader,
  type SnapshotTrailer,
} from "./snapshotFormat.js";

export interface VerifiedSnapshot {
  header: SnapshotHeader;
  trailer: SnapshotTrailer;
  /** Where the compressed body lies in the file: [bodyStart, bodyEnd). */
  bodyStart: number;
  bodyEnd: number;
}

/** Reads the whole file and throws a SnapshotError naming the first thing wrong with it; writes nothing. */
export async function verifySnapshot(path: string, onProgress?: (done: number, total: number) => void): Promise<VerifiedSnapshot> {
  const size = (await stat(path)).size;
  const file = await open(path, "r");
  let headerBytes: Buffer;
  let trailerBytes: Buffer;
  try {
    headerBytes = Buffer.alloc(Math.min(size, HEADER_MIN_BYTES + 255));
    await file.read(headerBytes, 0, headerBytes.length, 0);
    trailerBytes = Buffer.alloc(Math.min(size, TRAILER_BYTES));
    await file.read(trailerBytes, 0, trailerBytes.length, size - trailerBytes.length);
  } finally {
    await file.close();
  }
  const { header, length } = decodeHeader(headerBytes, size);
  if (size < length + TRAILER_BYTES) throw new SnapshotError("truncated", "the snapshot ends before its trailer: truncated");
  const trailer = decodeTrailer(trailerBytes);
  const bodyStart = length;
  const bodyEnd = size - TRAILER_BYTES;
  if (BigInt(bodyEnd - bodyStart) !== trailer.bodyBytes) {
    throw new SnapshotError(
      BigInt(bodyEnd - bodyStart) < trailer.bodyBytes ? "truncated" : "corrupt",
      `the snapshot body is ${bodyEnd - bodyStart} bytes where the trailer says ${trailer.bodyBytes}`,
    );
  }
  if (header.envelopeCount !== trailer.envelopeCount) {
    throw new SnapshotError("count_mismatch", `the header counts ${header.envelopeCount} envelopes and the trailer ${trailer.envelopeCount}`);
  }
  const bodyHash = createHash("sha256");
  if (bodyEnd > bodyStart) {
    for await (const chunk of createReadStream(path, { start: bodyStart, end: bodyEnd - 1 })) bodyHash.update(chunk as Buffer);
  }
  if (!bodyHash.digest().equals(trailer.bodySha256)) {
    throw new SnapshotError("checksum_mismatch", "the snapshot body's SHA-256 does not match the trailer: the file was altered or damaged");
  }
  const verified = { header, trailer, bodyStart, bodyEnd };
  await readSnapshotEnvelopes(path, verified, async (envelopes, done) => onProgress?.(done, trailer.envelopeCount));
  return verified;
}

/**
 * Decompresses the body and hands its envelopes over in order (in the chunks the stream yields), then checks the
 * records' count, length and SHA-256 against the trailer. A failing `onEnvelopes` stops the read with its error.
 */
export async function readSnapshotEnvelopes(
  path: string,
  snapshot: VerifiedSnapshot,
  onEnvelopes: (envelopes: Envelope[], done: number) => Promise<void>,
): Promise<void> {
  const { trailer, bodyStart, bodyEnd } = snapshot;
  const hash = createHash("sha256");
  const reader = new RecordReader();
  let bytes = 0n;
  let count = 0;
  let consumerError: { error: unknown } | undefined;
  if (bodyEnd <= bodyStart) throw new SnapshotError("corrupt", "the snapshot body is empty (not even an empty brotli stream)");
  try {
    await pipeline(createReadStream(path, { start: bodyStart, end: bodyEnd - 1 }), createBrotliDecompress(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        hash.update(chunk);
        bytes += BigInt(chunk.length);
        if (bytes > trailer.recordBytes) throw new SnapshotError("corrupt", "the snapshot body decompresses to more bytes than the trailer says");
        const envelopes = reader.push(chunk);
        count += envelopes.length;
        if (count > trailer.envelopeCount) throw new SnapshotError("count_mismatch", "the snapshot body holds more envelopes than its trailer counts");
        if (envelopes.length > 0) {
          try {
            await onEnvelopes(envelopes, count);
          } catch (error) {
            consumerError = { error };
            throw error;
          }
        }
      }
      reader.end();
    });
  } catch (error) {
    if (consumerError) throw consumerError.error;
    if (error instanceof SnapshotError) throw error;
    if ((error as NodeJS.ErrnoException).syscall) throw error; // reading the file failed: not the file's content
    throw new SnapshotError("corrupt", `the snapshot body does not decompress (${(error as Error).message})`);
  }
  if (count !== trailer.envelopeCount) {
    throw new SnapshotError("count_mismatch", `the snapshot body holds ${count} envelopes where the trailer counts ${trailer.envelopeCount}`);
  }
  if (bytes !== trailer.recordBytes || !hash.digest().equals(trailer.recordsSha256)) {
    throw new SnapshotError("checksum_mismatch", "the snapshot's records do not match the SHA-256 in its trailer");
  }
}

export interface RestoreSnapshotOptions {
  path: string;
  /** Opens the target store; called only once the whole file is verified. */
  openTarget: () => Promise<EnvelopeStore>;
  /**
   * The restored node's data directory: when the snapshot names its source node, the catch-up position for that
   * node is set to the snapshot's head there, so catch-up from it fetches only the tail.
   */
  dataDir?: string;
  /** Envelopes per append (default 1,000). */
  batchSize?: number;
  onVerified?: (snapshot: VerifiedSnapshot) => void;
  onProgress?: (phase: "verify" | "restore", done: number, total: number) => void;
}

export interface RestoreSummary {
  header: SnapshotHeader;
  envelopeCount: number;
  /** Appended envelopes that the target already held (always 0 for an empty target). */
  skipped: number;
  durationMs: number;
  /** The catch-up position written: the source's peer id and the head sequence. */
  syncPosition?: { peerId: string; sequence: bigint };
}

export async function restoreSnapshot(options: RestoreSnapshotOptions): Promise<RestoreSummary> {
  const startedAt = performance.now();
  const batchSize = options.batchSize ?? 1_000;
  const snapshot = await verifySnapshot(options.path, (done, total) => options.onProgress?.("verify", done, total));
  options.onVerified?.(snapshot);
  const total = snapshot.trailer.envelopeCount;
  const store = await options.openTarget();
  let appended = 0;
  let skipped = 0;
  try {
    const existing = await store.readDigestsSince(0n, 1);
    if (existing.sequences.length > 0) {
      throw new SnapshotError("target_not_empty", "the target store already holds envelopes: a snapshot is restored into an empty store only");
    }
    let batch: Envelope[] = [];
    const flush = async () => {
      const added = await store.append(batch.map(withDigest), undefined, { durable: true });
      skipped += batch.length - added.length;
      appended += batch.length;
      batch = [];
      options.onProgress?.("restore", appended, total);
    };
    await readSnapshotEnvelopes(options.path, snapshot, async (envelopes) => {
      for (const envelope of envelopes) {
        batch.push(envelope);
        if (batch.length >= batchSize) await flush();
      }
    });
    if (batch.length > 0) await flush();
    await store.flushCommitted();
  } finally {
    await store.close();
  }
  const summary: RestoreSummary = { header: snapshot.header, envelopeCount: appended, skipped, durationMs: 0 };
  const peerId = snapshot.header.sourcePeerId;
  if (peerId && options.dataDir) {
    await writeSyncPositions(options.dataDir, new Map([[peerId, snapshot.header.headSequence]]));
    summary.syncPosition = { peerId, sequence: snapshot.header.headSequence };
  }
  summary.durationMs = performance.now() - startedAt;
  return summary;
}
