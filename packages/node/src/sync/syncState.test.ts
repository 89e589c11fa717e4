import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SYNC_STATE_FILE, SyncState } from "./syncState.js";
import type { NetworkLogger } from "../p2p/logger.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "sync-state-test-"));
  dirs.push(dir);
  return dir;
}
const warnings: string[] = [];
const logger: NetworkLogger = { info() {}, warn: (msg) => void warnings.push(msg), error() {} };

describe("SyncState", () => {
  it("starts at 0 for an unknown peer and keeps positions across reloads, beyond 2^53", async () => {
    const dir = tempDir();
    const state = await SyncState.load(dir, logger);
    expect(state.get("peerA")).toBe(0n);
    state.set("peerA", 2n ** 60n + 1n);
    state.set("peerB", 7n);
    await state.save();
    const reloaded = await SyncState.load(dir, logger);
    expect(reloaded.get("peerA")).toBe(2n ** 60n + 1n);
    expect(reloaded.get("peerB")).toBe(7n);
    expect(JSON.parse(readFileSync(join(dir, SYNC_STATE_FILE), "utf8")).peers.peerA).toBe("1152921504606846977");
  });

  it("moves a damaged file aside, warns, and starts over", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SYNC_STATE_FILE), '{"version":1,"peers":{"x":"-3"}}');
    const state = await SyncState.load(dir, logger);
    expect(state.get("x")).toBe(0n);
    expect(warnings).toContain("sync state unreadable; catching up from the start");
    expect(readdirSync(dir).some((name) => name.startsWith(`${SYNC_STATE_FILE}.corrupt-`))).toBe(true);
  });

  it("writes positions only after the store's durability barrier, and only those recorded before it", async () => {
    const dir = tempDir();
    const events: string[] = [];
    let releaseBarrier = () => {};
    const state = await SyncState.load(dir, logger, {
      durabilityBarrier: () => {
        events.push("barrier");
        return new Promise<void>((resolve) => (releaseBarrier = resolve));
      },
    });
    state.set("peerA", 5n);
    const saved = state.save();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(["barrier"]);
    // Nothing on disk while the store has not confirmed the flush.
    expect(readdirSync(dir)).not.toContain(SYNC_STATE_FILE);
    // A position recorded after the barrier started waits for the next save (and its own barrier).
    state.set("peerA", 9n);
    releaseBarrier();
    await saved;
    expect(JSON.parse(readFileSync(join(dir, SYNC_STATE_FILE), "utf8")).peers.peerA).toBe("5");
    const again = state.save();
    await new Promise((resolve) => setImmediate(resolve));
    releaseBarrier();
    await again;
    expect(events).toEqual(["barrier", "barrier"]);
    expect((await SyncState.load(dir, logger)).get("peerA")).toBe(9n);
  });
});
