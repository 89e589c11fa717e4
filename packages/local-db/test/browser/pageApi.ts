// What test/browser/page.ts exposes on `window` for the Node.js side to call through page.evaluate().

export interface ScenarioOutcome {
  ok: boolean;
  /** The failure's name, message and stack when not ok. */
  error?: string;
}

export interface LocalDbPageApi {
  run(scenarioName: string): Promise<ScenarioOutcome>;
  /** The location openLocalDatabase (the environment-picking entry) reports here. */
  openLocalDatabaseLocation(name: string): Promise<string>;
}

export interface LocalDbTestWindow {
  localDbTests: LocalDbPageApi;
}
