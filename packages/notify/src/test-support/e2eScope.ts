// What every end-to-end test file needs: both binaries built (checked once, with the command that builds them), a
// publisher with a wallet-bound token, temporary directories, and cleanups run after each test, last first.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll } from "vitest";
import { createPublisher, nodeBinary, notifyBinary, type Publisher } from "./network.js";

export interface E2eScope {
  /** Set in beforeAll. */
  publisher: Publisher;
  /** Runs after the test, in reverse order of registration; failures are ignored. */
  defer(cleanup: () => Promise<unknown>): void;
  /** A fresh directory, removed after the test. */
  tempDir(prefix: string): string;
}

export function e2eScope(): E2eScope {
  const cleanups: (() => Promise<unknown>)[] = [];
  const scope: E2eScope = {
    publisher: undefined as unknown as Publisher,
    defer: (cleanup) => void cleanups.push(cleanup),
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
  };
  beforeAll(async () => {
    for (const binary of [nodeBinary, notifyBinary]) {
      if (!existsSync(binary)) throw new Error(`${binary} is missing: build with "npx tsc -b packages/node packages/notify" first`);
    }
    scope.publisher = await createPublisher();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return scope;
}
