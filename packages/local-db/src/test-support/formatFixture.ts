// The frozen fixture: a small store written by format 1 with a fixed key and fixed content. test/fixtures/
// format-1.sqlite is committed; test/formatFixture.test.ts opens it and expects exactly FIXTURE_COLLECTIONS, so a
// change of the format that would break stores users already have fails there.
//
// Never regenerate the fixture to make that test pass after a format change: add a migration step and a new format
// number instead (format.ts), and a fixture for the new format beside this one. Regenerating (the same content,
// new random nonces) is only for a fixture that was lost:
//
//   XMTP_LOCAL_DB_WRITE_FIXTURE=1 npx vitest run packages/local-db/test/formatFixture.test.ts
import { rmSync } from "node:fs";
import type { LocalRecord, LocalWrite } from "../localDatabase.js";
import { openSqliteDatabase } from "../openLocalDatabase.js";

export const FIXTURE_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);

const text = (value: string) => new TextEncoder().encode(value);

/** 5,000 bytes: more than a 4 KB page, so the fixture also holds an overflow page chain. */
export function fixtureLargeValue(): Uint8Array {
  return Uint8Array.from({ length: 5000 }, (_, i) => (i * 13 + (i >> 8)) & 0xff);
}

/** The writes that make the fixture, with overwrites and deletions along the way. */
export function fixtureWrites(): LocalWrite[][] {
  return [
    [
      { type: "put", collection: "identity", key: "keys", value: Uint8Array.from([0x0a, 0x20, ...Array.from({ length: 32 }, (_, i) => i)]) },
      { type: "put", collection: "conversations", key: "/xmtp/0/m-a1b2/proto", value: text("peer 0xAbC"), order: 1_700_000_000_000_000_000n },
      { type: "put", collection: "conversations", key: "/xmtp/0/m-c3d4/proto", value: text("peer 0xDeF"), order: 1_700_000_000_000_000_000n },
      { type: "put", collection: "conversations", key: "/xmtp/0/m-e5f6/proto", value: text("stale"), order: 5n },
    ],
    [
      { type: "put", collection: "messages:/xmtp/0/m-a1b2/proto", key: "id-1", value: text("hello 👋"), order: 1_700_000_000_000_000_001n },
      { type: "put", collection: "messages:/xmtp/0/m-a1b2/proto", key: "id-2", value: fixtureLargeValue(), order: 1_700_000_000_000_000_002n },
      { type: "put", collection: "messages:/xmtp/0/m-a1b2/proto", key: "id-0", value: text("earliest"), order: -3n },
      { type: "put", collection: "cursors", key: "/xmtp/0/m-a1b2/proto", value: text("cursor 1") },
      { type: "put", collection: "drafts", key: "d", value: text("deleted with its collection") },
    ],
    [
      { type: "put", collection: "conversations", key: "/xmtp/0/m-e5f6/proto", value: text("peer 0x123, updated"), order: 1_700_000_000_000_000_000n },
      { type: "delete", collection: "cursors", key: "never existed" },
      { type: "put", collection: "cursors", key: "/xmtp/0/m-a1b2/proto", value: text("cursor 2") },
      { type: "put", collection: "consent", key: "0xAbC", value: new Uint8Array(0), order: 9_223_372_036_854_775_807n },
      { type: "deleteCollection", collection: "drafts" },
      { type: "put", collection: "identity", key: "", value: text("an empty key") },
    ],
  ];
}

/** What the fixture holds, collection by collection, in list order: written out, not computed from the writes. */
export const FIXTURE_COLLECTIONS: Record<string, LocalRecord[]> = {
  identity: [
    { collection: "identity", key: "keys", value: Uint8Array.from([0x0a, 0x20, ...Array.from({ length: 32 }, (_, i) => i)]), order: 0n },
    { collection: "identity", key: "", value: text("an empty key"), order: 0n },
  ],
  conversations: [
    { collection: "conversations", key: "/xmtp/0/m-a1b2/proto", value: text("peer 0xAbC"), order: 1_700_000_000_000_000_000n },
    { collection: "conversations", key: "/xmtp/0/m-c3d4/proto", value: text("peer 0xDeF"), order: 1_700_000_000_000_000_000n },
    { collection: "conversations", key: "/xmtp/0/m-e5f6/proto", value: text("peer 0x123, updated"), order: 1_700_000_000_000_000_000n },
  ],
  "messages:/xmtp/0/m-a1b2/proto": [
    { collection: "messages:/xmtp/0/m-a1b2/proto", key: "id-0", value: text("earliest"), order: -3n },
    { collection: "messages:/xmtp/0/m-a1b2/proto", key: "id-1", value: text("hello 👋"), order: 1_700_000_000_000_000_001n },
    { collection: "messages:/xmtp/0/m-a1b2/proto", key: "id-2", value: fixtureLargeValue(), order: 1_700_000_000_000_000_002n },
  ],
  cursors: [{ collection: "cursors", key: "/xmtp/0/m-a1b2/proto", value: text("cursor 2"), order: 0n }],
  consent: [{ collection: "consent", key: "0xAbC", value: new Uint8Array(0), order: 9_223_372_036_854_775_807n }],
  drafts: [],
};

/** Writes the fixture at `path` (replacing any file there) with the current code. */
export async function writeFormatFixture(path: string): Promise<void> {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
  const db = await openSqliteDatabase({ path, key: FIXTURE_KEY });
  try {
    for (const writes of fixtureWrites()) await db.write(writes);
  } finally {
    // The last connection's close checkpoints the WAL into the file and deletes it: one self-contained file.
    await db.close();
  }
}
