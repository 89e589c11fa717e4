// The conformance suite on the SQLite driver (Node.js). The same scenarios run on IndexedDB in Chromium
// (conformance.indexedDb.test.ts).
import { afterAll, describe, it } from "vitest";
import { scenarios } from "../src/test-support/conformance.js";
import { createSqliteHarness } from "../src/test-support/sqliteHarness.js";

const harness = createSqliteHarness();
afterAll(() => harness.cleanup());

describe("SQLite driver conformance", () => {
  for (const scenario of scenarios) {
    // A scenario that has no meaning for this driver (notFor) is not a test of it: left out, not skipped.
    if (scenario.notFor?.sqlite !== undefined) continue;
    it(scenario.name, () => scenario.run(harness));
  }
});
