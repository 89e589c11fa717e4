// The conformance harness for IndexedDB (runs in the browser page of test/browser/): databases with unique names,
// tampered with through raw IndexedDB connections.
import { CURRENT_FORMAT } from "../format.js";
import { INDEXED_DB_LAYOUT as L, type IndexedDbRecordRow } from "../indexedDbDriver.js";
import { openIndexedDbDatabaseInFormat } from "../openInFormat.js";
import { orderFromBytes, orderToBytes } from "../order.js";
import type { ConformanceHarness, RawRow } from "./harness.js";

const META_NAMES = { format: L.metaFormat, writer: L.metaWriter, "migration marker": "migrationMarker" } as const;

/** A raw connection: at the current version, or at `version` running `upgrade` when that is newer. */
function openRaw(name: string, version?: number, upgrade?: (connection: IDBDatabase, transaction: IDBTransaction) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result, request.transaction!);
    request.onsuccess = () => {
      request.result.onversionchange = () => request.result.close();
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error(`opening ${name} at version ${version} is blocked by an open connection`));
  });
}

/** Runs `body` in one transaction of a raw connection and resolves with its result once the transaction completed. */
async function inTransaction<T>(name: string, stores: string[], mode: IDBTransactionMode, body: (transaction: IDBTransaction) => Promise<T> | T): Promise<T> {
  const connection = await openRaw(name);
  try {
    const transaction = connection.transaction(stores, mode);
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await body(transaction);
    await done;
    return result;
  } finally {
    connection.close();
  }
}

function result<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;
const equal = (a: ArrayBuffer, b: Uint8Array) => a.byteLength === b.length && new Uint8Array(a).every((byte, i) => byte === b[i]);

export function createIndexedDbHarness(): ConformanceHarness {
  const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let count = 0;

  return {
    driver: "indexeddb",
    newLocation: () => `conformance-${run}-${++count}`,
    open: (location, key, format = CURRENT_FORMAT) => openIndexedDbDatabaseInFormat({ path: location, key }, format),

    async rawRows(location) {
      const rows = await inTransaction(location, [L.records], "readonly", (transaction) =>
        result(transaction.objectStore(L.records).getAll() as IDBRequest<IndexedDbRecordRow[]>),
      );
      return rows
        .sort((a, b) => a.s - b.s)
        .map(
          (row): RawRow => ({
            blindCollection: new Uint8Array(row.c),
            blindKey: new Uint8Array(row.k),
            order: orderFromBytes(new Uint8Array(row.o)),
            sealed: new Uint8Array(row.v),
          }),
        );
    },
    async rawReplaceRow(location, before, after) {
      await inTransaction(location, [L.records], "readwrite", async (transaction) => {
        const records = transaction.objectStore(L.records);
        const rows = await result(records.getAll() as IDBRequest<IndexedDbRecordRow[]>);
        const row = rows.find((candidate) => equal(candidate.k, before.blindKey));
        if (!row) throw new Error(`no row to replace in ${location}`);
        records.delete([row.c, row.k]);
        const replaced: IndexedDbRecordRow = {
          c: buffer(after.blindCollection),
          k: buffer(after.blindKey),
          o: buffer(orderToBytes(after.order)),
          s: row.s,
          v: buffer(after.sealed),
        };
        records.put(replaced);
      });
    },
    async rawBytes(location) {
      const parts: Uint8Array[] = [];
      const encoder = new TextEncoder();
      const add = (value: unknown) => {
        if (value instanceof ArrayBuffer) parts.push(new Uint8Array(value));
        else if (typeof value === "object" && value !== null) Object.values(value).forEach(add);
        else parts.push(encoder.encode(String(value)));
      };
      await inTransaction(location, [L.records, L.meta], "readonly", async (transaction) => {
        for (const store of [L.records, L.meta]) {
          const objectStore = transaction.objectStore(store);
          add(await result(objectStore.getAllKeys()));
          add(await result(objectStore.getAll()));
        }
      });
      const joined = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        joined.set(part, offset);
        offset += part.length;
      }
      return joined;
    },
    async readMetaEntry(location, name) {
      return inTransaction(location, [L.meta], "readonly", (transaction) => result(transaction.objectStore(L.meta).get(META_NAMES[name])));
    },
    async setStoredFormat(location, format) {
      const current = await openRaw(location);
      const version = current.version;
      current.close();
      if (format > version) {
        // As a newer version of the package would: a version change, and the metadata it writes.
        const upgraded = await openRaw(location, format, (_connection, transaction) => transaction.objectStore(L.meta).put(format, L.metaFormat));
        upgraded.close();
      } else {
        await inTransaction(location, [L.meta], "readwrite", (transaction) => void transaction.objectStore(L.meta).put(format, L.metaFormat));
      }
    },
    async makeUnknownOldStore(location) {
      const connection = await openRaw(location, 1, (created) => {
        created.createObjectStore("messages", { autoIncrement: true }).put({ topic: "/xmtp/0/m-abc/proto", content: "a pre-release message in clear" });
      });
      connection.close();
    },
    async makeNonDatabase(location) {
      // Our stores, but metadata that no version of this package writes.
      const connection = await openRaw(location, 1, (created) => {
        created.createObjectStore(L.records, { keyPath: ["c", "k"] }).createIndex(L.byOrder, ["c", "o", "s"]);
        const meta = created.createObjectStore(L.meta);
        meta.put("not a format number", L.metaFormat);
        meta.put(new ArrayBuffer(3), L.metaKeyCheck);
      });
      connection.close();
    },
  };
}
