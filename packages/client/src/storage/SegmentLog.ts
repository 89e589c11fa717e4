// A growing set of items kept as segments of one collection: every sync appends one segment (one record), so a warm
// start decrypts a few large records instead of thousands of small ones. Past MAX_SEGMENTS the log is rewritten as
// one segment, deleting exactly the segments it merged, so a segment another client appended meanwhile survives.
import type { LocalDatabase, LocalWrite } from "@xmtp-ts/local-db";
import { randomBytes, toHex } from "@xmtp-ts/crypto";
import { decodeRecord, encodeRecord } from "./recordCodec.js";

/** Segments a warm start may have to read before the log is compacted. */
export const MAX_SEGMENTS = 32;

export interface Segment<T> {
  items: T[];
  /** Envelope digests processed by the sync that wrote it, including the ones that gave no item. */
  digests: string[];
}

export class SegmentLog<T> {
  /** Orders segments by write time; the counter keeps one client's segments in order within a millisecond. */
  private counter = 0;
  /** The segments this instance has read or written. */
  private keys: string[] = [];

  constructor(
    private readonly db: LocalDatabase,
    readonly collection: string,
  ) {}

  /** Every segment's items and digests, oldest segment first. */
  async load(): Promise<Segment<T>> {
    const records = await this.db.list(this.collection);
    const items: T[] = [];
    const digests: string[] = [];
    for (const record of records) {
      const segment = decodeRecord<Segment<T>>(record.value);
      items.push(...segment.items);
      digests.push(...segment.digests);
    }
    this.keys = records.map((r) => r.key);
    return { items, digests };
  }

  /**
   * The writes that add `segment`: one new record, or, once there are too many, one record holding `everything`
   * (which includes `segment`) in place of the segments this instance knows.
   */
  writesFor(segment: Segment<T>, everything: () => Segment<T>): LocalWrite[] {
    if (this.keys.length < MAX_SEGMENTS) {
      const write = this.put(segment);
      this.keys.push(write.key);
      return [write];
    }
    const deletes = this.keys.map((key): LocalWrite => ({ type: "delete", collection: this.collection, key }));
    const merged = this.put(everything());
    this.keys = [merged.key];
    return [...deletes, merged];
  }

  private put(segment: Segment<T>): LocalWrite & { type: "put" } {
    const order = BigInt(Date.now()) * 1000n + BigInt(this.counter++ % 1000);
    return { type: "put", collection: this.collection, key: toHex(randomBytes(8)), value: encodeRecord(segment), order };
  }
}
