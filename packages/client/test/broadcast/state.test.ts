// The resume state on its own: its JSON form (and what is refused when read back), the atomic file store, and the
// journal's grouped saves.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { BroadcastStateError, FileStateStore, type BroadcastState, type BroadcastStateStore } from "../../src/index.js";
import { BroadcastJournal } from "../../src/broadcast/journal.js";
import { RateGate, isRateLimited, isSettled } from "../../src/broadcast/rateLimits.js";
import { ApiError } from "../../src/api/errors.js";

const dir = mkdtempSync(join(tmpdir(), "xmtp-broadcast-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(): BroadcastState {
  return {
    broadcastId: "b-1",
    sender: "0x1111111111111111111111111111111111111111",
    contentSha256: "ab".repeat(32),
    createdAt: "2026-12-05T00:00:00.000Z",
    recipients: new Map([
      ["0x2222222222222222222222222222222222222222", { status: "sent", at: 1 }],
      ["0x3333333333333333333333333333333333333333", { status: "pending", sentAtMs: 1_700_000_000_123, attemptedAt: 2 }],
      ["0x4444444444444444444444444444444444444444", { status: "failed", at: 3, reason: "refused", code: 7 }],
    ]),
  };
}

describe("FileStateStore", () => {
  it("saves atomically (no temporary file left, mode 0600) and loads what it saved", async () => {
    const file = join(dir, "a.json");
    const store = new FileStateStore(file);
    expect(await store.load()).toBeUndefined();
    await store.save(state());
    expect(readdirSync(dir).filter((name) => name.startsWith("a.json"))).toEqual(["a.json"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const loaded = await store.load();
    expect(loaded).toEqual(state());
  });

  it("refuses a damaged or foreign file with BroadcastStateError", async () => {
    const file = join(dir, "b.json");
    const store = new FileStateStore(file);
    await store.save(state());
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole.slice(0, whole.length / 2));
    await expect(store.load()).rejects.toBeInstanceOf(BroadcastStateError);
    writeFileSync(file, JSON.stringify({ format: "something else" }));
    await expect(store.load()).rejects.toThrow(/not a broadcast state/);
    writeFileSync(file, whole.replace('"status":"pending"', '"status":"maybe"'));
    await expect(store.load()).rejects.toThrow(/malformed/);
  });

  it("appends each change as a line after the whole state, and reads them back applied", async () => {
    const file = join(dir, "journal.json");
    const store = new FileStateStore(file);
    const current = state();
    await store.save(current);
    const base = readFileSync(file, "utf8");
    const sent = { status: "sent", at: 9 } as const;
    current.recipients.set("0x3333333333333333333333333333333333333333", sent);
    await store.append(new Map([["0x3333333333333333333333333333333333333333", sent]]), current);
    const failed = { status: "failed", at: 10, reason: "no" } as const;
    current.recipients.set("0x5555555555555555555555555555555555555555", failed);
    await store.append(new Map([["0x5555555555555555555555555555555555555555", failed]]), current);
    const text = readFileSync(file, "utf8");
    expect(text.startsWith(base)).toBe(true); // the whole state was not written again
    expect(text.split("\n").filter(Boolean)).toHaveLength(3);
    expect(await new FileStateStore(file).load()).toEqual(current);
  });

  it("skips a torn last line (a kill mid-append), refuses damage before it, and reads a file of the whole state alone", async () => {
    const file = join(dir, "torn.json");
    const store = new FileStateStore(file);
    await store.save(state());
    const sent = { status: "sent", at: 9 } as const;
    await store.append(new Map([["0x3333333333333333333333333333333333333333", sent]]), state());
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole + '{"recipient":"0x44444444444444444444');
    const loaded = await new FileStateStore(file).load();
    expect(loaded?.recipients.get("0x3333333333333333333333333333333333333333")).toEqual(sent);
    expect(loaded?.recipients.get("0x4444444444444444444444444444444444444444")).toEqual(state().recipients.get("0x4444444444444444444444444444444444444444"));
    writeFileSync(file, whole + "garbage\n" + whole.split("\n")[1] + "\n");
    await expect(new FileStateStore(file).load()).rejects.toThrow(/line 3 is not a change record/);
    // As written before the journal existed: one JSON document, no newline.
    writeFileSync(file, whole.split("\n")[0]);
    expect(await new FileStateStore(file).load()).toEqual(state());
  });

  it("rewrites the whole state once the journal is as long as the state, so the file stays bounded", async () => {
    const file = join(dir, "compact.json");
    const store = new FileStateStore(file);
    const current = state();
    await store.save(current);
    for (let i = 0; i < 1_001; i++) {
      const record = { status: "sent", at: i } as const;
      current.recipients.set("0x2222222222222222222222222222222222222222", record);
      await store.append(new Map([["0x2222222222222222222222222222222222222222", record]]), current);
    }
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(1); // the 1,001st change rewrote the state
    expect(await new FileStateStore(file).load()).toEqual(current);
  });

  it("reports a state it cannot write as BroadcastStateError", async () => {
    const store = new FileStateStore(join(dir, "no-such-folder", "c.json"));
    await expect(store.save(state())).rejects.toMatchObject({ code: "broadcast_state_unusable" });
  });
});

describe("FileStateStore.lock", () => {
  it("lets one run at a time hold the state, and takes over a lock left by a dead process", async () => {
    const file = join(dir, "locked.json");
    const release = await new FileStateStore(file).lock();
    await expect(new FileStateStore(file).lock()).rejects.toThrow(/in use by another broadcast in this process/);
    await release();
    const again = await new FileStateStore(file).lock();
    await again();
    // A lock file left by a process that no longer exists (as after kill -9).
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(`${file}.lock`, `${dead.stdout} some-token`);
    const taken = await new FileStateStore(file).lock();
    expect(readFileSync(`${file}.lock`, "utf8")).toMatch(new RegExp(`^${process.pid} `));
    await taken();
    // One held by a live process is refused.
    writeFileSync(`${file}.lock`, `${process.ppid} other-token`);
    await expect(new FileStateStore(file).lock()).rejects.toThrow(new RegExp(`in use by process ${process.ppid}`));
  });
});

describe("BroadcastJournal", () => {
  it("groups changes made during a save into the next save, and resolves each once it is saved", async () => {
    const saved: string[][] = [];
    let release: (() => void) | undefined;
    const store: BroadcastStateStore = {
      load: async () => undefined,
      save: async (s) => {
        saved.push([...s.recipients.keys()]);
        await new Promise<void>((resolve) => (release = resolve));
      },
    };
    const journal = new BroadcastJournal({ ...state(), recipients: new Map() }, store);
    const first = journal.set("a", { status: "sent", at: 1 });
    while (saved.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    // "a" is being saved; "b" and "c" wait for the next save, together.
    const second = journal.set("b", { status: "sent", at: 2 });
    const third = journal.set("c", { status: "sent", at: 3 });
    let secondDone = false;
    void second.then(() => (secondDone = true));
    release!();
    await first;
    expect(secondDone).toBe(false);
    while (saved.length === 1) await new Promise((resolve) => setTimeout(resolve, 0));
    release!();
    await Promise.all([second, third]);
    expect(saved).toEqual([["a"], ["a", "b", "c"]]);
  });
});

describe("rate limits", () => {
  const limited = new ApiError({ call: "publish", code: 8, serverMessage: "slow down", httpStatus: 429, retryAfterMs: 40, transient: true });
  it("tells a 429 from other refusals, and an answered attempt from one lost on the wire", () => {
    expect(isRateLimited(limited)).toBe(true);
    expect(isRateLimited(new ApiError({ call: "publish", code: 7, serverMessage: "denied", httpStatus: 403, transient: false }))).toBe(false);
    expect(isSettled(limited)).toBe(true);
    expect(isSettled(new ApiError({ call: "publish", code: 14, serverMessage: "ECONNRESET", transient: true }))).toBe(false);
    expect(isSettled(new Error("local"))).toBe(true);
  });

  it("keeps the gate closed until the node's Retry-After has passed (on a fake clock)", async () => {
    vi.useFakeTimers();
    try {
      const gate = new RateGate(10, 1000);
      gate.limited(limited);
      let open = false;
      const waiting = gate.wait().then(() => (open = true));
      await vi.advanceTimersByTimeAsync(30);
      expect(open).toBe(false);
      await vi.advanceTimersByTimeAsync(10);
      await waiting;
      expect(open).toBe(true);
      expect(gate.hits).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("without Retry-After, backs off longer with each 429 in a row (on a fake clock)", async () => {
    vi.useFakeTimers();
    try {
      const gate = new RateGate(100, 1000);
      const bare = new ApiError({ call: "publish", code: 8, serverMessage: "slow down", httpStatus: 429, transient: true });
      gate.limited(bare);
      gate.limited(bare);
      let open = false;
      const waiting = gate.wait().then(() => (open = true));
      await vi.advanceTimersByTimeAsync(150);
      expect(open).toBe(false);
      await vi.advanceTimersByTimeAsync(50);
      await waiting;
      expect(open).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
