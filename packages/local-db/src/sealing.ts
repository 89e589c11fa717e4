// How records are sealed. Collection names and record keys never reach the store in clear: rows are found by blind
// indexes (HMAC-SHA256 with the index key), and the real key travels inside the ciphertext so list() can return
// it. A value is sealed with AES-256-GCM, its additional data binding it to its place: the blind collection, the
// blind key and the order. A row moved to another collection or key, or given another order, fails to open and is
// reported as corrupt; nothing that failed authentication is ever returned.
//
//   blind collection = HMAC(indexKey, 0x01 ‖ utf8(collection))
//   blind key        = HMAC(indexKey, 0x02 ‖ u32be(len(utf8(collection))) ‖ utf8(collection) ‖ utf8(key))
//   aad              = blind collection ‖ blind key ‖ order as 8 sign-flipped big-endian bytes (additionalData.ts)
//   plaintext        = u32be(len(utf8(key))) ‖ utf8(key) ‖ value
//   sealed           = nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes)
//
// Changing any of this changes the format (format.ts): old stores then need a migration.
import { LocalDatabaseCorruptError } from "./errors.js";
import type { LocalRecord } from "./localDatabase.js";
import type { RecordCrypto } from "./recordCrypto.js";
import type { StoredRow, StoredWrite } from "./recordStore.js";

const COLLECTION_DOMAIN = 0x01;
const RECORD_KEY_DOMAIN = 0x02;
const KEY_LENGTH_BYTES = 4;
/** Collections are few; the cache only bounds memory against a caller inventing names without end. */
const BLIND_COLLECTION_CACHE_LIMIT = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A write whose collection, key, value and order were checked (encryptedDatabase.ts). */
export type CheckedWrite =
  | { type: "put"; collection: string; key: string; value: Uint8Array; order: bigint }
  | { type: "delete"; collection: string; key: string }
  | { type: "deleteCollection"; collection: string };

export class RecordSealer {
  private readonly blindCollections = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly crypto: RecordCrypto,
    private readonly location: string,
  ) {}

  blindCollection(collection: string): Promise<Uint8Array> {
    let blind = this.blindCollections.get(collection);
    if (!blind) {
      const utf8 = encoder.encode(collection);
      const message = new Uint8Array(1 + utf8.length);
      message[0] = COLLECTION_DOMAIN;
      message.set(utf8, 1);
      blind = this.crypto.blind([message]).then(([mac]) => mac);
      if (this.blindCollections.size >= BLIND_COLLECTION_CACHE_LIMIT) this.blindCollections.clear();
      this.blindCollections.set(collection, blind);
      blind.catch(() => this.blindCollections.delete(collection));
    }
    return blind;
  }

  async blindKeys(places: ReadonlyArray<{ collection: string; key: string }>): Promise<Uint8Array[]> {
    return this.crypto.blind(places.map(({ collection, key }) => recordKeyMessage(collection, key)));
  }

  /** The rows a batch of writes makes, in the same order. */
  async storedWrites(writes: readonly CheckedWrite[]): Promise<StoredWrite[]> {
    const blindCollections = await Promise.all(writes.map((write) => this.blindCollection(write.collection)));
    const keyed = writes.flatMap((write, index) => (write.type === "deleteCollection" ? [] : [{ write, index }]));
    const blindKeys = await this.blindKeys(keyed.map(({ write }) => write as Exclude<CheckedWrite, { type: "deleteCollection" }>));
    const blindKeyOf = new Map(keyed.map(({ index }, i) => [index, blindKeys[i]]));
    const puts = writes.flatMap((write, index) => (write.type === "put" ? [{ write, index }] : []));
    const sealed = await this.crypto.seal(
      puts.map(({ write, index }) => ({
        plaintext: [keyHeader(write.key), write.value],
        place: { blindCollection: blindCollections[index], blindKey: blindKeyOf.get(index)!, order: write.order },
      })),
    );
    const sealedOf = new Map(puts.map(({ index }, i) => [index, sealed[i]]));
    return writes.map((write, index): StoredWrite => {
      const blindCollection = blindCollections[index];
      switch (write.type) {
        case "put":
          return { type: "put", blindCollection, blindKey: blindKeyOf.get(index)!, order: write.order, sealed: sealedOf.get(index)! };
        case "delete":
          return { type: "delete", blindCollection, blindKey: blindKeyOf.get(index)! };
        case "deleteCollection":
          return { type: "deleteCollection", blindCollection };
      }
    });
  }

  /** The value of the row found for (collection, key). */
  async openValue(
    collection: string,
    key: string,
    blindCollection: Uint8Array,
    blindKey: Uint8Array,
    row: Omit<StoredRow, "blindKey">,
  ): Promise<Uint8Array> {
    const [plaintext] = await this.crypto.open([{ sealed: row.sealed, place: { blindCollection, blindKey, order: row.order } }]);
    if (!plaintext) throw this.failedAuthentication(collection);
    const opened = this.splitPlaintext(plaintext, collection);
    // Implied by the tag (the additional data holds the blind key); checked anyway, as it costs nothing.
    if (opened.key !== key) throw new LocalDatabaseCorruptError(this.location, `a record of collection "${collection}" holds another key`);
    return opened.value;
  }

  /** The records of a collection's rows, in the rows' order. */
  async openRecords(collection: string, blindCollection: Uint8Array, rows: readonly StoredRow[]): Promise<LocalRecord[]> {
    const plaintexts = await this.crypto.open(
      rows.map((row) => ({ sealed: row.sealed, place: { blindCollection, blindKey: row.blindKey, order: row.order } })),
    );
    return plaintexts.map((plaintext, i) => {
      if (!plaintext) throw this.failedAuthentication(collection);
      const { key, value } = this.splitPlaintext(plaintext, collection);
      return { collection, key, value, order: rows[i].order };
    });
  }

  private splitPlaintext(plaintext: Uint8Array, collection: string): { key: string; value: Uint8Array } {
    const keyLength = ((plaintext[0] << 24) | (plaintext[1] << 16) | (plaintext[2] << 8) | plaintext[3]) >>> 0;
    const keyEnd = plaintext.length >= KEY_LENGTH_BYTES ? KEY_LENGTH_BYTES + keyLength : Infinity;
    if (keyEnd > plaintext.length) {
      throw new LocalDatabaseCorruptError(this.location, `a record of collection "${collection}" is malformed`);
    }
    let key: string;
    try {
      key = decoder.decode(plaintext.subarray(KEY_LENGTH_BYTES, keyEnd));
    } catch (error) {
      throw new LocalDatabaseCorruptError(this.location, `a record of collection "${collection}" is malformed`, { cause: error });
    }
    return { key, value: plaintext.subarray(keyEnd) };
  }

  private failedAuthentication(collection: string): LocalDatabaseCorruptError {
    return new LocalDatabaseCorruptError(
      this.location,
      `a record of collection "${collection}" fails authentication: altered, or moved to another collection, key or order`,
    );
  }
}

function recordKeyMessage(collection: string, key: string): Uint8Array {
  const collectionUtf8 = encoder.encode(collection);
  const keyUtf8 = encoder.encode(key);
  const message = new Uint8Array(1 + 4 + collectionUtf8.length + keyUtf8.length);
  message[0] = RECORD_KEY_DOMAIN;
  new DataView(message.buffer).setUint32(1, collectionUtf8.length);
  message.set(collectionUtf8, 5);
  message.set(keyUtf8, 5 + collectionUtf8.length);
  return message;
}

function keyHeader(key: string): Uint8Array {
  const keyUtf8 = encoder.encode(key);
  const header = new Uint8Array(KEY_LENGTH_BYTES + keyUtf8.length);
  new DataView(header.buffer).setUint32(0, keyUtf8.length);
  header.set(keyUtf8, KEY_LENGTH_BYTES);
  return header;
}

