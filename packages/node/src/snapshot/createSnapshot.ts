// `snapshot create`: every envelope of a store up to the head sequence it had when the snapshot began, in sequence
// order, into a snapshot file (docs/storage.md §6), while the node may keep serving the store.
import { createHash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants as zlibConstants, createBrotliCompress } from "node:zlib";
import { encodeHeader, encodeRecord, encodeTrailer, type SnapshotHeader } from "./snapshotFormat.js";
import type { SnapshotSource } from "./snapshotSource.js";

export interface CreateSnapshotOptions {
  source: SnapshotSource;
  /** The snapshot's path; it is written to `${out}.partial` and renamed when complete. */
  out: string;
  sourcePeerId?: string;
  /** Envelopes read per page (default 1,000). */
  pageSize?: number;
  nowMs?: () => number;
  /** Called after every page with the envelopes written so far and the count expected at the start. */
  onProgress?: (done: number, total: number) => void;
}

export interface SnapshotSummary {
  envelopeCount: number;
  headSequence: bigint;
  fileBytes: number;
  durationMs: number;
  sourcePeerId?: string;
}

/**
 * Brotli at quality 1: envelopes are mostly ciphertext, which no level compresses much (topics and framing do), and
 * quality 1 compressed about 5 times faster than gzip level 1 or 6 at the same ratio (measured, docs/storage.md §6).
 */
const BROTLI_OPTIONS = {
  params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_GENERIC },
};

export async function createSnapshot(options: CreateSnapshotOptions): Promise<SnapshotSummary> {
  const { source, out } = options;
  const pageSize = options.pageSize ?? 1_000;
  const nowMs = options.nowMs ?? Date.now;
  const startedAt = performance.now();
  const partial = `${out}.partial`;
  // The head first: every envelope at or below it is read below. Sequences become visible in order in both stores, so
  // this is a consistent prefix of the store, whatever is published meanwhile (only what is pruned meanwhile is missing).
  const head = await source.head();
  const header: Omit<SnapshotHeader, "version" | "compression"> = {
    sourceKind: source.kind,
    createdAtMs: nowMs(),
    headSequence: head.sequence,
    envelopeCount: 0,
    ...(options.sourcePeerId ? { sourcePeerId: options.sourcePeerId } : {}),
  };
  const placeholder = encodeHeader(header);
  const file = await open(partial, "w");
  let complete = false;
  try {
    await file.write(placeholder, 0, placeholder.length, 0);
    const recordsHash = createHash("sha256");
    const bodyHash = createHash("sha256");
    let recordBytes = 0n;
    let bodyBytes = 0;
    let count = 0;
    async function* records(): AsyncGenerator<Buffer> {
      let after = 0n;
      for (;;) {
        if (head.sequence === 0n) return;
        const page = await source.readPage(after, head.sequence, pageSize);
        if (page.envelopes.length > 0) {
          const chunk = Buffer.concat(page.envelopes.map(encodeRecord));
          recordsHash.update(chunk);
          recordBytes += BigInt(chunk.length);
          count += page.envelopes.length;
          yield chunk;
        }
        options.onProgress?.(count, head.count);
        if (page.done) return;
        after = page.nextSequence;
      }
    }
    await pipeline(Readable.from(records()), createBrotliCompress(BROTLI_OPTIONS), async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) {
        bodyHash.update(chunk);
        await file.write(chunk, 0, chunk.length, placeholder.length + bodyBytes);
        bodyBytes += chunk.length;
      }
    });
    const trailer = encodeTrailer({
      envelopeCount: count,
      recordBytes,
      bodyBytes: BigInt(bodyBytes),
      bodySha256: bodyHash.digest(),
      recordsSha256: recordsHash.digest(),
    });
    await file.write(trailer, 0, trailer.length, placeholder.length + bodyBytes);
    // The count is known only now: the header (same length) is written again with it.
    const finalHeader = encodeHeader({ ...header, envelopeCount: count });
    await file.write(finalHeader, 0, finalHeader.length, 0);
    await file.sync();
    await file.close();
    await rename(partial, out);
    complete = true;
    return {
      envelopeCount: count,
      headSequence: head.sequence,
      fileBytes: placeholder.length + bodyBytes + trailer.length,
      durationMs: performance.now() - startedAt,
      ...(options.sourcePeerId ? { sourcePeerId: options.sourcePeerId } : {}),
    };
  } finally {
    if (!complete) {
      await file.close().catch(() => {});
      await rm(partial, { force: true });
    }
  }
}
