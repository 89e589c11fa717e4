// The warm start the client needs, on SQLite: open a store of 10,000 conversations and list them all in under
// 0.3 s. With XMTP_LOCAL_DB_TIMINGS=1 it also prints the per-record cost of get, list and put for 200-byte and
// 200-KB values (the IndexedDB numbers come from conformance.indexedDb.test.ts, in Chromium).
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteDatabase } from "../src/index.js";
import { KEY_A } from "../src/test-support/conformance.js";
import { createSqliteHarness } from "../src/test-support/sqliteHarness.js";
import { formatTimings, measureTimings, WARM_START_CONVERSATIONS } from "../src/test-support/timings.js";

const harness = createSqliteHarness();
afterAll(() => harness.cleanup());
const fullTimings = process.env.XMTP_LOCAL_DB_TIMINGS === "1";

describe("SQLite timings", () => {
  it(`warm start: opens and lists ${WARM_START_CONVERSATIONS} conversations in under 0.3 s`, async () => {
    const locations = new Map<string, string>();
    const timings = await measureTimings({
      open(name) {
        if (!locations.has(name)) locations.set(name, harness.newLocation());
        return openSqliteDatabase({ path: locations.get(name)!, key: KEY_A });
      },
      smallRecords: fullTimings ? 2000 : 100,
      largeRecords: fullTimings ? 100 : 5,
      warmStartRuns: 5,
    });
    console.log(formatTimings("SQLite", timings));
    expect(Math.min(...timings.warmStartMilliseconds)).toBeLessThan(300);
  });
});
