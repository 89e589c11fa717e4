// The conformance suite: the same scenarios against every driver. Node.js runs them on SQLite
// (test/conformance.sqlite.test.ts); Chromium runs them on IndexedDB (test/conformance.indexedDb.test.ts drives
// test/browser/page.ts). Browser-safe: no Node.js modules, no vitest.
import {
  LocalDatabaseClosedError,
  LocalDatabaseCorruptError,
  LocalDatabaseError,
  LocalDatabaseKeyError,
  LocalDatabaseVersionError,
} from "../errors.js";
import { CURRENT_FORMAT, writerOf, type FormatMigration, type LocalDbFormat } from "../format.js";
import type { LocalDatabase, LocalRecord, LocalWrite } from "../localDatabase.js";
import { MAX_ORDER, MIN_ORDER } from "../order.js";
import { assert, assertEqual, assertRejects } from "./assertions.js";
import type { ConformanceHarness, RawRow } from "./harness.js";

export interface Scenario {
  name: string;
  /** Set when the scenario does not apply to a driver, with the reason. */
  notFor?: Partial<Record<ConformanceHarness["driver"], string>>;
  run(harness: ConformanceHarness): Promise<void>;
}

export const KEY_A = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
export const KEY_B = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const put = (collection: string, key: string, value: Uint8Array | string, order?: bigint): LocalWrite => ({
  type: "put",
  collection,
  key,
  value: typeof value === "string" ? bytes(value) : value,
  ...(order === undefined ? {} : { order }),
});
const record = (collection: string, key: string, value: string, order = 0n): LocalRecord => ({ collection, key, value: bytes(value), order });
const keysOf = (records: LocalRecord[]) => records.map((r) => r.key);

/** A value of `length` bytes that differ from each other, so a misplaced chunk shows. */
function patterned(length: number, seed = 0): Uint8Array {
  const value = new Uint8Array(length);
  for (let i = 0; i < length; i++) value[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return value;
}

/** Opens, runs `body`, and closes even when it throws. */
async function using<T>(harness: ConformanceHarness, location: string, key: Uint8Array, body: (db: LocalDatabase) => Promise<T>, format?: LocalDbFormat): Promise<T> {
  const db = await harness.open(location, key, format);
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** A store at a fresh location holding `writes`, closed. */
async function storeWith(harness: ConformanceHarness, writes: LocalWrite[]): Promise<string> {
  const location = harness.newLocation();
  await using(harness, location, KEY_A, (db) => db.write(writes));
  return location;
}

/** The error opening `location` and reading `collection` gives: corruption may show at open or at the first read. */
async function openAndReadFails(harness: ConformanceHarness, location: string, collection: string, what: string): Promise<LocalDatabaseCorruptError> {
  const error = await assertRejects(
    () => using(harness, location, KEY_A, async (db) => [await db.list(collection), await db.get(collection, "k1")]),
    LocalDatabaseCorruptError,
    what,
  );
  assertAdvisesDeletion(error, location, harness);
  return error;
}

function assertNamesLocation(error: LocalDatabaseError, location: string, harness: ConformanceHarness): void {
  assert(error.location === expectedLocation(location, harness), `the error's location is ${error.location}`);
  assert(error.message.includes(error.location), `the message names the location: ${error.message}`);
}

function assertAdvisesDeletion(error: LocalDatabaseError, location: string, harness: ConformanceHarness): void {
  assertNamesLocation(error, location, harness);
  assert(/delete/.test(error.message) && /rebuilds/.test(error.message), `the message advises deleting it: ${error.message}`);
}

function expectedLocation(location: string, harness: ConformanceHarness): string {
  return harness.driver === "indexeddb" ? `indexeddb:${location}` : location;
}

/** Format 2, made up to exercise the migration mechanism: its step from format 1 leaves a marker in the metadata. */
export const MIGRATION_MARKER = "migrated from format 1";
const markerStep: FormatMigration = {
  from: 1,
  description: "test: leave a marker",
  sqlite(connection) {
    connection.prepare("INSERT INTO meta (name, value) VALUES ('migration_marker', ?)").run(MIGRATION_MARKER);
  },
  indexedDb(transaction) {
    transaction.objectStore("meta").put(MIGRATION_MARKER, "migrationMarker");
  },
};
export const SYNTHETIC_FORMAT_2: LocalDbFormat = { version: 2, migrations: [...CURRENT_FORMAT.migrations, markerStep] };
const FORMAT_2_WITHOUT_STEP: LocalDbFormat = { version: 2, migrations: [] };

export const scenarios: Scenario[] = [
  {
    name: "put, get, overwrite, delete, deleteCollection",
    async run(harness) {
      await using(harness, harness.newLocation(), KEY_A, async (db) => {
        assertEqual(await db.get("conversations", "missing"), undefined, "a missing record");
        const large = patterned(200_000, 1);
        await db.write([
          put("conversations", "topic-1", "first"),
          put("conversations", "", "an empty key"),
          put("conversations", "empty value", new Uint8Array(0)),
          put("Ünïcødé 💬", "ключ 🔑", "unicode names"),
          put("messages", "large", large),
          // A collection whose name extends another's, and the same key in two collections: all independent.
          put("conversations\u0000x", "topic-1", "other collection, same key"),
          put("messages", "topic-1", "same key, other collection"),
        ]);
        assertEqual(await db.get("conversations", "topic-1"), bytes("first"), "get");
        assertEqual(await db.get("conversations", ""), bytes("an empty key"), "an empty key");
        assertEqual(await db.get("conversations", "empty value"), new Uint8Array(0), "an empty value");
        assertEqual(await db.get("Ünïcødé 💬", "ключ 🔑"), bytes("unicode names"), "unicode names");
        assertEqual(await db.get("messages", "large"), large, "a 200 KB value");
        assertEqual(await db.get("conversations\u0000x", "topic-1"), bytes("other collection, same key"), "a collection named by extension");
        assertEqual(await db.get("messages", "topic-1"), bytes("same key, other collection"), "the same key elsewhere");

        await db.write([put("conversations", "topic-1", "second")]);
        assertEqual(await db.get("conversations", "topic-1"), bytes("second"), "an overwrite");
        assertEqual(keysOf(await db.list("conversations")), ["", "empty value", "topic-1"], "an overwrite replaces, not adds");

        await db.write([{ type: "delete", collection: "conversations", key: "topic-1" }, { type: "delete", collection: "conversations", key: "never written" }]);
        assertEqual(await db.get("conversations", "topic-1"), undefined, "deleted");
        assertEqual(await db.get("messages", "topic-1"), bytes("same key, other collection"), "a delete touches its collection only");

        await db.write([{ type: "deleteCollection", collection: "conversations" }]);
        assertEqual(await db.list("conversations"), [], "a deleted collection");
        assertEqual(await db.get("conversations", ""), undefined, "a record of a deleted collection");
        assertEqual(await db.get("conversations\u0000x", "topic-1"), bytes("other collection, same key"), "deleteCollection spares others");
        assertEqual((await db.list("messages")).length, 2, "deleteCollection spares others (list)");

        // A batch applies in order: a put after a delete stays, a delete after a put wins.
        await db.write([
          put("cursors", "a", "1"),
          { type: "delete", collection: "cursors", key: "a" },
          put("cursors", "b", "1"),
          { type: "deleteCollection", collection: "cursors" },
          put("cursors", "c", "3"),
          put("cursors", "c", "4"),
        ]);
        assertEqual(await db.list("cursors"), [record("cursors", "c", "4")], "a batch applies in order");
        await db.write([]);
      });
    },
  },
  {
    name: "list: order, ties by insertion, ranges, limit, descending",
    async run(harness) {
      await using(harness, harness.newLocation(), KEY_A, async (db) => {
        await db.write([
          put("m", "five", "5", 5n),
          put("m", "one", "1", 1n),
          put("m", "tie-a", "3a", 3n),
          put("m", "max", "max", MAX_ORDER),
          put("m", "tie-b", "3b", 3n),
          put("m", "minus-two", "-2", -2n),
          put("m", "min", "min", MIN_ORDER),
          put("m", "zero", "0"),
        ]);
        await db.write([put("m", "tie-c", "3c", 3n), put("other", "x", "other collection", 3n)]);
        const ascending = ["min", "minus-two", "zero", "one", "tie-a", "tie-b", "tie-c", "five", "max"];
        const all = await db.list("m");
        assertEqual(keysOf(all), ascending, "ascending by order, ties by insertion");
        assertEqual(all[0], record("m", "min", "min", MIN_ORDER), "a listed record");
        assertEqual(all[2].order, 0n, "an order not given is 0n");
        assertEqual(keysOf(await db.list("m", { descending: true })), [...ascending].reverse(), "descending is the exact reverse");
        assertEqual(keysOf(await db.list("m", { from: 1n, to: 5n })), ["one", "tie-a", "tie-b", "tie-c", "five"], "bounds are inclusive");
        assertEqual(keysOf(await db.list("m", { from: 3n, to: 3n })), ["tie-a", "tie-b", "tie-c"], "a one-order range");
        assertEqual(keysOf(await db.list("m", { from: 4n })), ["five", "max"], "from only");
        assertEqual(keysOf(await db.list("m", { to: -1n })), ["min", "minus-two"], "to only");
        assertEqual(keysOf(await db.list("m", { limit: 3 })), ["min", "minus-two", "zero"], "limit");
        assertEqual(keysOf(await db.list("m", { limit: 2, descending: true })), ["max", "five"], "limit, descending: the last ones");
        assertEqual(keysOf(await db.list("m", { from: 3n, to: 3n, limit: 2, descending: true })), ["tie-c", "tie-b"], "ties, descending, limit");
        assertEqual(keysOf(await db.list("m", { from: 1n, to: 3n, limit: 2 })), ["one", "tie-a"], "range and limit");
        assertEqual(keysOf(await db.list("m", { limit: 100 })), ascending, "a limit beyond the count");
        assertEqual(await db.list("m", { limit: 0 }), [], "limit 0");
        assertEqual(await db.list("m", { from: 6n, to: 4n }), [], "an empty range");
        assertEqual(keysOf(await db.list("m", { from: -(1n << 100n), to: 1n << 100n })), ascending, "bounds beyond 64 bits are clamped");
        assertEqual(await db.list("m", { from: MAX_ORDER + 1n }), [], "a range above every order");
        assertEqual(await db.list("nothing here"), [], "an empty collection");

        // An overwrite is a new insertion: it moves after the records that share its order.
        await db.write([put("m", "tie-a", "3a again", 3n)]);
        assertEqual(keysOf(await db.list("m", { from: 3n, to: 3n })), ["tie-b", "tie-c", "tie-a"], "an overwrite moves after its ties");
        await db.write([put("m", "tie-b", "now 4", 4n)]);
        assertEqual(keysOf(await db.list("m", { from: 3n, to: 4n })), ["tie-c", "tie-a", "tie-b"], "an overwrite changes the order");
      });
    },
  },
  {
    name: "arguments are checked before anything is written",
    async run(harness) {
      const location = harness.newLocation();
      await assertRejects(() => harness.open(location, new Uint8Array(31)), RangeError, "a 31-byte key");
      await using(harness, location, KEY_A, async (db) => {
        await assertRejects(() => db.write([put("c", "k", "v", 1n << 63n)]), RangeError, "an order beyond 64 bits");
        await assertRejects(() => db.write([put("c", "k", "v", 5 as unknown as bigint)]), TypeError, "a number order");
        await assertRejects(() => db.write([{ type: "put", collection: "c", key: "k", value: "v" as unknown as Uint8Array }]), TypeError, "a string value");
        await assertRejects(() => db.write([put("", "k", "v")]), TypeError, "an empty collection name");
        await assertRejects(() => db.write([put("c", "\uD800", "v")]), TypeError, "a lone surrogate");
        await assertRejects(() => db.write([{ type: "rename" } as unknown as LocalWrite]), TypeError, "an unknown write");
        await assertRejects(() => db.list("c", { limit: -1 }), RangeError, "a negative limit");
        await assertRejects(() => db.get("c", 7 as unknown as string), TypeError, "a number key");
        assertEqual(await db.list("c"), [], "nothing was written");
      });
    },
  },
  {
    name: "atomicity: a failing batch leaves nothing",
    async run(harness) {
      const location = await storeWith(harness, [put("kept", "k1", "before")]);
      await using(harness, location, KEY_A, async (db) => {
        const batch = (last: LocalWrite): LocalWrite[] => [
          put("new", "a", "1"),
          { type: "deleteCollection", collection: "kept" },
          put("new", "b", "2"),
          last,
        ];
        await assertRejects(() => db.write(batch(put("new", "c", "3", 1n << 64n))), RangeError, "a bad order last in the batch");
        await assertRejects(() => db.write(batch({ type: "put", collection: "new", key: "c", value: null as unknown as Uint8Array })), TypeError, "a bad value last in the batch");
        assertEqual(await db.list("new"), [], "no put of the failed batches");
        assertEqual(await db.list("kept"), [record("kept", "k1", "before")], "no delete of the failed batches");
      });
      if (harness.failThirdInsert) {
        // A failure inside the storage transaction, after two rows were already written in it.
        await harness.failThirdInsert(location);
        await using(harness, location, KEY_A, async (db) => {
          await assertRejects(
            () => db.write([put("new", "a", "1"), { type: "deleteCollection", collection: "kept" }, put("new", "b", "2"), put("new", "c", "3")]),
            LocalDatabaseError,
            "a write failing in its transaction",
          );
          assertEqual(await db.list("new"), [], "no row of the rolled-back transaction");
          assertEqual(await db.list("kept"), [record("kept", "k1", "before")], "the rolled-back delete");
        });
      }
    },
  },
  {
    name: "persistence across close and reopen",
    async run(harness) {
      const location = harness.newLocation();
      const large = patterned(200_000, 2);
      await using(harness, location, KEY_A, async (db) => {
        assertEqual(db.location, expectedLocation(location, harness), "location");
        assertEqual(db.resetReason, undefined, "a new store is not a reset");
        await db.write([put("c", "tie-1", "1", 7n), put("c", "tie-2", "2", 7n), put("c", "large", large, 1n), put("gone", "x", "x")]);
        await db.write([{ type: "deleteCollection", collection: "gone" }]);
      });
      await using(harness, location, KEY_A, async (db) => {
        assertEqual(db.resetReason, undefined, "a reopened store is not a reset");
        assertEqual(keysOf(await db.list("c")), ["large", "tie-1", "tie-2"], "records after reopening");
        assertEqual(await db.get("c", "large"), large, "a large value after reopening");
        assertEqual(await db.list("gone"), [], "a deletion after reopening");
        // Insertion order goes on from where it was: a new tie comes last.
        await db.write([put("c", "tie-0", "0", 7n)]);
      });
      await using(harness, location, KEY_A, async (db) => {
        assertEqual(keysOf(await db.list("c", { from: 7n, to: 7n })), ["tie-1", "tie-2", "tie-0"], "ties across reopening");
      });
    },
  },
  {
    name: "nothing readable in what is stored",
    async run(harness) {
      const secret = "secret-2f1c9e";
      const location = await storeWith(harness, [
        put(`collection-${secret}`, `key-${secret}`, `value-${secret}`, 42n),
        put(`collection-${secret}`, `0x1234567890abcdef1234567890abcdef12345678`, `peer-${secret}`),
      ]);
      const stored = await harness.rawBytes(location);
      assert(stored.length > 0, "the raw store is not empty");
      for (const needle of [secret, "collection-", "key-", "value-", "0x1234567890abcdef", "peer-"]) {
        assert(indexOf(stored, bytes(needle)) === -1, `"${needle}" appears in clear in the store`);
      }
      const rows = await harness.rawRows(location);
      assertEqual(rows.length, 2, "raw rows");
      assert(rows.some((row) => row.order === 42n), "order is stored in clear (documented)");
    },
  },
  {
    name: "wrong key",
    async run(harness) {
      const location = await storeWith(harness, [put("c", "k1", "v")]);
      const error = await assertRejects(() => harness.open(location, KEY_B), LocalDatabaseKeyError, "another key");
      assertNamesLocation(error, location, harness);
      assert(error.message.includes("another identity's database, or a wrong dbEncryptionKey"), `the key error explains: ${error.message}`);
      await using(harness, location, KEY_A, async (db) => {
        assertEqual(await db.get("c", "k1"), bytes("v"), "the right key still reads it: nothing was destroyed");
      });
    },
  },
  {
    name: "corrupt value: a flipped byte in a record",
    async run(harness) {
      const location = await storeWith(harness, [put("c", "k1", patterned(1000))]);
      const [row] = await harness.rawRows(location);
      const sealed = row.sealed.slice();
      sealed[sealed.length >> 1] ^= 0x01;
      await harness.rawReplaceRow(location, row, { ...row, sealed });
      const error = await openAndReadFails(harness, location, "c", "a flipped byte");
      assert(/authentication/.test(error.message), `the error says the record failed authentication: ${error.message}`);
      await using(harness, location, KEY_A, async (db) => {
        await assertRejects(() => db.get("c", "k1"), LocalDatabaseCorruptError, "get of the altered record");
        await assertRejects(() => db.list("c"), LocalDatabaseCorruptError, "list over the altered record");
      });
    },
  },
  {
    name: "moved record: to another key, collection or order",
    async run(harness) {
      const location = await storeWith(harness, [put("c", "k1", "one", 1n), put("c", "k2", "two", 2n), put("d", "k1", "three", 1n)]);
      const rows = await harness.rawRows(location);
      const two = rows.find((row) => row.order === 2n)!;
      const inCollectionC = (row: RawRow) => equalBytes(row.blindCollection, two.blindCollection);
      const one = rows.find((row) => row.order === 1n && inCollectionC(row))!;
      const three = rows.find((row) => !inCollectionC(row))!;
      const cases: Array<[what: string, before: RawRow, after: RawRow, read: (db: LocalDatabase) => Promise<unknown>]> = [
        ["a value copied onto another key", two, { ...two, sealed: one.sealed }, (db) => db.get("c", "k2")],
        ["a row moved to another collection", three, { ...three, blindCollection: two.blindCollection }, (db) => db.list("c")],
        ["a row given another order", one, { ...one, order: 5n }, (db) => db.list("c")],
      ];
      for (const [what, before, after, read] of cases) {
        await harness.rawReplaceRow(location, before, after);
        await assertRejects(() => using(harness, location, KEY_A, read), LocalDatabaseCorruptError, what);
        await harness.rawReplaceRow(location, after, before);
      }
      await using(harness, location, KEY_A, async (db) => {
        assertEqual(keysOf(await db.list("c")), ["k1", "k2"], "the rows put back read again");
      });
    },
  },
  {
    name: "truncated file",
    notFor: { indexeddb: "an IndexedDB database is no file the application can cut" },
    async run(harness) {
      const writes = Array.from({ length: 200 }, (_, i) => put("c", `k${i}`, patterned(1000, i), BigInt(i)));
      const location = await storeWith(harness, writes);
      await harness.truncate!(location);
      await openAndReadFails(harness, location, "c", "a truncated file");
    },
  },
  {
    name: "non-database file",
    async run(harness) {
      const location = harness.newLocation();
      await harness.makeNonDatabase(location);
      const error = await assertRejects(() => harness.open(location, KEY_A), LocalDatabaseCorruptError, "something that is no store");
      assertAdvisesDeletion(error, location, harness);
    },
  },
  {
    name: "newer format: refused, left untouched",
    async run(harness) {
      const location = await storeWith(harness, [put("c", "k1", "v")]);
      await harness.setStoredFormat(location, 2);
      const rowsBefore = await harness.rawRows(location);
      const error = await assertRejects(() => harness.open(location, KEY_A), LocalDatabaseVersionError, "a newer format");
      assertNamesLocation(error, location, harness);
      assertEqual([error.foundFormat, error.supportedFormat], [2, 1], "the formats the error names");
      await assertRejects(() => harness.open(location, KEY_B), LocalDatabaseVersionError, "a newer format, another key");
      assertEqual(await harness.readMetaEntry(location, "format"), 2, "the format is unchanged");
      assertEqual(await harness.rawRows(location), rowsBefore, "the rows are unchanged");
    },
  },
  {
    name: "reset of an unknown older format",
    async run(harness) {
      const unknownShape = harness.newLocation();
      await harness.makeUnknownOldStore(unknownShape);
      await using(harness, unknownShape, KEY_A, async (db) => {
        assert(db.resetReason && /unknown older shape/.test(db.resetReason), `resetReason: ${db.resetReason}`);
        assertEqual(await db.list("messages"), [], "the old data is gone");
        await db.write([put("c", "k1", "after the reset")]);
      });
      await using(harness, unknownShape, KEY_A, async (db) => {
        assertEqual(db.resetReason, undefined, "reopened after the reset: no reset");
        assertEqual(await db.get("c", "k1"), bytes("after the reset"), "the reset store works");
      });
      assertEqual(await harness.readMetaEntry(unknownShape, "writer"), writerOf(CURRENT_FORMAT), "the writer");

      const formatZero = await storeWith(harness, [put("c", "k1", "format 0 data")]);
      await harness.setStoredFormat(formatZero, 0);
      await using(harness, formatZero, KEY_B, async (db) => {
        assert(db.resetReason && /format 0/.test(db.resetReason), `resetReason: ${db.resetReason}`);
        assertEqual(await db.list("c"), [], "format 0 data is gone");
      });
      assertEqual(await harness.readMetaEntry(formatZero, "format"), CURRENT_FORMAT.version, "the reset store's format");
    },
  },
  {
    name: "migration step",
    async run(harness) {
      const location = await storeWith(harness, [put("c", "k1", "kept", 3n), put("c", "k2", "kept too", 1n)]);
      await assertRejects(() => harness.open(location, KEY_B, SYNTHETIC_FORMAT_2), LocalDatabaseKeyError, "a migration with the wrong key");
      assertEqual(await harness.readMetaEntry(location, "format"), 1, "no migration with the wrong key");
      await using(
        harness,
        location,
        KEY_A,
        async (db) => {
          assertEqual(db.resetReason, undefined, "a migration is no reset");
          assertEqual(await db.list("c"), [record("c", "k2", "kept too", 1n), record("c", "k1", "kept", 3n)], "records after the migration");
          await db.write([put("c", "k3", "written in format 2", 2n)]);
        },
        SYNTHETIC_FORMAT_2,
      );
      assertEqual(await harness.readMetaEntry(location, "format"), 2, "the migrated format");
      assertEqual(await harness.readMetaEntry(location, "writer"), "@xmtp-ts/local-db format 2", "the migrated writer");
      assertEqual(await harness.readMetaEntry(location, "migration marker"), MIGRATION_MARKER, "the step ran");
      await assertRejects(() => harness.open(location, KEY_A), LocalDatabaseVersionError, "format 1 opening the migrated store");

      // A format with no step from the stored one resets instead.
      const noStep = await storeWith(harness, [put("c", "k1", "dropped")]);
      await using(
        harness,
        noStep,
        KEY_A,
        async (db) => {
          assert(db.resetReason && /format 1, which has no migration to format 2/.test(db.resetReason), `resetReason: ${db.resetReason}`);
          assertEqual(await db.list("c"), [], "reset instead of migrated");
        },
        FORMAT_2_WITHOUT_STEP,
      );
    },
  },
  {
    name: "two connections",
    async run(harness) {
      const location = harness.newLocation();
      const [first, second] = [await harness.open(location, KEY_A), await harness.open(location, KEY_A)];
      try {
        await first.write([put("c", "from-first", "1", 1n)]);
        assertEqual(await second.get("c", "from-first"), bytes("1"), "the second sees the first's write");
        await second.write([put("c", "from-second", "2", 2n)]);
        assertEqual(keysOf(await first.list("c")), ["from-first", "from-second"], "the first sees the second's write");
        // Interleaved writes from both, all in flight at once.
        const writes: Array<Promise<void>> = [];
        for (let i = 0; i < 40; i++) {
          const db = i % 2 === 0 ? first : second;
          writes.push(db.write([put("many", `k${i}`, `v${i}`, BigInt(i)), put("counts", `k${i}`, "x")]));
        }
        await Promise.all(writes);
        const expected = Array.from({ length: 40 }, (_, i) => `k${i}`);
        assertEqual(keysOf(await first.list("many")), expected, "every write, seen by the first");
        assertEqual(keysOf(await second.list("many")), expected, "every write, seen by the second");
        await second.write([{ type: "deleteCollection", collection: "many" }]);
        assertEqual(await first.list("many"), [], "the first sees the second's deleteCollection");
      } finally {
        await first.close();
        await second.close();
      }
    },
  },
  {
    name: "closed database",
    async run(harness) {
      const location = harness.newLocation();
      const db = await harness.open(location, KEY_A);
      await db.write([put("c", "k1", "v")]);
      await db.close();
      for (const [what, call] of [
        ["get", () => db.get("c", "k1")],
        ["list", () => db.list("c")],
        ["write", () => db.write([put("c", "k2", "v")])],
      ] as const) {
        const error = await assertRejects(call, LocalDatabaseClosedError, `${what} after close`);
        assertNamesLocation(error, location, harness);
      }
      await db.close();
    },
  },
];

export function scenario(name: string): Scenario {
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new Error(`no conformance scenario named ${JSON.stringify(name)}`);
  return found;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
