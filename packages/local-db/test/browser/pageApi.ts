// What test/browser/page.ts exposes on `window` for the Node.js side to call through page.evaluate().
import type { Timings } from "../../src/test-support/timings.js";

export interface ScenarioOutcome {
  ok: boolean;
  /** The failure's name, message and stack when not ok. */
  error?: string;
}

export interface LocalDbPageApi {
  run(scenarioName: string): Promise<ScenarioOutcome>;
  /** The location openLocalDatabase (the environment-picking entry) reports here. */
  openLocalDatabaseLocation(name: string): Promise<string>;
  timings(options: { smallRecords?: number; largeRecords?: number; warmStartRuns?: number }): Promise<Timings>;
  /**
   * IndexedDB's own cost on this machine, in milliseconds: the best of three getAll() of `rows` rows shaped like the
   * driver's (no crypto, no checks), through the same compound index.
   */
  rawIndexedDbListMilliseconds(rows: number): Promise<number>;
}

export interface LocalDbTestWindow {
  localDbTests: LocalDbPageApi;
}
