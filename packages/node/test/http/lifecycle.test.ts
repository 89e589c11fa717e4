// Start-up, graceful shutdown and crash safety. The process tests run the built binary
// (packages/node/dist/main.js: `npm test` builds first; alone, run `npx tsc -b packages/node`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBinary, startNode as spawnNode } from "../../../../test/support/runningNode.js";
import { SqliteEnvelopeStore } from "../../src/store/sqlite.js";
import { bytesOf, createIdentity, envelopeJson, post, publish, startTestNode, type Identity } from "./helpers.js";

let alice: Identity;
beforeAll(async () => {
  alice = await createIdentity();
});

describe("in-process shutdown", () => {
  it("ends streams, finishes an in-flight publish, then closes the store", async () => {
    const node = await startTestNode();
    const topic = "/xmtp/0/m-shutdown/proto";
    try {
      const streamResponse = await fetch(node.url + "/message/v1/subscribe", { method: "POST", body: JSON.stringify({ contentTopics: [topic] }) });
      expect(node.hub.size).toBe(1);

      // A publish whose body is only half sent when shutdown starts.
      const body = JSON.stringify({ envelopes: [envelopeJson(topic, 1n, bytesOf("in flight"))] });
      const { port } = new URL(node.url);
      const pending = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: "/message/v1/publish", method: "POST", headers: { authorization: `Bearer ${alice.token()}`, "content-length": Buffer.byteLength(body) } }, (res) => {
          let text = "";
          res.on("data", (c) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on("error", reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 300);
      });
      await new Promise((r) => setTimeout(r, 100));
      const closed = node.close();

      // The stream ends at once (the reader sees end of body, not an error).
      const text = await streamResponse.text();
      expect(text.split("\n").filter(Boolean).every((l) => l === '{"result":{}}')).toBe(true);
      expect(await pending).toEqual({ status: 200, body: "{}" });
      await closed;
      expect(node.hub.size).toBe(0);
      await expect(node.store.query({ topic, limit: 1, direction: "ascending" })).rejects.toThrow(/closed/);
      await expect(fetch(node.url + "/message/v1/query", { method: "POST", body: "{}" })).rejects.toThrow();

      const reopened = new SqliteEnvelopeStore(node.config.storage.kind === "sqlite" ? node.config.storage.path : "");
      expect((await reopened.query({ topic, limit: 10, direction: "ascending" })).envelopes).toHaveLength(1);
      await reopened.close();
    } finally {
      await node.dispose();
    }
  });
});

describe("in-process shutdown with a drain delay", () => {
  it("answers /readyz 503 but keeps serving during the delay, then stops listening", async () => {
    const node = await startTestNode({ http: { drainDelayMs: 1_500 } });
    const topic = "/xmtp/0/m-drain/proto";
    try {
      expect((await fetch(node.url + "/readyz")).status).toBe(200);
      let closedAt = 0;
      const closed = node.close().then(() => (closedAt = Date.now()));
      const ready = await fetch(node.url + "/readyz");
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reason: "node is shutting down" });
      // Still serving: a publish and a query made during the delay are answered.
      const published = await publish(node, [envelopeJson(topic, 1n, bytesOf("during the drain"))], alice.token());
      expect(published.status).toBe(200);
      const queried = await post(node.url, "/message/v1/query", { contentTopics: [topic] });
      expect(queried.body.envelopes).toHaveLength(1);
      expect(closedAt).toBe(0);
      await closed;
      await expect(fetch(node.url + "/readyz")).rejects.toThrow();
    } finally {
      await node.dispose();
    }
  });
});

describe("in-process shutdown with idle connections", () => {
  it("does not wait for keep-alive or never-used connections", async () => {
    // With a grace period longer than the test timeout, close() only finishes in time if it closes these itself.
    const node = await startTestNode({ http: { shutdownGraceMs: 600_000, streamKeepAliveMs: 30_000, maxBodyBytes: 1 << 20, maxStreamBufferBytes: 1 << 20 } });
    const { port } = new URL(node.url);
    const { connect } = await import("node:net");
    const unused = connect(Number(port), "127.0.0.1"); // like fetch's spare connection: open, never a request
    await new Promise<void>((resolve) => unused.once("connect", resolve));
    const unusedClosed = new Promise<void>((resolve) => unused.once("close", () => resolve()));
    unused.resume();
    const keptAlive = await post(node.url, "/message/v1/query", { contentTopics: ["/t"] });
    expect(keptAlive.status).toBe(200);
    await node.dispose();
    await unusedClosed;
  });
});

describe("the xmtp-node binary", () => {
  beforeAll(() => {
    if (!existsSync(nodeBinary)) throw new Error(`${nodeBinary} is missing: build with "npx tsc -b packages/node" first`);
  });

  it("prints usage for --help and refuses unknown flags with exit code 2", () => {
    const help = spawnSync(process.execPath, [nodeBinary, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: xmtp-node");
    expect(help.stdout).toContain("--data-dir");
    const bad = spawnSync(process.execPath, [nodeBinary, "--frobnicate"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option --frobnicate");
  });

  it("logs JSON lines with where it listens and stores, and exits 0 on SIGTERM", async () => {
    const node = await spawnNode();
    try {
      const listening = node.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "listening");
      expect(listening).toMatchObject({ level: "info", url: node.url, host: "127.0.0.1", storage: `sqlite:${join(node.dataDir, "xmtp.sqlite3")}` });
      expect(typeof listening.time).toBe("string");
      expect(listening.port).toBe(Number(new URL(node.url).port));
      const res = await publish(node, [envelopeJson("/xmtp/0/m-sigterm/proto", 1n, bytesOf("kept"))], alice.token());
      expect(res.status).toBe(200);
      expect(await node.stop()).toBe(0);
      expect(node.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
      // Nothing secret or bulky in the logs.
      expect(node.logs.join("\n")).not.toContain(alice.token().slice(0, 40));
    } finally {
      await node.dispose();
    }
  });

  it("refuses a port in use with one line naming it and --port, and exits 1", async () => {
    const first = await spawnNode();
    const dataDir = mkdtempSync(join(tmpdir(), "xmtp-busy-port-"));
    try {
      const port = new URL(first.url).port;
      const second = spawnSync(process.execPath, [nodeBinary, "--host", "127.0.0.1", "--port", port, "--data-dir", dataDir], {
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(second.status).toBe(1);
      const lines = second.stderr.split("\n").filter(Boolean);
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^xmtp-node: port ${port} on 127\\.0\\.0\\.1 is already in use .*--port PORT`))]);
      // The JSON log says the same for log collectors.
      const failed = second.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === "failed to start");
      expect(failed).toMatchObject({ level: "error" });
      expect(JSON.stringify(failed)).toContain(`port ${port}`);
      // The first node is untouched.
      expect((await fetch(first.url + "/readyz")).status).toBe(200);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await first.dispose();
    }
  });

  it("exits 0 on SIGINT too", async () => {
    const node = await spawnNode();
    try {
      node.process.kill("SIGINT");
      const code = await new Promise<number | null>((resolve) => node.process.once("exit", resolve));
      expect(code).toBe(0);
    } finally {
      await node.dispose();
    }
  });
});

describe("crash safety", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "xmtp-crash-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("loses no acknowledged envelope when killed with SIGKILL mid-publish", async () => {
    const node = await spawnNode({ dataDir });
    const token = alice.token();
    const topics = [0, 1, 2, 3].map((i) => `/xmtp/0/m-crash-${i}/proto`);
    const acknowledged: Array<{ topic: string; text: string }> = [];
    let sequence = 0;
    let killed = false;

    async function worker() {
      while (!killed) {
        const n = sequence++;
        const topic = topics[n % topics.length];
        const envelopes = [envelopeJson(topic, BigInt(1_000_000 + n), bytesOf(`crash-${n}`)), envelopeJson(topic, BigInt(1_000_000 + n), bytesOf(`crash-${n}-b`))];
        try {
          const res = await publish(node, envelopes, token);
          if (res.status === 200) acknowledged.push({ topic, text: `crash-${n}` }, { topic, text: `crash-${n}-b` });
        } catch {
          // connection refused or reset by the kill: not acknowledged, so no promise to keep
        }
      }
    }
    const workers = Array.from({ length: 16 }, () => worker());
    while (acknowledged.length < 400) await new Promise((r) => setTimeout(r, 5));
    await node.kill();
    killed = true;
    await Promise.all(workers);
    expect(acknowledged.length).toBeGreaterThanOrEqual(400);

    const restarted = await spawnNode({ dataDir });
    try {
      const stored = new Map<string, number>();
      for (const topic of topics) {
        let cursor: unknown;
        for (;;) {
          const res = await post(restarted.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING", ...(cursor ? { cursor } : {}) } });
          expect(res.status).toBe(200);
          for (const e of res.body.envelopes) {
            const key = `${e.contentTopic} ${Buffer.from(e.message, "base64").toString()}`;
            stored.set(key, (stored.get(key) ?? 0) + 1);
          }
          cursor = res.body.pagingInfo.cursor;
          if (!cursor || res.body.envelopes.length === 0) break;
        }
      }
      const missing = acknowledged.filter(({ topic, text }) => stored.get(`${topic} ${text}`) !== 1);
      expect(missing).toEqual([]);
      expect([...stored.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await restarted.stop();
    }
  });
});
