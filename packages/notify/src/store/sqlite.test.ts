import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { makeEnvelope } from "../envelope.js";
import { describeNotifyStoreConformance } from "../test-support/notifyStoreConformance.js";
import { SqliteNotifyStore } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "xmtp-notify-sqlite-"));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeNotifyStoreConformance("SQLite", async () => new SqliteNotifyStore(join(dir, `store-${counter++}.sqlite3`)));

it("keeps installations, queue, seen digests and cursors across a reopen", async () => {
  const path = join(dir, "reopen.sqlite3");
  const first = new SqliteNotifyStore(path);
  await first.createInstallation({ id: "one", target: { kind: "webhook", url: "http://x/" }, secret: "s".repeat(16), accessKeyHash: "h", createdAtMs: 1 });
  await first.subscribe("one", ["/xmtp/0/t/proto"], 10);
  const envelope = makeEnvelope("/xmtp/0/t/proto", 5n, new Uint8Array([1, 2, 3]));
  await first.ingest("n", [envelope], { timestampNs: 5n, digest: envelope.digest, updatedAtMs: 1 }, 1);
  await first.close();
  const second = new SqliteNotifyStore(path);
  expect(await second.topicsOf("one")).toEqual(["/xmtp/0/t/proto"]);
  expect(await second.getCursor("n")).toEqual({ timestampNs: 5n, digest: envelope.digest, updatedAtMs: 1 });
  expect((await second.dueDeliveries(1, 10, new Set()))[0].envelope).toEqual(envelope);
  expect(await second.ingest("n", [envelope], undefined, 2)).toEqual({ fresh: 0, duplicates: 1, enqueued: 0 });
  await second.close();
});
