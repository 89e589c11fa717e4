// The browser side of the IndexedDB tests: the conformance suite and the timings, run on demand from Node.js
// (test/conformance.indexedDb.test.ts) through page.evaluate(). Bundled by vite from the package's sources, through
// its public entry: the bundle is also the check that the package builds for browsers.
import { openLocalDatabase } from "../../src/index.js";
import { describeError } from "../../src/test-support/assertions.js";
import { KEY_A, scenario } from "../../src/test-support/conformance.js";
import { createIndexedDbHarness } from "../../src/test-support/indexedDbHarness.js";
import { measureTimings } from "../../src/test-support/timings.js";
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
  timings(options) {
    return measureTimings({ ...options, open: (name) => openLocalDatabase({ path: name, key: KEY_A }) });
  },
  rawIndexedDbListMilliseconds,
};

async function rawIndexedDbListMilliseconds(rows: number): Promise<number> {
  const request = <T>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
  const connection = await new Promise<IDBDatabase>((resolve, reject) => {
    const opening = indexedDB.open(`raw-floor-${Math.random().toString(36).slice(2)}`, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("records", { keyPath: ["c", "k"] }).createIndex("byOrder", ["c", "o", "s"]);
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  try {
    const random = (length: number) => crypto.getRandomValues(new Uint8Array(length)).buffer;
    const collection = random(32);
    const writing = connection.transaction(["records"], "readwrite");
    for (let s = 0; s < rows; s++) writing.objectStore("records").put({ c: collection, k: random(32), o: random(8), s, v: random(340) });
    await new Promise((resolve) => (writing.oncomplete = resolve));
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const index = connection.transaction(["records"], "readonly").objectStore("records").index("byOrder");
      await request(index.getAll(IDBKeyRange.bound([collection], [collection, []])));
      best = Math.min(best, performance.now() - start);
    }
    return Math.round(best);
  } finally {
    connection.close();
  }
}

(window as unknown as LocalDbTestWindow).localDbTests = api;
