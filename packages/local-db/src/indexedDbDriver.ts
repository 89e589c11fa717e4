// The browser driver: one IndexedDB database per store.
//
// Layout (format 1; the IndexedDB version is the format number):
//   records  key path [c, k]; values { c: blind collection, k: blind key, o: order as 8 sortable bytes,
//            s: insertion sequence, v: sealed value }, all bytes as ArrayBuffers. Index byOrder on [c, o, s] lists a
//            collection by order, ties by insertion; deleteCollection is one key-range delete on [c].
//   meta     out-of-line keys: format, writer, keyCheck (cleartext), nextSeq (the next insertion sequence).
//
// Every operation is one IndexedDB transaction, atomic by the specification, and all crypto happens before the
// transaction starts or after it ends: a transaction commits by itself once nothing is pending on it, so it cannot
// wait for WebCrypto. Other connections (other tabs, or two LocalDatabases in one page) see each write once it
// completes; transactions on the same stores run one after another. A connection closes itself when another one
// needs a version change (a newer format, or a reset), and then reports LocalDatabaseClosedError.
import { LocalDatabaseClosedError, LocalDatabaseCorruptError, LocalDatabaseError, LocalDatabaseKeyError, LocalDatabaseVersionError } from "./errors.js";
import { CURRENT_FORMAT, parseStoredFormat, planOpen, unknownShapeReason, writerOf, type LocalDbFormat, type StoredShape } from "./format.js";
import { fromIndexedDbError } from "./indexedDbErrors.js";
import { keyCheckMatches } from "./keys.js";
import { orderFromBytes, orderToBytes } from "./order.js";
import type { RecordStore, RowQuery, StoredRow, StoredWrite } from "./recordStore.js";

/** Names of the object stores, index and metadata entries (the test harness tampers with them directly). */
export const INDEXED_DB_LAYOUT = {
  records: "records",
  byOrder: "byOrder",
  meta: "meta",
  metaFormat: "format",
  metaWriter: "writer",
  metaKeyCheck: "keyCheck",
  metaNextSeq: "nextSeq",
} as const;
const L = INDEXED_DB_LAYOUT;

export const INDEXED_DB_LOCATION_PREFIX = "indexeddb:";

/** A record as IndexedDB stores it. */
export interface IndexedDbRecordRow {
  c: ArrayBuffer;
  k: ArrayBuffer;
  o: ArrayBuffer;
  s: number;
  v: ArrayBuffer;
}

interface OpenedConnection {
  connection: IDBDatabase;
  resetReason?: string;
}

export async function openIndexedDbRecordStore(
  name: string,
  keyCheck: Uint8Array,
  format: LocalDbFormat = CURRENT_FORMAT,
): Promise<RecordStore> {
  const location = INDEXED_DB_LOCATION_PREFIX + name;
  const factory = globalThis.indexedDB;
  if (!factory) throw new LocalDatabaseError(`${location}: IndexedDB is not available in this environment`, location);
  let opened = await openConnection(factory, name, location, keyCheck, format);
  const resetReason = await checkOpenedStore(opened.connection, location, keyCheck, format).catch((error: unknown) => {
    opened.connection.close();
    throw error;
  });
  if (resetReason !== undefined) {
    // The version is already current, so no version change can rebuild it: delete the database and create it anew.
    opened.connection.close();
    await deleteDatabase(factory, name, location);
    opened = await openConnection(factory, name, location, keyCheck, format);
    opened.resetReason = resetReason;
  }
  return new IndexedDbRecordStore(opened.connection, location, opened.resetReason);
}

/**
 * Opens at the format's version. A new database gets its stores; an older version is migrated or reset inside the
 * version-change transaction, after its key check (a wrong key aborts it, leaving the database as it was).
 */
function openConnection(
  factory: IDBFactory,
  name: string,
  location: string,
  keyCheck: Uint8Array,
  format: LocalDbFormat,
): Promise<OpenedConnection> {
  return new Promise((resolve, reject) => {
    let resetReason: string | undefined;
    let upgradeError: unknown;
    const request = factory.open(name, format.version);
    request.onupgradeneeded = (event) => {
      const connection = request.result;
      const transaction = request.transaction!;
      if (event.oldVersion === 0) {
        createStores(connection, keyCheck, format);
        return;
      }
      const fail = (error: unknown) => {
        upgradeError = error;
        transaction.abort();
      };
      if (!connection.objectStoreNames.contains(L.meta)) {
        resetReason = resetStores(connection, keyCheck, format, unknownShapeReason(`object stores ${storeNames(connection)}, no meta store`));
        return;
      }
      const meta = transaction.objectStore(L.meta);
      const formatRequest = meta.get(L.metaFormat);
      const keyCheckRequest = meta.get(L.metaKeyCheck);
      keyCheckRequest.onsuccess = () => {
        try {
          const shape = metaShape(formatRequest.result, location);
          const plan = planOpen(shape, format);
          switch (plan.kind) {
            case "newer":
              throw new LocalDatabaseVersionError(location, plan.format, format.version);
            case "use":
            case "create":
              throw new LocalDatabaseCorruptError(location, `its version is ${event.oldVersion} but its metadata says otherwise`);
            case "migrate":
              verifyKey(keyCheckRequest.result, keyCheck, location);
              for (const step of plan.steps) step.indexedDb(transaction);
              meta.put(format.version, L.metaFormat);
              meta.put(writerOf(format), L.metaWriter);
              return;
            case "reset":
              resetReason = resetStores(connection, keyCheck, format, plan.reason);
              return;
          }
        } catch (error) {
          fail(error);
        }
      };
    };
    request.onsuccess = () => {
      const connection = request.result;
      resolve({ connection, resetReason });
    };
    request.onerror = () => {
      if (upgradeError !== undefined) return reject(upgradeError);
      if (request.error?.name === "VersionError") {
        return void storedVersion(factory, name).then((version) =>
          reject(new LocalDatabaseVersionError(location, version ?? format.version + 1, format.version)),
        );
      }
      reject(fromIndexedDbError(request.error, location));
    };
  });
}

function createStores(connection: IDBDatabase, keyCheck: Uint8Array, format: LocalDbFormat): void {
  const records = connection.createObjectStore(L.records, { keyPath: ["c", "k"] });
  records.createIndex(L.byOrder, ["c", "o", "s"]);
  const meta = connection.createObjectStore(L.meta);
  meta.put(format.version, L.metaFormat);
  meta.put(writerOf(format), L.metaWriter);
  meta.put(exactBuffer(keyCheck), L.metaKeyCheck);
  meta.put(0, L.metaNextSeq);
}

/** Deletes every object store and creates ours; returns `reason`. */
function resetStores(
  connection: IDBDatabase,
  keyCheck: Uint8Array,
  format: LocalDbFormat,
  reason: string,
): string {
  for (const store of Array.from(connection.objectStoreNames)) connection.deleteObjectStore(store);
  createStores(connection, keyCheck, format);
  return reason;
}

function storeNames(connection: IDBDatabase): string {
  return Array.from(connection.objectStoreNames).join(", ") || "none";
}

function metaShape(storedFormat: unknown, location: string): StoredShape {
  if (storedFormat === undefined) return { kind: "unknown", description: "a meta store without a format" };
  const format = parseStoredFormat(storedFormat);
  if (format === undefined) throw new LocalDatabaseCorruptError(location, `its format number is not a number (${String(storedFormat)})`);
  return { kind: "versioned", format };
}

function verifyKey(stored: unknown, keyCheck: Uint8Array, location: string): void {
  if (!(stored instanceof ArrayBuffer) || stored.byteLength !== keyCheck.length) {
    throw new LocalDatabaseCorruptError(location, "its key-check value is missing or malformed");
  }
  if (!keyCheckMatches(new Uint8Array(stored), keyCheck)) throw new LocalDatabaseKeyError(location);
}

/**
 * Checks a database opened at the current version: its stores, format and key. Returns why it must be reset when it
 * is not a store of the current format (an unknown shape, or metadata naming an older format), else undefined.
 */
async function checkOpenedStore(
  connection: IDBDatabase,
  location: string,
  keyCheck: Uint8Array,
  format: LocalDbFormat,
): Promise<string | undefined> {
  const names = connection.objectStoreNames;
  if (!names.contains(L.records) || !names.contains(L.meta)) return unknownShapeReason(`object stores ${storeNames(connection)}`);
  const transaction = connection.transaction([L.records, L.meta], "readonly");
  if (!transaction.objectStore(L.records).indexNames.contains(L.byOrder)) return unknownShapeReason("a records store without its index");
  const meta = transaction.objectStore(L.meta);
  const [storedFormat, storedKeyCheck] = await Promise.all([
    requestResult(meta.get(L.metaFormat), location),
    requestResult(meta.get(L.metaKeyCheck), location),
  ]);
  const plan = planOpen(metaShape(storedFormat, location), format);
  switch (plan.kind) {
    case "newer":
      throw new LocalDatabaseVersionError(location, plan.format, format.version);
    case "use":
      verifyKey(storedKeyCheck, keyCheck, location);
      return undefined;
    case "reset":
      return plan.reason;
    case "create":
    case "migrate":
      // Metadata of an older format under the current version: no version change is coming to migrate it.
      return `the store's metadata names format ${String(storedFormat)} under version ${format.version}; it was emptied`;
  }
}

function deleteDatabase(factory: IDBFactory, name: string, location: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Blocked while another connection stays open: ours close themselves on versionchange, so this only waits.
    const request = factory.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(fromIndexedDbError(request.error, location));
  });
}

async function storedVersion(factory: IDBFactory, name: string): Promise<number | undefined> {
  try {
    return (await factory.databases()).find((database) => database.name === name)?.version;
  } catch {
    return undefined;
  }
}

class IndexedDbRecordStore implements RecordStore {
  private closedBecause: string | undefined;

  constructor(
    private readonly connection: IDBDatabase,
    readonly location: string,
    readonly resetReason: string | undefined,
  ) {
    connection.onversionchange = () => {
      connection.close();
      this.closedBecause ??= "another connection is upgrading or deleting the database";
    };
    connection.onclose = () => {
      this.closedBecause ??= "the browser closed it (was the site's storage cleared?)";
    };
  }

  async getRow(blindCollection: Uint8Array, blindKey: Uint8Array): Promise<Omit<StoredRow, "blindKey"> | undefined> {
    const records = this.transaction([L.records], "readonly").objectStore(L.records);
    const row: unknown = await requestResult(records.get([exactBuffer(blindCollection), exactBuffer(blindKey)]), this.location);
    if (row === undefined) return undefined;
    const { order, sealed } = this.checkedRow(row);
    return { order, sealed };
  }

  async listRows(blindCollection: Uint8Array, query: RowQuery): Promise<StoredRow[]> {
    const collection = exactBuffer(blindCollection);
    const range = IDBKeyRange.bound([collection, exactBuffer(orderToBytes(query.from))], [collection, exactBuffer(orderToBytes(query.to)), Infinity]);
    const index = this.transaction([L.records], "readonly").objectStore(L.records).index(L.byOrder);
    let rows: unknown[];
    if (!query.descending) {
      rows = await requestResult(index.getAll(range, query.limit), this.location);
    } else if (query.limit === undefined) {
      rows = (await requestResult(index.getAll(range), this.location)).reverse();
    } else {
      rows = await this.collectBackwards(index, range, query.limit);
    }
    return rows.map((row) => this.checkedRow(row));
  }

  /** The last `limit` rows of a range, last first, through a cursor (getAll reads forwards only). */
  private collectBackwards(index: IDBIndex, range: IDBKeyRange, limit: number): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const rows: unknown[] = [];
      const request = index.openCursor(range, "prev");
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return resolve(rows);
        rows.push(cursor.value);
        if (rows.length === limit) return resolve(rows);
        cursor.continue();
      };
      request.onerror = () => reject(fromIndexedDbError(request.error, this.location));
    });
  }

  async applyWrites(writes: readonly StoredWrite[]): Promise<void> {
    const transaction = this.transaction([L.records, L.meta], "readwrite");
    return new Promise<void>((resolve, reject) => {
      let failure: unknown;
      transaction.oncomplete = () => resolve();
      transaction.onabort = () => reject(failure ?? fromIndexedDbError(transaction.error, this.location));
      const records = transaction.objectStore(L.records);
      const meta = transaction.objectStore(L.meta);
      const nextSeqRequest = meta.get(L.metaNextSeq);
      nextSeqRequest.onsuccess = () => {
        let seq = nextSeqRequest.result as unknown;
        if (typeof seq !== "number" || !Number.isSafeInteger(seq)) {
          failure = new LocalDatabaseCorruptError(this.location, "its insertion counter is malformed");
          return transaction.abort();
        }
        try {
          for (const write of writes) {
            this.issueWrite(records, write, seq);
            if (write.type === "put") seq++;
          }
          meta.put(seq, L.metaNextSeq);
        } catch (error) {
          failure = fromIndexedDbError(error, this.location);
          transaction.abort();
        }
      };
    });
  }

  /** One write's request; `seq` is its insertion sequence if it is a put. */
  private issueWrite(records: IDBObjectStore, write: StoredWrite, seq: number): void {
    const collection = exactBuffer(write.blindCollection);
    switch (write.type) {
      case "put": {
        const row: IndexedDbRecordRow = {
          c: collection,
          k: exactBuffer(write.blindKey),
          o: exactBuffer(orderToBytes(write.order)),
          s: seq,
          v: exactBuffer(write.sealed),
        };
        records.put(row);
        break;
      }
      case "delete":
        records.delete([collection, exactBuffer(write.blindKey)]);
        break;
      case "deleteCollection":
        // Every [c, k] with a binary k: arrays sort after binary keys, so [c, []] is past them all.
        records.delete(IDBKeyRange.bound([collection], [collection, []], false, true));
        break;
    }
  }

  async close(): Promise<void> {
    this.closedBecause ??= "close() was called";
    this.connection.close();
  }

  private transaction(stores: string[], mode: IDBTransactionMode): IDBTransaction {
    if (this.closedBecause !== undefined) throw new LocalDatabaseClosedError(this.location, this.closedBecause);
    try {
      // A cache of the network: "relaxed" commits without waiting for the disk flush, atomically all the same.
      return this.connection.transaction(stores, mode, { durability: "relaxed" });
    } catch (error) {
      throw fromIndexedDbError(error, this.location);
    }
  }

  private checkedRow(row: unknown): StoredRow {
    const { k, o, v } = (typeof row === "object" && row !== null ? row : {}) as Partial<IndexedDbRecordRow>;
    if (!(k instanceof ArrayBuffer) || !(o instanceof ArrayBuffer) || o.byteLength !== 8 || !(v instanceof ArrayBuffer)) {
      throw new LocalDatabaseCorruptError(this.location, "a record row is malformed");
    }
    return { blindKey: new Uint8Array(k), order: orderFromBytes(new Uint8Array(o)), sealed: new Uint8Array(v) };
  }
}

function requestResult<T>(request: IDBRequest<T>, location: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(fromIndexedDbError(request.error, location));
  });
}

/** The bytes as an ArrayBuffer of exactly their length (a stored view would keep its whole underlying buffer). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}
