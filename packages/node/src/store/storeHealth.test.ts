import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import type { EnvelopeStore, StoredEnvelope } from "./EnvelopeStore.js";
import { StoreUnavailableError } from "./storeErrors.js";
import { StoreHealth } from "./storeHealth.js";

/** A store whose appends and write probes fail while `failing` is set. */
function flakyStore() {
  const state = { failing: false, probes: 0 };
  const fault = () => new StoreUnavailableError("SQLite store cannot write: the disk is full", "write");
  const store = {
    append: async (envelopes: StoredEnvelope[]) => {
      if (state.failing) throw fault();
      return envelopes;
    },
    probeWrite: async () => {
      state.probes++;
      if (state.failing) throw fault();
    },
    query: async () => ({ envelopes: [] }),
  } as unknown as EnvelopeStore & { probeWrite: () => Promise<void> };
  return { store, state };
}

const envelope = { contentTopic: "/xmtp/0/m-x/proto", timestampNs: 1n, message: new Uint8Array([1]), digest: new Uint8Array(32) };

describe("StoreHealth", () => {
  it("marks the store unable to write after a write fault, and clears it on the next successful append", async () => {
    const { store, state } = flakyStore();
    const health = new StoreHealth(store, { logger: silentLogger, probeIntervalMs: 60_000 });
    const observed = health.observe(store);
    expect(await observed.append([envelope])).toEqual([envelope]);
    expect(health.writeFault).toBeUndefined();
    state.failing = true;
    await expect(observed.append([envelope])).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(health.writeFault).toMatch(/disk is full/);
    state.failing = false;
    await observed.append([envelope]);
    expect(health.writeFault).toBeUndefined();
    health.stop();
  });

  it("probes a faulty store until it writes again, with no append needed", async () => {
    const { store, state } = flakyStore();
    const health = new StoreHealth(store, { logger: silentLogger, probeIntervalMs: 20 });
    const observed = health.observe(store);
    state.failing = true;
    await expect(observed.append([envelope])).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state.probes).toBeGreaterThan(0);
    expect(health.writeFault).toBeDefined();
    state.failing = false;
    const deadline = Date.now() + 2_000;
    while (health.writeFault !== undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(health.writeFault).toBeUndefined();
    const probesWhenHealthy = state.probes;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state.probes).toBe(probesWhenHealthy);
    health.stop();
  });

  it("ignores errors that are not write faults (bugs, read faults)", async () => {
    const store = {
      append: async () => {
        throw new TypeError("a bug");
      },
    } as unknown as EnvelopeStore;
    const health = new StoreHealth(store, { logger: silentLogger });
    await expect(health.observe(store).append([envelope])).rejects.toThrow("a bug");
    expect(health.writeFault).toBeUndefined();
  });

  it("passes every other method through to the store", async () => {
    const { store } = flakyStore();
    const health = new StoreHealth(store, { logger: silentLogger });
    expect(await health.observe(store).query({ topic: "t", limit: 1, direction: "ascending" })).toEqual({ envelopes: [] });
  });
});
