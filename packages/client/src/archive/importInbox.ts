// docs/storage.md §7: an archive republished to the client's node: per topic, only the envelopes the node lacks
// (by envelope digest, sha256(topic ‖ message)), with their original timestamps, in the archive's order.
import { ApiError } from "../api/errors.js";
import { envelopeDigestHex } from "../api/digests.js";
import { queryPages } from "../api/paging.js";
import type { Envelope } from "../api/types.js";
import type { Client } from "../Client.js";
import { readArchive } from "./readArchive.js";

export interface RefusedEnvelope {
  topic: string;
  timestampNs: bigint;
  /** The envelope digest, hex. */
  digest: string;
  /** The node's words. */
  reason: string;
  httpStatus?: number;
  /** The node's gRPC status. */
  grpcCode?: number;
}

export interface ImportReport {
  topics: number;
  envelopes: number;
  published: number;
  alreadyPresent: number;
  refused: RefusedEnvelope[];
}

export interface ImportProgress {
  topicsDone: number;
  topicsTotal: number;
  /** Envelopes handled so far (published, already present or refused) of `envelopesTotal`. */
  envelopesDone: number;
  envelopesTotal: number;
  published: number;
  alreadyPresent: number;
  refused: number;
}

export interface ImportInboxOptions {
  onProgress?: (progress: ImportProgress) => void;
  /** Envelopes per publish request (at most 50, and at most ~2 MiB of messages). Default 50. */
  batchSize?: number;
  /** Topics imported at once (each in its own order). Default 4. */
  concurrency?: number;
}

const MAX_BATCH_BYTES = 2 * 1024 * 1024;

function batchesOf(envelopes: Envelope[], size: number): Envelope[][] {
  const batches: Envelope[][] = [];
  let batch: Envelope[] = [];
  let bytes = 0;
  for (const envelope of envelopes) {
    if (batch.length > 0 && (batch.length >= size || bytes + envelope.message.length > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(envelope);
    bytes += envelope.message.length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A refusal by the node that retrying will not change (postage 402, 403, invalid argument); anything else throws. */
function isRefusal(error: unknown): error is ApiError {
  return error instanceof ApiError && error.call === "publish" && !error.transient && error.code !== undefined && error.code !== 16;
}

/**
 * Republishes an archive of `client`'s own inbox to `client`'s node, publishing only what the node lacks. Refusals
 * (a node asking postage, 403 on an owner-only topic) are reported per envelope; a node that cannot be reached
 * fails the import (run it again: what was published is then found present). ArchiveError when the archive is
 * damaged or not `client`'s.
 */
export async function importInbox(client: Client, archive: Uint8Array, options: ImportInboxOptions = {}): Promise<ImportReport> {
  const { topics } = await readArchive(archive, client.keys);
  const size = Math.max(1, Math.min(options.batchSize ?? 50, 50));
  const envelopesTotal = topics.reduce((n, t) => n + t.envelopes.length, 0);
  const report: ImportReport = { topics: topics.length, envelopes: envelopesTotal, published: 0, alreadyPresent: 0, refused: [] };
  let topicsDone = 0;
  const progress = () =>
    options.onProgress?.({
      topicsDone,
      topicsTotal: topics.length,
      envelopesDone: report.published + report.alreadyPresent + report.refused.length,
      envelopesTotal,
      published: report.published,
      alreadyPresent: report.alreadyPresent,
      refused: report.refused.length,
    });
  const refuse = (envelope: Envelope, error: ApiError) =>
    report.refused.push({
      topic: envelope.contentTopic,
      timestampNs: envelope.timestampNs,
      digest: envelopeDigestHex(envelope),
      reason: error.serverMessage,
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
      ...(error.code !== undefined ? { grpcCode: error.code } : {}),
    });

  const importTopic = async (topic: string, envelopes: Envelope[]) => {
    const present = new Set<string>();
    for await (const page of queryPages(client.api, { contentTopic: topic, direction: "ascending", pageSize: 100 }, { prefetch: true })) {
      for (const envelope of page) present.add(envelopeDigestHex(envelope));
    }
    const missing: Envelope[] = [];
    for (const envelope of envelopes) {
      const digest = envelopeDigestHex(envelope);
      if (present.has(digest)) {
        report.alreadyPresent += 1;
        continue;
      }
      present.add(digest); // the same bytes twice in an archive are one envelope
      missing.push({ contentTopic: envelope.contentTopic, timestampNs: envelope.timestampNs, message: envelope.message });
    }
    progress();
    for (const batch of batchesOf(missing, size)) {
      try {
        await client.api.publish(batch);
        report.published += batch.length;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        // One refused envelope refuses its whole request (docs/protocol/api.md §2.2): find which, one by one.
        if (batch.length === 1) refuse(batch[0], error);
        else {
          for (const envelope of batch) {
            try {
              await client.api.publish([envelope]);
              report.published += 1;
            } catch (single) {
              if (!isRefusal(single)) throw single;
              refuse(envelope, single);
            }
          }
        }
      }
      progress();
    }
    topicsDone += 1;
    progress();
  };

  let next = 0;
  const worker = async () => {
    while (next < topics.length) {
      const { topic, envelopes } = topics[next++];
      await importTopic(topic, envelopes);
    }
  };
  progress();
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, topics.length)) }, worker));
  return report;
}
