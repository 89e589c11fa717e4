// PostgreSQL faults under load, against the real node binary and a cluster of the test's own (support/
// privatePostgres.ts): kill -9 of the postmaster, kill -9 of one of the node's backends, and the whole cluster frozen
// with SIGSTOP. In each the node must stay up, refuse publishes with 503 / code 14 / Retry-After (never 500), recover
// by itself once the database is back, and have lost none of the envelopes it acknowledged. Then the same faults
// against the stores in-process: the envelope store and the authz lists fail the call in flight with
// StoreUnavailableError, answer while the server is frozen, close while it is frozen, and work again afterwards.
//
// Needs root and PostgreSQL binaries: skipped on a developer machine without them, FAILS when CI is set.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { createJsonLogger } from "../../src/log.js";
import { AccessControl } from "../../src/security/accessControl.js";
import type { AuthzStore } from "../../src/security/authzStore.js";
import { openPostgresAuthzStore } from "../../src/security/postgresAuthzStore.js";
import { withDigest } from "../../src/store/digest.js";
import type { EnvelopeStore } from "../../src/store/EnvelopeStore.js";
import { openPostgresStore } from "../../src/store/postgres.js";
import { StoreUnavailableError } from "../../src/store/storeErrors.js";
import { createIdentity, envelopeJson, nowNs, publish, type Identity } from "../http/helpers.js";
import { eventually, queryAll } from "../network/support.js";
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from "./support/privatePostgres.js";

const unavailable = privatePostgresUnavailable();
const PUBLISHERS = 8;
const QUERY_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 1_000;

if (unavailable && process.env.CI) {
  describe("PostgreSQL fault injection", () => {
    it("can run in CI", () => {
      throw new Error(`PostgreSQL fault injection cannot run but CI is set: ${unavailable}`);
    });
  });
}

interface Attempt {
  publisher: number;
  /** "topic|timestampNs|message", as queryAll's envelopes are compared. */
  key: string;
  topic: string;
  sentAt: number;
  answeredAt: number;
  /** 0: no HTTP answer at all (the node is gone). */
  status: number;
  code?: unknown;
  retryAfter: string | null;
  error?: string;
}

/** Publishers that each publish one envelope after another to a topic of their own, recording every answer. */
class PublisherFleet {
  readonly attempts: Attempt[] = [];
  private running = true;
  private readonly loops: Promise<void>[];
  private counter = 0;

  constructor(
    private readonly node: RunningNode,
    private readonly identities: Identity[],
    readonly topics: string[],
  ) {
    this.loops = identities.map((_, publisher) => this.loop(publisher));
  }

  private async loop(publisher: number): Promise<void> {
    while (this.running) {
      const attempt = await this.publishOnce(publisher);
      // A client backs off a little after a refusal instead of hammering a node whose database is down.
      if (attempt.status !== 200) await sleep(25);
    }
  }

  /** One publish; also used for probes outside the loops. */
  async publishOnce(publisher: number): Promise<Attempt> {
    const topic = this.topics[publisher];
    const message = Buffer.from(`publisher ${publisher} envelope ${this.counter++} ${randomBytes(4).toString("hex")}`).toString("base64");
    const envelope = envelopeJson(topic, nowNs(), message);
    const sentAt = Date.now();
    const base = { publisher, key: `${topic}|${envelope.timestampNs}|${message}`, topic, sentAt };
    let attempt: Attempt;
    try {
      const response = await publish(this.node, [envelope], this.identities[publisher].token());
      attempt = {
        ...base,
        answeredAt: Date.now(),
        status: response.status,
        code: response.body?.code,
        retryAfter: response.headers.get("retry-after"),
        error: response.status === 200 ? undefined : JSON.stringify(response.body),
      };
    } catch (error) {
      attempt = { ...base, answeredAt: Date.now(), status: 0, retryAfter: null, error: String(error) };
    }
    this.attempts.push(attempt);
    return attempt;
  }

  acknowledged(): Attempt[] {
    return this.attempts.filter((a) => a.status === 200);
  }

  refused(): Attempt[] {
    return this.attempts.filter((a) => a.status !== 200);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(unavailable !== undefined)("PostgreSQL faults under 8 concurrent publishers (real node binary)", () => {
  let postgres: PrivatePostgres;
  let identities: Identity[];
  let node: RunningNode | undefined;
  let fleet: PublisherFleet | undefined;

  beforeAll(async () => {
    [postgres, identities] = await Promise.all([
      startPrivatePostgres(),
      Promise.all(Array.from({ length: PUBLISHERS }, () => createIdentity())),
    ]);
  }, 120_000);

  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
    await node?.dispose();
    node = undefined;
    // A test that failed half-way may leave the cluster frozen or killed.
    await postgres?.ensureRunning();
  });

  afterAll(async () => {
    await postgres?.destroy();
  });

  /** A node on the private cluster, in a schema of its own, with short database timeouts. */
  async function startFaultNode(): Promise<RunningNode> {
    const url = new URL(postgres.url);
    url.searchParams.set("schema", `faults_${randomBytes(4).toString("hex")}`);
    node = await startNode({
      args: [
        "--db",
        url.toString(),
        "--db-query-timeout-ms",
        String(QUERY_TIMEOUT_MS),
        "--db-connect-timeout-ms",
        String(CONNECT_TIMEOUT_MS),
        "--rate-limits",
        "off",
      ],
    });
    return node;
  }

  function startFleet(at: RunningNode): PublisherFleet {
    const run = randomBytes(4).toString("hex");
    const topics = identities.map((_, i) => `/xmtp/0/m-faults-${run}-${i}/proto`);
    fleet = new PublisherFleet(at, identities, topics);
    return fleet;
  }

  /** The /readyz status; 0 when the node does not answer at all. */
  const readyStatus = async (at: RunningNode) => {
    try {
      return (await fetch(`${at.url}/readyz`)).status;
    } catch {
      return 0;
    }
  };

  /** The node process is still running (main.ts exits on any uncaught exception or unhandled rejection). */
  function expectAlive(at: RunningNode, publishers: PublisherFleet) {
    const context = describeRun(at, publishers);
    expect({ exitCode: at.process.exitCode, signal: at.process.signalCode }, `the node died\n${context}`).toEqual({
      exitCode: null,
      signal: null,
    });
    expect(at.logs.filter((line) => /uncaught exception|unhandled rejection/.test(line)), context).toEqual([]);
  }

  function describeRun(at: RunningNode, publishers: PublisherFleet): string {
    const byStatus = new Map<number, number>();
    for (const a of publishers.attempts) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    const odd = publishers.attempts.filter((a) => a.status !== 200 && a.status !== 503).slice(0, 5);
    return [
      `answers by status: ${JSON.stringify([...byStatus])}`,
      `node exit: ${at.process.exitCode} ${at.process.signalCode}`,
      ...odd.map((a) => `odd answer: ${a.status} ${a.error}`),
      "node log (last 30 lines):",
      ...at.logs.slice(-30),
    ].join("\n");
  }

  /** Waits until every publisher has had a publish acknowledged after `since`. */
  async function everyPublisherAcknowledgedSince(publishers: PublisherFleet, since: number, what: string) {
    await eventually(
      () => new Set(publishers.acknowledged().filter((a) => a.sentAt >= since).map((a) => a.publisher)).size === PUBLISHERS,
      what,
      30_000,
    );
  }

  /** The promises every scenario makes, checked after the publishers have stopped. */
  async function expectPromisesKept(at: RunningNode, publishers: PublisherFleet, minRefused: number) {
    const context = describeRun(at, publishers);
    expectAlive(at, publishers);

    // Every refusal was "unavailable, retry later", never an internal error or a dropped connection.
    const refused = publishers.refused();
    expect(refused.length, `the fault was never seen by a publisher\n${context}`).toBeGreaterThanOrEqual(minRefused);
    for (const attempt of refused) {
      expect({ status: attempt.status, code: attempt.code, retryAfter: attempt.retryAfter !== null }, `${attempt.error}\n${context}`).toEqual({
        status: 503,
        code: 14,
        retryAfter: true,
      });
    }

    // Recovered by itself: ready again, and publishes are acknowledged again.
    await eventually(async () => (await readyStatus(at)) === 200, "/readyz 200 after the fault", 30_000);
    const after = await publishers.publishOnce(0);
    expect(after.status, `${after.error}\n${context}`).toBe(200);

    // Nothing acknowledged is missing.
    const acknowledged = publishers.acknowledged();
    const stored = new Set<string>();
    for (const topic of publishers.topics) {
      for (const envelope of await queryAll(at, topic)) stored.add(`${envelope.contentTopic}|${envelope.timestampNs}|${envelope.message}`);
    }
    const missing = acknowledged.filter((a) => !stored.has(a.key));
    expect(missing.map((a) => a.key), `${missing.length} of ${acknowledged.length} acknowledged envelopes missing`).toEqual([]);
  }

  it("kill -9 of the postmaster, then a restart: 503s while it is down, nothing acknowledged lost", async () => {
    const at = await startFaultNode();
    const publishers = startFleet(at);
    await eventually(() => publishers.acknowledged().length >= 40, "40 acknowledged publishes before the fault", 30_000);

    await postgres.killPostmaster();
    const killedAt = Date.now();
    // Down: publishes are refused, and the node is not ready.
    await eventually(
      () => publishers.refused().filter((a) => a.sentAt >= killedAt).length >= PUBLISHERS,
      "publishes refused while the database is down",
      20_000,
    );
    expectAlive(at, publishers);
    expect(await readyStatus(at)).toBe(503);

    await postgres.start();
    const restartedAt = Date.now();
    await everyPublisherAcknowledgedSince(publishers, restartedAt, "every publisher acknowledged again after the restart");
    await publishers.stop();
    await expectPromisesKept(at, publishers, PUBLISHERS);
  });

  it("kill -9 of one of the node's backends (the server then restarts every backend): nothing acknowledged lost", async () => {
    const at = await startFaultNode();
    const publishers = startFleet(at);
    await eventually(() => publishers.acknowledged().length >= 40, "40 acknowledged publishes before the fault", 30_000);

    const backends = await postgres.backendPids("xmtp-ts-node");
    expect(backends.length, "the node's connections in pg_stat_activity").toBeGreaterThan(0);
    postgres.killProcess(backends[0]);
    const killedAt = Date.now();
    // The postmaster answers a crashed backend by ending every other one and recovering: in-flight publishes fail.
    await eventually(() => publishers.refused().length > 0, "a publish refused after the backend was killed", 20_000);
    expectAlive(at, publishers);
    await everyPublisherAcknowledgedSince(publishers, killedAt + 100, "every publisher acknowledged again after crash recovery");
    await publishers.stop();
    await expectPromisesKept(at, publishers, 1);
    expect(postgres.serverLog()).toMatch(/terminated by signal 9/);
  });

  it("SIGSTOP of the whole cluster for 6 s: publishes and /readyz are answered 503 while it is still frozen", async () => {
    const at = await startFaultNode();
    const publishers = startFleet(at);
    await eventually(() => publishers.acknowledged().length >= 40, "40 acknowledged publishes before the fault", 30_000);

    postgres.pause();
    const pausedAt = Date.now();
    // Fresh publishes from every publisher and a readiness probe, sent right after the freeze, must be answered
    // before it ends: with a 2 s statement timeout each waits at most for the batch in flight and its own.
    const probes = Promise.all(identities.map((_, i) => publishers.publishOnce(i)));
    const readiness = fetch(`${at.url}/readyz`).then((response) => ({ status: response.status, answeredAt: Date.now() }));
    await sleep(Math.max(0, pausedAt + 6_000 - Date.now()));
    postgres.resume();
    const resumedAt = Date.now();

    const answered = await probes;
    expectAlive(at, publishers);
    const context = describeRun(at, publishers);
    for (const probe of answered) {
      expect(
        { status: probe.status, code: probe.code, retryAfter: probe.retryAfter !== null, beforeResume: probe.answeredAt < resumedAt },
        `probe sent ${probe.sentAt - pausedAt} ms into the pause, answered ${probe.answeredAt - pausedAt} ms in: ${probe.error}\n${context}`,
      ).toEqual({ status: 503, code: 14, retryAfter: true, beforeResume: true });
    }
    const ready = await readiness;
    expect({ status: ready.status, beforeResume: ready.answeredAt < resumedAt }).toEqual({ status: 503, beforeResume: true });

    await everyPublisherAcknowledgedSince(publishers, resumedAt, "every publisher acknowledged again after SIGCONT");
    await publishers.stop();
    await expectPromisesKept(at, publishers, PUBLISHERS);
  });
});

describe.skipIf(unavailable !== undefined)("PostgreSQL faults against the stores in-process", () => {
  let postgres: PrivatePostgres;
  const closers: Array<() => Promise<void>> = [];
  const TIMEOUTS = { connectTimeoutMs: 500, queryTimeoutMs: 1_000 };

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
  }, 120_000);

  afterEach(async () => {
    postgres?.resume();
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    await postgres?.ensureRunning();
  });

  afterAll(async () => {
    await postgres?.destroy();
  });

  const TOPIC = "/xmtp/0/m-faults-in-process/proto";
  let sequence = 0;
  const envelope = () =>
    withDigest({ contentTopic: TOPIC, timestampNs: 1_700_000_000_000_000_000n + BigInt(sequence), message: Buffer.from(`e${sequence++}`) });

  async function openStore(schema = `store_${randomBytes(4).toString("hex")}`): Promise<EnvelopeStore> {
    const store = await openPostgresStore(postgres.url, { schema, ...TIMEOUTS });
    closers.push(() => store.close());
    return store;
  }

  /** A URL whose sessions use a new empty schema (through the URL's own `options`, which the pool must keep). */
  async function freshAuthzUrl(): Promise<string> {
    const schema = `authz_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const url = new URL(postgres.url);
    url.searchParams.set("options", `-c search_path=${schema}`);
    return url.toString();
  }

  /** Resolves to the error `promise` rejected with and when, or fails the test if it resolved. */
  async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; at: number }> {
    try {
      await promise;
    } catch (error) {
      return { error, at: Date.now() };
    }
    throw new Error("expected a rejection");
  }

  /**
   * Freezes the server now and thaws it after `ms` whatever happens, so that a call that waits for the thaw (no
   * timeout) does not hang the test but is seen settling after `thawedAt`.
   */
  function freezeFor(ms: number): { thawed: Promise<number> } {
    postgres.pause();
    return {
      thawed: new Promise((resolve) =>
        setTimeout(() => {
          const thawedAt = Date.now();
          postgres.resume();
          resolve(thawedAt);
        }, ms),
      ),
    };
  }

  function expectUnavailable(error: unknown, operation: "read" | "write") {
    expect(error, String(error)).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).operation).toBe(operation);
    expect((error as Error).message).toMatch(/^PostgreSQL /);
  }

  it("envelope store: kill -9 of the postmaster fails each call in flight as unavailable; after a restart the same store works", async () => {
    const store = await openStore();
    const first = envelope();
    await store.append([first]);

    await postgres.killPostmaster();
    expectUnavailable((await rejection(store.append([envelope()]))).error, "write");
    expectUnavailable((await rejection(store.query({ topic: TOPIC, limit: 10, direction: "ascending" }))).error, "read");
    expectUnavailable((await rejection(store.readDigestsSince(0n, 10))).error, "read");
    expectUnavailable((await rejection(store.readDigestsSince(0n, 10))).error, "read");
    expectUnavailable((await rejection(store.readBySequence([1n]))).error, "read");
    const probing = store as EnvelopeStore & { probeWrite(): Promise<void> };
    expectUnavailable((await rejection(probing.probeWrite())).error, "write");

    await postgres.start();
    // The node's readiness probes writes with this until one succeeds: it must succeed again without a reopen.
    await eventually(async () => (await probing.probeWrite().then(() => true, () => false)), "a write probe after the restart");
    const second = envelope();
    // The first call after the restart may still meet a connection the pool has not yet seen die.
    await eventually(async () => (await store.append([second]).catch(() => undefined)) !== undefined, "an append after the restart");
    const page = await store.query({ topic: TOPIC, limit: 10, direction: "ascending" });
    expect(page.envelopes.map((e) => Buffer.from(e.message).toString())).toEqual(
      expect.arrayContaining([Buffer.from(first.message).toString(), Buffer.from(second.message).toString()]),
    );
  });

  it("envelope store: with the server frozen, appends and reads fail within the timeouts and close() returns before it thaws", async () => {
    const schema = `store_${randomBytes(4).toString("hex")}`;
    const store = await openStore(schema);
    const kept = envelope();
    await store.append([kept]);

    // 1 s statement timeout: each call fails within about that; close() waits for the append in flight and then
    // gives the pool 1.5 s to say goodbye before cutting its sockets. Together well within the 8 s freeze.
    const freeze = freezeFor(8_000);
    const append = rejection(store.append([envelope()]));
    const read = rejection(store.query({ topic: TOPIC, limit: 10, direction: "descending" }));
    const [appended, queried] = await Promise.all([append, read]);
    const pending = rejection(store.append([envelope()]));
    await store.close();
    const closedAt = Date.now();
    const failedPending = await pending;
    const thawedAt = await freeze.thawed;

    expectUnavailable(appended.error, "write");
    expectUnavailable(queried.error, "read");
    expectUnavailable(failedPending.error, "write");
    expect({ appended: appended.at < thawedAt, queried: queried.at < thawedAt, closed: closedAt < thawedAt }).toEqual({
      appended: true,
      queried: true,
      closed: true,
    });

    const reopened = await openStore(schema);
    const page = await reopened.query({ topic: TOPIC, limit: 10, direction: "ascending" });
    expect(page.envelopes.map((e) => Buffer.from(e.message).toString())).toContain(Buffer.from(kept.message).toString());
  });

  /** Authz lists in a schema of their own, watched by an AccessControl polling every 100 ms, with one wallet allowed. */
  async function openWatchedLists() {
    const url = await freshAuthzUrl();
    const store: AuthzStore = await openPostgresAuthzStore(url, TIMEOUTS);
    closers.push(() => store.close());
    const lines: Array<{ level: string; msg: string }> = [];
    const logger = createJsonLogger({ sink: { write: (line: string) => lines.push(JSON.parse(line)) } });
    const access = new AccessControl(store, { mode: "allowlist", refreshIntervalMs: 100, logger });
    closers.push(async () => access.stop());
    await access.start();
    const allowed = "0x" + "ab".repeat(20);
    await access.put({ address: allowed, permission: "allow" });
    expect(access.check(allowed, "publish")).toBeNull();
    return { store, access, lines, allowed };
  }

  it("authz lists: kill -9 of the postmaster gives unavailable errors; the refresh loop keeps the last lists, logs once, recovers", async () => {
    const { store, access, lines, allowed } = await openWatchedLists();

    // Killed: the poll fails, is logged once, and decisions keep using the lists last read.
    await postgres.killPostmaster();
    await eventually(() => lines.some((l) => l.msg === "authz refresh failed; keeping the last lists read"), "the refresh failure logged");
    expect(access.check(allowed, "publish")).toBeNull();
    expectUnavailable((await rejection(store.version())).error, "read");
    expectUnavailable((await rejection(store.put({ address: "0x" + "cd".repeat(20), permission: "allow" }))).error, "write");

    await postgres.start();
    await eventually(() => lines.some((l) => l.msg === "authz lists readable again"), "the refresh recovering");
    const later = "0x" + "ef".repeat(20);
    await store.put({ address: later, permission: "allow" });
    await access.refresh();
    expect(access.check(later, "publish")).toBeNull();
    expect(lines.filter((l) => l.msg === "authz refresh failed; keeping the last lists read")).toHaveLength(1);
  });

  it("authz lists: with the server frozen, reads and writes fail within the timeouts and close() returns before it thaws", async () => {
    const { store, access, allowed } = await openWatchedLists();
    const freeze = freezeFor(8_000);
    const [version, put] = await Promise.all([
      rejection(store.version()),
      rejection(store.put({ address: "0x" + "12".repeat(20), permission: "deny" })),
    ]);
    access.stop();
    await store.close();
    const closedAt = Date.now();
    const thawedAt = await freeze.thawed;
    expectUnavailable(version.error, "read");
    expectUnavailable(put.error, "write");
    expect({ version: version.at < thawedAt, put: put.at < thawedAt, closed: closedAt < thawedAt }).toEqual({
      version: true,
      put: true,
      closed: true,
    });
    expect(access.check(allowed, "publish")).toBeNull();
  });
});
