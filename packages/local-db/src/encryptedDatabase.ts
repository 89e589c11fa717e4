// A LocalDatabase over any RecordStore: checks arguments (before anything is read or written, so a bad write fails
// its whole batch with nothing applied), seals and opens records, and refuses calls once closed.
import { LocalDatabaseClosedError } from "./errors.js";
import type { ListOptions, LocalDatabase, LocalRecord, LocalWrite } from "./localDatabase.js";
import { checkOrder, orderRange } from "./order.js";
import type { RecordStore } from "./recordStore.js";
import type { CheckedWrite, RecordSealer } from "./sealing.js";

export class EncryptedLocalDatabase implements LocalDatabase {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly store: RecordStore,
    private readonly sealer: RecordSealer,
  ) {}

  get location(): string {
    return this.store.location;
  }

  get resetReason(): string | undefined {
    return this.store.resetReason;
  }

  async get(collection: string, key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkName("collection", collection);
    checkName("key", key);
    const [blindCollection, [blindKey]] = await Promise.all([
      this.sealer.blindCollection(collection),
      this.sealer.blindKeys([{ collection, key }]),
    ]);
    this.checkOpen();
    const row = await this.store.getRow(blindCollection, blindKey);
    return row && this.sealer.openValue(collection, key, blindCollection, blindKey, row);
  }

  async list(collection: string, options: ListOptions = {}): Promise<LocalRecord[]> {
    this.checkOpen();
    checkName("collection", collection);
    const range = orderRange(options.from, options.to);
    const limit = options.limit;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new RangeError(`list option limit must be a non-negative integer (got ${limit})`);
    }
    if (!range || limit === 0) return [];
    const blindCollection = await this.sealer.blindCollection(collection);
    this.checkOpen();
    const rows = await this.store.listRows(blindCollection, { ...range, limit, descending: options.descending === true });
    return this.sealer.openRecords(collection, blindCollection, rows);
  }

  async write(writes: LocalWrite[]): Promise<void> {
    this.checkOpen();
    if (!Array.isArray(writes)) throw new TypeError("write() takes an array of writes");
    const checked = writes.map(checkWrite);
    if (checked.length === 0) return;
    const stored = await this.sealer.storedWrites(checked);
    this.checkOpen();
    await this.store.applyWrites(stored);
  }

  close(): Promise<void> {
    this.closing ??= this.store.close();
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing) throw new LocalDatabaseClosedError(this.location);
  }
}

function checkWrite(write: LocalWrite, index: number): CheckedWrite {
  if (typeof write !== "object" || write === null) throw new TypeError(`write ${index} is not an object`);
  checkName("collection", write.collection);
  switch (write.type) {
    case "put":
      checkName("key", write.key);
      if (!(write.value instanceof Uint8Array)) {
        throw new TypeError(`write ${index} (put): value must be a Uint8Array`);
      }
      return { type: "put", collection: write.collection, key: write.key, value: write.value, order: checkOrder(write.order) };
    case "delete":
      checkName("key", write.key);
      return { type: "delete", collection: write.collection, key: write.key };
    case "deleteCollection":
      return { type: "deleteCollection", collection: write.collection };
    default:
      throw new TypeError(`write ${index} has an unknown type ${JSON.stringify((write as { type?: unknown }).type)}`);
  }
}

/** A lone UTF-16 surrogate: UTF-8 would turn it into U+FFFD, so two different names would share a record. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkName(what: "collection" | "key", name: unknown): asserts name is string {
  if (typeof name !== "string") throw new TypeError(`a record's ${what} must be a string (got ${typeof name})`);
  if (what === "collection" && name.length === 0) throw new TypeError("a collection name must not be empty");
  if (LONE_SURROGATE.test(name)) throw new TypeError(`a record's ${what} must be well-formed Unicode (it has a lone surrogate)`);
}
