import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeEnvelopeStoreConformance } from "./conformance.js";
import { withDigest } from "./digest.js";
import { openSqliteStore, SqliteEnvelopeStore } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "xmtp-sqlite-test-"));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEnvelopeStoreConformance("sqlite", () => openSqliteStore(join(dir, `store-${counter++}.sqlite3`)));
describeEnvelopeStoreConformance("sqlite (synchronous=normal)", () =>
  openSqliteStore(join(dir, `store-${counter++}.sqlite3`), { synchronous: "normal" }),
);

describe("SqliteEnvelopeStore", () => {
  it("keeps envelopes and arrival order across close and reopen", async () => {
    const path = join(dir, "reopen.sqlite3");
    const first = new SqliteEnvelopeStore(path);
    const message = (s: string) => new TextEncoder().encode(s);
    await first.append([withDigest({ contentTopic: "/t", timestampNs: 5n, message: message("a") })]);
    await first.append([withDigest({ contentTopic: "/t", timestampNs: 5n, message: message("b") })]);
    await first.close();
    const second = new SqliteEnvelopeStore(path);
    await second.append([withDigest({ contentTopic: "/t", timestampNs: 5n, message: message("c") })]);
    const page = await second.query({ topic: "/t", limit: 10, direction: "descending" });
    expect(page.envelopes.map((e) => new TextDecoder().decode(e.message))).toEqual(["c", "b", "a"]);
    await second.close();
  });

  it("refuses to work after close", async () => {
    const store = new SqliteEnvelopeStore(join(dir, "closed.sqlite3"));
    await store.close();
    await expect(store.append([withDigest({ contentTopic: "/t", timestampNs: 1n, message: new Uint8Array([1]) })]))
      .rejects.toThrow(/closed/);
    await expect(store.query({ topic: "/t", limit: 1, direction: "ascending" })).rejects.toThrow(/closed/);
  });
});
