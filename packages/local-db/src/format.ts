// The on-disk format and what open() does with a store of another format.
//
// Format 1 is what sealing.ts, sqliteDriver.ts and indexedDbDriver.ts write. Any change to what they write (the
// key derivation, the sealing, the tables or object stores) is a new format number with a migration step from the
// previous one appended to `migrations`; a released format is never changed in place. The frozen fixture
// test/fixtures/format-1.sqlite, opened by test/formatFixture.test.ts, fails when it is.
//
// At open:
//   - a newer format: LocalDatabaseVersionError, and the store is left untouched (it is a newer client's data);
//   - the current format: used, once its key-check value matches the key;
//   - an older format with migration steps up to the current one: migrated, in the transaction that opens it;
//   - an older format without them, or a store of an unknown shape (tables or object stores but no metadata): the
//     store is emptied and recreated, and resetReason says why. The data is a cache of the network, so this loses
//     nothing that the client cannot fetch again.
import type BetterSqlite3 from "better-sqlite3";

export interface FormatMigration {
  /** The format it upgrades; it leaves the store in format `from + 1`. */
  readonly from: number;
  readonly description: string;
  /** SQLite: runs inside the open's write transaction (BEGIN IMMEDIATE), so a failure leaves the store as it was. */
  sqlite(connection: BetterSqlite3.Database): void;
  /**
   * IndexedDB: runs inside the version-change transaction. It may issue requests (and more from their callbacks),
   * but must not await anything else (WebCrypto included): the transaction would commit under it.
   */
  indexedDb(transaction: IDBTransaction): void;
}

export interface LocalDbFormat {
  readonly version: number;
  /** Steps from older formats, each `from` at most once. */
  readonly migrations: readonly FormatMigration[];
}

export const CURRENT_FORMAT: LocalDbFormat = { version: 1, migrations: [] };

/** The writer recorded in a store's metadata beside its format. */
export function writerOf(format: LocalDbFormat): string {
  return `@xmtp-ts/local-db format ${format.version}`;
}

/** What a driver found at open, before deciding anything. */
export type StoredShape =
  | { kind: "empty" }
  /** Tables or object stores, but no metadata: an unknown pre-release shape. */
  | { kind: "unknown"; description: string }
  | { kind: "versioned"; format: number };

export type OpenPlan =
  | { kind: "create" }
  | { kind: "use" }
  | { kind: "migrate"; steps: FormatMigration[] }
  | { kind: "reset"; reason: string }
  | { kind: "newer"; format: number };

export function planOpen(shape: StoredShape, format: LocalDbFormat): OpenPlan {
  switch (shape.kind) {
    case "empty":
      return { kind: "create" };
    case "unknown":
      return { kind: "reset", reason: unknownShapeReason(shape.description) };
    case "versioned": {
      if (shape.format > format.version) return { kind: "newer", format: shape.format };
      if (shape.format === format.version) return { kind: "use" };
      const steps: FormatMigration[] = [];
      for (let from = shape.format; from < format.version; from++) {
        const step = format.migrations.find((migration) => migration.from === from);
        if (!step) {
          return {
            kind: "reset",
            reason: `the store had format ${shape.format}, which has no migration to format ${format.version}; it was emptied`,
          };
        }
        steps.push(step);
      }
      return { kind: "migrate", steps };
    }
  }
}

export function unknownShapeReason(description: string): string {
  return `the store had an unknown older shape (${description}); it was emptied`;
}

/** A stored format number, or undefined when the stored value is not one (damaged metadata). */
export function parseStoredFormat(value: unknown): number | undefined {
  const number = typeof value === "bigint" ? Number(value) : value;
  return typeof number === "number" && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}
