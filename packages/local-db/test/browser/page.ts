// The browser side of the IndexedDB tests: the conformance suite, run on demand from Node.js
// (test/conformance.indexedDb.test.ts) through page.evaluate(). Bundled by vite from the package's sources, through
// its public entry: the bundle is also the check that the package builds for browsers.
import { openLocalDatabase } from "../../src/index.js";
import { describeError } from "../../src/test-support/assertions.js";
import { KEY_A, scenario } from "../../src/test-support/conformance.js";
import { createIndexedDbHarness } from "../../src/test-support/indexedDbHarness.js";
import type { LocalDbPageApi, LocalDbTestWindow } from "./pageApi.js";

const harness = createIndexedDbHarness();

const api: LocalDbPageApi = {
  async run(name) {
    try {
      await scenario(name).run(harness);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: `${describeError(error)}\n${error instanceof Error ? error.stack : ""}` };
    }
  },
  async openLocalDatabaseLocation(name) {
    const db = await openLocalDatabase({ path: name, key: KEY_A });
    await db.close();
    return db.location;
  },
};


(window as unknown as LocalDbTestWindow).localDbTests = api;
