// A read-only MessageApi over an archive's envelopes, so the client's own code (key loading, conversation listing,
// message decoding, consent) reads an archive offline exactly as it reads a node (docs/protocol/paging.md §1).
import { equalBytes, fromHex } from "@xmtp-ts/crypto";
import { envelopeDigestHex } from "../api/digests.js";
import { MAX_PAGE_SIZE } from "../api/json.js";
import { queryPages } from "../api/paging.js";
import type { Envelope, MessageApi, QueryPage, QueryParams, Subscription } from "../api/types.js";
import { ArchiveError } from "./ArchiveError.js";
import type { ArchivedTopic } from "./format.js";

interface Stored {
  envelope: Envelope;
  digest: Uint8Array;
}

export class ArchiveMessageApi implements MessageApi {
  private readonly byTopic = new Map<string, Stored[]>();

  constructor(topics: ArchivedTopic[]) {
    for (const { topic, envelopes } of topics) {
      const list = this.byTopic.get(topic) ?? [];
      for (const envelope of envelopes) list.push({ envelope, digest: fromHex(envelopeDigestHex(envelope)) });
      this.byTopic.set(topic, list);
    }
  }

  async publish(): Promise<void> {
    throw new ArchiveError("archive_read_only", "an archive opened offline is read-only: nothing can be published to it");
  }

  async query(params: QueryParams): Promise<QueryPage> {
    const inRange = (this.byTopic.get(params.contentTopic) ?? []).filter(
      ({ envelope }) =>
        (!params.startTimeNs || envelope.timestampNs >= params.startTimeNs) && (!params.endTimeNs || envelope.timestampNs <= params.endTimeNs),
    );
    // Stored in the node's ascending order; no direction means descending, as on a node (docs/protocol/api.md §2.3).
    const ordered = params.direction === "ascending" || params.direction === undefined ? inRange : [...inRange].reverse();
    let start = 0;
    if (params.cursor) {
      const at = ordered.findIndex((s) => equalBytes(s.digest, params.cursor!.digest) && s.envelope.timestampNs === params.cursor!.senderTimeNs);
      start = at + 1;
    }
    const size = Math.min(params.pageSize || MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const page = ordered.slice(start, start + size);
    const last = page.at(-1);
    const full = page.length === size && start + size < ordered.length;
    return {
      envelopes: page.map((s) => ({ ...s.envelope })),
      ...(full && last ? { cursor: { digest: last.digest, senderTimeNs: last.envelope.timestampNs } } : {}),
    };
  }

  async queryAll(params: QueryParams & { limit?: number }): Promise<Envelope[]> {
    const out: Envelope[] = [];
    for await (const page of queryPages(this, params, { limit: params.limit })) out.push(...page);
    return out;
  }

  async batchQuery(queries: QueryParams[]): Promise<Envelope[][]> {
    return Promise.all(queries.map(async (q) => (await this.query(q)).envelopes));
  }

  subscribe(): Subscription {
    throw new ArchiveError("archive_read_only", "an archive opened offline has no live streams");
  }
}
