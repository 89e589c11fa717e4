// The store at scale (issue 15): fills a store with envelopes shaped like real traffic (many topics, skewed
// popularity and sizes, the classes of docs/storage.md), then measures, at a small baseline size and at a big one in
// the same run: fill rate, query latency p50/p99 (first page of a random topic; a page in the middle by cursor; with
// the node's read cache and, for SQLite, without it), publish rate and latency (one durable envelope per append, as
// a publish), disk bytes per envelope, the pruner's throughput and publishing while it runs. Beside the times, what
// they depend on: for SQLite, the bytes each query read from the disk, and the queries again after the store's files
// were read through (page cache warm, when they fit in available memory); for PostgreSQL, the buffers touched per
// envelope returned, whatever is in memory. For SQLite, then the bootstrap of a new node holding the big store:
// snapshot create beside the running node, restore, catch-up of the tail, in both snapshot formats (database pages,
// records), against an empty node pulling everything through catch-up (wall and CPU time of every process).
//
//   npm run build && node bench/store.js
//
// Environment: BENCH_STORE_ENVELOPES (big store, default 1,000,000; the target is 10,000,000),
// BENCH_STORE_BASELINE (10,000), BENCH_STORE_QUERIES (2,000 per kind), BENCH_STORE_PUBLISH_MS (3,000),
// BENCH_STORE_POSTGRES_URL (also bench PostgreSQL, in a throwaway schema), BENCH_STORE_BOOTSTRAP=0 (skip the
// bootstrap comparison), BENCH_STORE_SQLITE=0 (PostgreSQL alone, no bootstrap).
import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { freemem, tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, openConfiguredStore, openSqliteStore, parseRetentionPolicy, RetentionPruner, withDigest } from "@xmtp-ts/node";
import { cpuSecondsOf, deviceBytesReadByThisThread, envelopesStored, intFromEnv, makeToken, nodeMainPath, percentile, post, printTable, relayInfo, sleep, startServer, until } from "./support.js";

const BIG = intFromEnv("BENCH_STORE_ENVELOPES", 1_000_000);
const BASELINE = intFromEnv("BENCH_STORE_BASELINE", 10_000);
const QUERIES = intFromEnv("BENCH_STORE_QUERIES", 2_000);
const PUBLISH_MS = intFromEnv("BENCH_STORE_PUBLISH_MS", 3_000);
const POSTGRES_URL = process.env.BENCH_STORE_POSTGRES_URL;
/** The bootstrap comparison pulls the whole big store through catch-up once: set 0 to skip it on a very big store. */
const BOOTSTRAP = process.env.BENCH_STORE_BOOTSTRAP !== "0";
/** BENCH_STORE_SQLITE=0 benches PostgreSQL alone (a 10M fill of each takes long here); the bootstrap is SQLite's. */
const SQLITE = process.env.BENCH_STORE_SQLITE !== "0";
const FILL_BATCH = 1_000;
const DAY_NS = 86_400n * 1_000_000_000n;
/** The generated history spans this many days, oldest first. */
const HISTORY_DAYS = 400n;

/** A small deterministic generator (xorshift32), so two runs fill the same store. */
function random(seed = 0x9e3779b9) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/**
 * Traffic: topics of each class in the proportions of an inbox-heavy network; popularity by a Zipf law (a few busy
 * conversations, a long tail); message sizes mostly small with a heavy tail (attachments' remote references, keys).
 * @param {number} count
 */
function* traffic(count) {
  const next = random(count);
  const topicCount = Math.max(100, Math.floor(count / 40));
  // Cumulative Zipf weights (s = 1.1) for picking a topic by popularity.
  const cumulative = new Float64Array(topicCount);
  let sum = 0;
  for (let i = 0; i < topicCount; i++) cumulative[i] = sum += 1 / Math.pow(i + 1, 1.1);
  const kinds = /** @type {const} */ ([
    [0.88, "m-"],
    [0.93, "dm-"],
    [0.97, "invite-"],
    [0.99, "contact-"],
    [1, "userpreferences-"],
  ]);
  /** @param {number} index */
  const topicOf = (index) => {
    const roll = ((index * 2654435761) >>> 0) / 0x1_0000_0000;
    const kind = kinds.find(([bound]) => roll < bound)?.[1] ?? "m-";
    return `/xmtp/0/${kind}bench-${index.toString(16).padStart(8, "0")}/proto`;
  };
  const start = BigInt(Date.now()) * 1_000_000n - HISTORY_DAYS * DAY_NS;
  const step = (HISTORY_DAYS * DAY_NS) / BigInt(count);
  for (let i = 0; i < count; i++) {
    const pick = next() * sum;
    let lo = 0;
    let hi = topicCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < pick) lo = mid + 1;
      else hi = mid;
    }
    const sizeRoll = next();
    const size = sizeRoll < 0.7 ? 100 + Math.floor(next() * 300) : sizeRoll < 0.95 ? 400 + Math.floor(next() * 1_600) : 2_000 + Math.floor(next() * 30_000);
    const message = new Uint8Array(size);
    // Ciphertext-like bytes (incompressible), cheaply: a counter and random words.
    const view = new DataView(message.buffer);
    for (let o = 0; o + 4 <= size; o += 4) view.setUint32(o, (next() * 0x1_0000_0000) >>> 0);
    view.setUint32(0, i);
    yield withDigest({ contentTopic: topicOf(lo), timestampNs: start + BigInt(i) * step + BigInt(Math.floor(next() * 1_000_000)), message });
  }
}

/**
 * @typedef {Awaited<ReturnType<typeof openConfiguredStore>>} Store
 * @typedef {{ name: string, open(): Promise<Store>, openUncached?: () => Promise<Store>, diskBytes(): Promise<number>, files?: string[],
 *   bufferAccesses?: () => Promise<number>, dataDir: string, dispose(): Promise<void> }} Backend
 */

/** @param {string} label @returns {Promise<Backend>} */
async function sqliteBackend(label) {
  const dataDir = mkdtempSync(join(tmpdir(), `xmtp-bench-store-${label}-`));
  const config = defaultConfig({ dataDir });
  const path = config.storage.kind === "sqlite" ? config.storage.path : "";
  return {
    name: "SQLite",
    dataDir,
    open: () => openConfiguredStore(config),
    // The same store without the node's in-memory cache of recently read envelopes (8 MiB): every page from SQLite.
    openUncached: () => openSqliteStore(path, { cacheBytes: 0 }),
    files: ["", "-wal"].map((suffix) => path + suffix),
    diskBytes: async () => ["", "-wal", "-shm"].reduce((total, suffix) => total + (existsSync(path + suffix) ? statSync(path + suffix).size : 0), 0),
    dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** @param {string} url @param {string} label @returns {Promise<Backend>} */
async function postgresBackend(url, label) {
  const dataDir = mkdtempSync(join(tmpdir(), `xmtp-bench-store-pg-${label}-`));
  const schema = `xmtp_bench_${label}_${process.pid}`;
  const withSchema = `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`;
  const { default: pg } = await import("pg");
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const config = { ...defaultConfig({ dataDir }), storage: /** @type {const} */ ({ kind: "postgres", url: withSchema }) };
  return {
    name: "PostgreSQL",
    dataDir,
    open: () => openConfiguredStore(/** @type {import("@xmtp-ts/node").NodeConfig} */ (config)),
    diskBytes: async () => {
      const result = await admin.query(
        `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      return Number(result.rows[0].bytes ?? 0);
    },
    bufferAccesses: async () => {
      const result = await admin.query(
        `SELECT sum(heap_blks_hit + heap_blks_read + coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0) + coalesce(toast_blks_hit, 0)
                   + coalesce(toast_blks_read, 0) + coalesce(tidx_blks_hit, 0) + coalesce(tidx_blks_read, 0))::bigint AS accesses
           FROM pg_statio_user_tables WHERE schemaname = $1`,
        [schema],
      );
      return Number(result.rows[0].accesses ?? 0);
    },
    dispose: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** @param {Store} store @param {number} count */
async function fill(store, count) {
  const started = performance.now();
  let batch = [];
  let messageBytes = 0;
  /** @type {Map<string, number>} */
  const perTopic = new Map();
  let lastReport = started;
  let done = 0;
  for (const envelope of traffic(count)) {
    batch.push(envelope);
    messageBytes += envelope.message.length;
    perTopic.set(envelope.contentTopic, (perTopic.get(envelope.contentTopic) ?? 0) + 1);
    if (batch.length === FILL_BATCH) {
      await store.append(batch, undefined, { durable: false });
      done += batch.length;
      batch = [];
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        process.stderr.write(`  filled ${done.toLocaleString("en-US")} of ${count.toLocaleString("en-US")}\n`);
      }
    }
  }
  if (batch.length > 0) await store.append(batch);
  await store.flushCommitted();
  return { seconds: (performance.now() - started) / 1000, messageBytes, perTopic };
}

/** @param {number[]} samples */
const p = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
};

/**
 * The queries of a latency pass, drawn once per store so that every pass asks the same, QUERIES of each kind at
 * every size (a p99 over a few dozen samples is only their maximum): first pages of topics drawn uniformly; pages
 * in the middle of topics holding 300 envelopes or more, each starting at a position drawn uniformly from the middle
 * half of its topic, with the cursor of the envelope before it (found by paging, not timed). A small store has few
 * such topics, so its middle pages repeat more often than a big store's.
 * @param {Store} store @param {Map<string, number>} perTopic
 */
async function queryPlan(store, perTopic) {
  const next = random(7);
  const topics = [...perTopic.keys()];
  const deep = topics.filter((topic) => (perTopic.get(topic) ?? 0) >= 300);
  const first = Array.from({ length: QUERIES }, () => topics[Math.floor(next() * topics.length)]);
  const middle = [];
  for (let i = 0; i < (deep.length > 0 ? QUERIES : 0); i++) {
    const topic = deep[Math.floor(next() * deep.length)];
    const count = perTopic.get(topic) ?? 0;
    const start = Math.floor(count / 4 + next() * (count / 2));
    /** @type {import("@xmtp-ts/node").IndexCursor | undefined} */
    let cursor;
    for (let taken = 0; taken < start; ) {
      const limit = Math.min(1_000, start - taken);
      const page = await store.query({ topic, limit, direction: "ascending", cursor });
      cursor = page.cursor;
      taken += limit;
      if (!cursor) break;
    }
    middle.push({ topic, cursor });
  }
  return { first, middle };
}

/**
 * Latency of each query of the plan, and the bytes this thread had read from the storage device meanwhile (SQLite
 * queries run on it; PostgreSQL's reads happen in its server, so there they stay 0).
 * @param {Store} store @param {Awaited<ReturnType<typeof queryPlan>>} plan
 */
async function queryLatencies(store, plan) {
  /** @param {() => Promise<unknown>} query @param {{ ms: number[], deviceBytes: number[] }} into */
  const timed = async (query, into) => {
    const bytesBefore = deviceBytesReadByThisThread() ?? 0;
    const t = performance.now();
    await query();
    into.ms.push(performance.now() - t);
    into.deviceBytes.push((deviceBytesReadByThisThread() ?? 0) - bytesBefore);
  };
  const first = { ms: /** @type {number[]} */ ([]), deviceBytes: /** @type {number[]} */ ([]) };
  for (const topic of plan.first) await timed(() => store.query({ topic, limit: 100, direction: "descending" }), first);
  const middle = { ms: /** @type {number[]} */ ([]), deviceBytes: /** @type {number[]} */ ([]) };
  for (const { topic, cursor } of plan.middle) await timed(() => store.query({ topic, limit: 100, direction: "ascending", cursor }), middle);
  const summary = (/** @type {{ ms: number[], deviceBytes: number[] }} */ kind) =>
    kind.ms.length > 0 ? { ...p(kind.ms), deviceKiB: mean(kind.deviceBytes) / 1024 } : { p50: NaN, p99: NaN, deviceKiB: NaN };
  return { first: summary(first), middle: summary(middle) };
}

const mean = (/** @type {number[]} */ values) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * PostgreSQL's buffer accesses per envelope a query of the plan returned (hits and reads of the schema's tables,
 * indexes and TOAST, from pg_statio_user_tables): the pages the store touches for it, whatever is in memory. Per
 * envelope, because a first page at the big size returns more envelopes (its topics hold more). Statistics reach
 * the view when a server process goes idle, within 10 s, hence the waits. Run after the latency pass.
 * @param {Store} store @param {Awaited<ReturnType<typeof queryPlan>>} plan @param {() => Promise<number>} bufferAccesses
 */
async function buffersPerEnvelope(store, plan, bufferAccesses) {
  const STATS_SETTLE_MS = 11_000;
  /** @param {Array<() => Promise<{ envelopes: unknown[] }>>} queries */
  const perEnvelope = async (queries) => {
    await sleep(STATS_SETTLE_MS);
    const before = await bufferAccesses();
    let envelopes = 0;
    for (const query of queries) envelopes += (await query()).envelopes.length;
    await sleep(STATS_SETTLE_MS);
    return envelopes > 0 ? ((await bufferAccesses()) - before) / envelopes : NaN;
  };
  return {
    first: await perEnvelope(plan.first.map((topic) => () => store.query({ topic, limit: 100, direction: "descending" }))),
    middle: await perEnvelope(plan.middle.map(({ topic, cursor }) => () => store.query({ topic, limit: 100, direction: "ascending", cursor }))),
  };
}

/**
 * Reads a store's files once from start to end, so that the page cache holds them (when memory allows): the queries
 * after it show what the store costs with its data in memory, as a machine with memory to spare would serve it.
 * @param {string[]} paths
 */
function readThrough(paths) {
  const buffer = Buffer.allocUnsafe(8 << 20);
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const fd = openSync(path, "r");
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** One durable envelope per append, back to back, for PUBLISH_MS: what a node does per publish. @param {Store} store */
async function publishLoop(store, label = "") {
  const latencies = [];
  const until = performance.now() + PUBLISH_MS;
  let i = 0;
  while (performance.now() < until) {
    const envelope = withDigest({
      contentTopic: `/xmtp/0/m-bench-publish-${label}-${i % 50}/proto`,
      timestampNs: BigInt(Date.now()) * 1_000_000n + BigInt(i++),
      message: new Uint8Array(300).fill(i & 0xff),
    });
    const t = performance.now();
    await store.append([envelope]);
    latencies.push(performance.now() - t);
  }
  return { rate: latencies.length / (PUBLISH_MS / 1000), ...p(latencies) };
}

const ms = (/** @type {number} */ value) => (Number.isFinite(value) ? value.toFixed(2) : "-");
const kib = (/** @type {number} */ value) => (Number.isFinite(value) ? value.toFixed(1) : "-");
const ratio = (/** @type {number} */ a, /** @type {number} */ b) => (b > 0 && Number.isFinite(a / b) ? (a / b).toFixed(2) + "x" : "-");

/**
 * A child process run to its end, with its wall time and CPU time (from /proc, read until it exits: the last
 * 50 ms may be missed, a few percent of runs that last seconds).
 * @param {string[]} args
 */
async function timedCommand(args) {
  const started = performance.now();
  const child = spawn(process.execPath, [nodeMainPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  let cpu = 0;
  const poll = setInterval(() => (cpu = cpuSecondsOf(child.pid) ?? cpu), 50);
  const code = await new Promise((resolve) => child.once("exit", resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`xmtp-node ${args.join(" ")} exited ${code}:\n${output}`);
  return { seconds: (performance.now() - started) / 1000, cpu, output };
}

/**
 * Bootstrap of a new node from the big store: a node serves it (S); a snapshot is taken while S runs and restored
 * into a new data directory, once per format (database pages, records); S then stores a tail of new envelopes, and
 * each restored node started with S as its peer catches up that tail (only that: the snapshot set its position).
 * Against a node started empty with S as its peer, pulling everything through the sync protocol. Wall time and the
 * CPU time of every process involved; for create also what S spent meanwhile.
 * @param {string} dataDir
 */
async function bootstrapComparison(dataDir) {
  const nodeArgs = (/** @type {string} */ dir, /** @type {string[]} */ extra = []) => [
    "--host", "127.0.0.1", "--port", "0", "--data-dir", dir, "--rate-limits", "off", "--p2p-host", "127.0.0.1", "--p2p-port", "0", ...extra,
  ];
  /** @type {import("./support.js").RunningServer[]} */
  const servers = [];
  try {
    const source = await startServer("source", nodeMainPath, nodeArgs(dataDir));
    servers.push(source);
    await until(() => source.logs.some((l) => l.includes('"msg":"relay listening"')), "the source's relay", 20_000);
    const { multiaddr } = relayInfo(source);
    /** @type {Record<string, any>} */
    const formats = {};
    let count = 0;
    for (const format of ["pages", "records"]) {
      const snapshot = join(dataDir, `bootstrap-${format}.snapshot`);
      process.stderr.write(`  snapshot create --format ${format} beside the running source\n`);
      const sourceCpuBeforeCreate = cpuSecondsOf(source.pid) ?? 0;
      const create = {
        ...(await timedCommand(["snapshot", "create", "--quiet", "--format", format, "--data-dir", dataDir, "--out", snapshot])),
        sourceCpu: 0,
      };
      create.sourceCpu = (cpuSecondsOf(source.pid) ?? 0) - sourceCpuBeforeCreate;
      count = Number(/written to .*?: ([\d,]+) envelopes/.exec(create.output)?.[1].replace(/,/g, ""));
      process.stderr.write(`  snapshot restore (${format}) of ${count.toLocaleString("en-US")} envelopes\n`);
      const restoredDir = join(dataDir, `restored-${format}`);
      const restore = await timedCommand(["snapshot", "restore", snapshot, "--quiet", "--data-dir", restoredDir]);
      formats[format] = { snapshotBytes: statSync(snapshot).size, create, restore, restoredDir };
      rmSync(snapshot, { force: true });
    }
    // The tail: what the source stored after the snapshot, published through its API while nobody else runs.
    const tailCount = Math.min(10_000, Math.max(1_000, Math.round(count / 100)));
    const headers = { authorization: `Bearer ${await makeToken()}` };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    for (let sent = 0; sent < tailCount; sent += 100) {
      const envelopes = Array.from({ length: Math.min(100, tailCount - sent) }, (_, i) => ({
        contentTopic: `/xmtp/0/m-bench-tail-${(sent + i) % 97}/proto`,
        timestampNs: String(BigInt(Date.now()) * 1_000_000n + BigInt(sent + i)),
        message: randomBytes(300).toString("base64"),
      }));
      const { status, body } = await post(agent, source.url, "/message/v1/publish", JSON.stringify({ envelopes }), headers);
      if (status !== 200) throw new Error(`publish at the source answered HTTP ${status}: ${body.slice(0, 200)}`);
    }
    agent.destroy();
    /** The envelopes a node's "caught up from peer" lines say it received. */
    const received = (/** @type {import("./support.js").RunningServer} */ server) =>
      server.logs.filter((l) => l.includes('"msg":"caught up from peer"')).reduce((total, l) => total + JSON.parse(l).received, 0);
    for (const format of Object.keys(formats)) {
      const sourceCpuBeforeTail = cpuSecondsOf(source.pid) ?? 0;
      const started = performance.now();
      const restored = await startServer(`restored-${format}`, nodeMainPath, nodeArgs(formats[format].restoredDir, ["--peer", multiaddr]));
      servers.push(restored);
      await until(() => received(restored) >= tailCount, "the restored node's catch-up of the tail", 120_000);
      formats[format].tail = { count: tailCount, seconds: (performance.now() - started) / 1000, cpu: (cpuSecondsOf(restored.pid) ?? 0) + (cpuSecondsOf(source.pid) ?? 0) - sourceCpuBeforeTail };
      // Nothing more than the tail: the snapshot set its catch-up position at the snapshot's head.
      if (received(restored) !== tailCount) throw new Error(`the ${format} restored node pulled ${received(restored)} envelopes, not the tail of ${tailCount}`);
      await restored.stop();
      // Nothing missing, nothing twice: the restored store holds exactly the snapshot and the tail (digests are unique).
      const db = new Database(join(formats[format].restoredDir, "xmtp.sqlite3"), { readonly: true });
      const stored = db.prepare("SELECT count(*) FROM envelopes").pluck().get();
      db.close();
      if (stored !== count + tailCount) throw new Error(`the ${format} restored node holds ${stored} envelopes, not ${count + tailCount}`);
      rmSync(formats[format].restoredDir, { recursive: true, force: true });
    }
    process.stderr.write(`  catch-up of ${count.toLocaleString("en-US")} envelopes by an empty node\n`);
    const sourceCpuBefore = cpuSecondsOf(source.pid) ?? 0;
    const started = performance.now();
    const empty = await startServer("empty", nodeMainPath, nodeArgs(join(dataDir, "empty"), ["--peer", multiaddr]));
    servers.push(empty);
    await until(async () => (await envelopesStored(empty.url)) >= count + tailCount, "the empty node's catch-up", 30 * 60_000);
    const catchUp = { seconds: (performance.now() - started) / 1000, cpu: (cpuSecondsOf(empty.pid) ?? 0) + (cpuSecondsOf(source.pid) ?? 0) - sourceCpuBefore };
    return { count, formats, catchUp };
  } finally {
    for (const server of servers) await server.stop();
  }
}

/** @param {(label: string) => Promise<Backend>} makeBackend */
async function benchBackend(makeBackend) {
  /** @type {Record<string, any>} */
  const results = {};
  for (const [label, size] of /** @type {const} */ ([["baseline", BASELINE], ["big", BIG]])) {
    const backend = await makeBackend(label);
    let store = await backend.open();
    try {
      process.stderr.write(`${backend.name}: filling ${size.toLocaleString("en-US")} envelopes\n`);
      const filled = await fill(store, size);
      const disk = await backend.diskBytes();
      const plan = await queryPlan(store, filled.perTopic);
      // Not needed any more: a map of every topic (250,000 at 10M) in this process's heap would lengthen each
      // full garbage collection during the timed queries, at the big size only.
      filled.perTopic.clear();
      const queries = await queryLatencies(store, plan);
      const buffers = backend.bufferAccesses ? await buffersPerEnvelope(store, plan, backend.bufferAccesses) : undefined;
      let uncachedQueries;
      let warmQueries;
      if (backend.openUncached) {
        await store.close();
        store = await backend.openUncached();
        uncachedQueries = await queryLatencies(store, plan);
        // Again with the files read through first, when they fit in the memory available now with 2 GiB to spare.
        if (backend.files && disk < freemem() - 2 ** 31) {
          readThrough(backend.files);
          warmQueries = await queryLatencies(store, plan);
        }
        await store.close();
        store = await backend.open();
      }
      const publish = await publishLoop(store, label);
      /** @type {Record<string, any>} */
      const result = { name: backend.name, size, filled, disk, queries, buffers, uncachedQueries, warmQueries, publish };
      if (label === "big") {
        // The node's pruner (its default batch and duty cycle) deleting the oldest fifth of the v2 messages while a
        // publisher runs; its rate is what it deleted in that time, pauses included.
        let pruned = 0;
        const pruner = new RetentionPruner({
          store,
          policy: parseRetentionPolicy(`v2-messages=${(HISTORY_DAYS * 4n) / 5n}d`),
          clock: { nowNs: () => BigInt(Date.now()) * 1_000_000n },
          onPruned: (_topicClass, batch) => void (pruned += batch.envelopes),
        });
        const pruneStarted = performance.now();
        const pass = pruner.runPass();
        result.publishWhilePruning = await publishLoop(store, "pruning");
        await pruner.close();
        await pass;
        const pruneSeconds = (performance.now() - pruneStarted) / 1000;
        result.pruner = { pruned, rate: pruned / pruneSeconds };
        if (backend.name === "SQLite" && BOOTSTRAP) {
          await store.close();
          result.bootstrap = await bootstrapComparison(backend.dataDir);
        }
      }
      results[label] = result;
    } finally {
      await store.close().catch(() => undefined);
      await backend.dispose();
    }
  }
  return results;
}

const backends = [
  ...(SQLITE ? [sqliteBackend] : []),
  ...(POSTGRES_URL ? [(/** @type {string} */ label) => postgresBackend(POSTGRES_URL, label)] : []),
];
for (const makeBackend of backends) {
  const { baseline, big } = await benchBackend(makeBackend);
  const perEnvelope = (/** @type {any} */ r) => r.disk / r.size;
  const messageAverage = (/** @type {any} */ r) => r.filled.messageBytes / r.size;
  console.log(`\n${big.name}: ${BASELINE.toLocaleString("en-US")} vs ${BIG.toLocaleString("en-US")} envelopes (same run)`);
  printTable(
    ["measure", "baseline", "big", "big / baseline", "target"],
    [
      ["fill, envelopes/s", Math.round(baseline.size / baseline.filled.seconds), Math.round(big.size / big.filled.seconds), ratio(big.size / big.filled.seconds, baseline.size / baseline.filled.seconds), ""],
      ["query first page p50 ms", ms(baseline.queries.first.p50), ms(big.queries.first.p50), ratio(big.queries.first.p50, baseline.queries.first.p50), ""],
      ["query first page p99 ms", ms(baseline.queries.first.p99), ms(big.queries.first.p99), ratio(big.queries.first.p99, baseline.queries.first.p99), "<= 2x"],
      ["query middle page p50 ms", ms(baseline.queries.middle.p50), ms(big.queries.middle.p50), ratio(big.queries.middle.p50, baseline.queries.middle.p50), ""],
      ["query middle page p99 ms", ms(baseline.queries.middle.p99), ms(big.queries.middle.p99), ratio(big.queries.middle.p99, baseline.queries.middle.p99), "<= 2x"],
      ...(big.uncachedQueries
        ? [
            ["query first page p50 ms, no read cache", ms(baseline.uncachedQueries.first.p50), ms(big.uncachedQueries.first.p50), ratio(big.uncachedQueries.first.p50, baseline.uncachedQueries.first.p50), ""],
            ["query first page p99 ms, no read cache", ms(baseline.uncachedQueries.first.p99), ms(big.uncachedQueries.first.p99), ratio(big.uncachedQueries.first.p99, baseline.uncachedQueries.first.p99), "<= 2x"],
            ["query middle page p50 ms, no read cache", ms(baseline.uncachedQueries.middle.p50), ms(big.uncachedQueries.middle.p50), ratio(big.uncachedQueries.middle.p50, baseline.uncachedQueries.middle.p50), ""],
            ["query middle page p99 ms, no read cache", ms(baseline.uncachedQueries.middle.p99), ms(big.uncachedQueries.middle.p99), ratio(big.uncachedQueries.middle.p99, baseline.uncachedQueries.middle.p99), "<= 2x"],
            ["KiB read from the disk per query, first page", kib(baseline.uncachedQueries.first.deviceKiB), kib(big.uncachedQueries.first.deviceKiB), "", ""],
            ["KiB read from the disk per query, middle page", kib(baseline.uncachedQueries.middle.deviceKiB), kib(big.uncachedQueries.middle.deviceKiB), "", ""],
          ]
        : []),
      ...(big.warmQueries && baseline.warmQueries
        ? [
            ["query first page p99 ms, no read cache, files read first", ms(baseline.warmQueries.first.p99), ms(big.warmQueries.first.p99), ratio(big.warmQueries.first.p99, baseline.warmQueries.first.p99), ""],
            ["query middle page p99 ms, no read cache, files read first", ms(baseline.warmQueries.middle.p99), ms(big.warmQueries.middle.p99), ratio(big.warmQueries.middle.p99, baseline.warmQueries.middle.p99), ""],
            ["KiB read from the disk per query, middle page, files read first", kib(baseline.warmQueries.middle.deviceKiB), kib(big.warmQueries.middle.deviceKiB), "", ""],
          ]
        : big.uncachedQueries
          ? [["(files read first: skipped, the big store does not fit in available memory with 2 GiB to spare)", "", "", "", ""]]
          : []),
      ...(big.buffers && baseline.buffers
        ? [
            ["buffers touched per envelope returned, first page", baseline.buffers.first.toFixed(2), big.buffers.first.toFixed(2), ratio(big.buffers.first, baseline.buffers.first), ""],
            ["buffers touched per envelope returned, middle page", baseline.buffers.middle.toFixed(2), big.buffers.middle.toFixed(2), ratio(big.buffers.middle, baseline.buffers.middle), ""],
          ]
        : []),
      ["publish, envelopes/s", Math.round(baseline.publish.rate), Math.round(big.publish.rate), ratio(big.publish.rate, baseline.publish.rate), ""],
      ["publish p99 ms", ms(baseline.publish.p99), ms(big.publish.p99), ratio(big.publish.p99, baseline.publish.p99), ""],
      ["disk bytes per envelope", Math.round(perEnvelope(baseline)), Math.round(perEnvelope(big)), "", `<= ${Math.round(1.5 * messageAverage(big) + 150)} (1.5 x ${Math.round(messageAverage(big))} + 150)`],
    ],
  );
  console.log(`\n${big.name}: the pruner on the big store`);
  printTable(
    ["measure", "value", "target"],
    [
      ["pruned while publishing (oldest fifth of v2 messages due)", big.pruner.pruned.toLocaleString("en-US"), ""],
      ["pruner, envelopes/s (pauses included)", Math.round(big.pruner.rate).toLocaleString("en-US"), ""],
      ["publish while pruning / publish alone", ratio(big.publishWhilePruning.rate, big.publish.rate), ">= 0.8x"],
      ["publish p99 while pruning, ms", ms(big.publishWhilePruning.p99), ""],
    ],
  );
  if (big.bootstrap) {
    const { count, formats, catchUp } = big.bootstrap;
    const perEnvelopeMicros = (/** @type {number} */ seconds) => ((seconds / count) * 1e6).toFixed(1);
    const rate = (/** @type {number} */ seconds) => Math.round(count / seconds).toLocaleString("en-US");
    console.log(`\n${big.name}: bootstrap of a new node holding ${count.toLocaleString("en-US")} envelopes (same run)`);
    /** @type {any[][]} */
    const rows = [];
    for (const [format, { create, restore, tail }] of Object.entries(formats)) {
      const fromSnapshot = { seconds: restore.seconds + tail.seconds, cpu: restore.cpu + tail.cpu };
      rows.push(
        [`${format}: snapshot create, beside the running source (source's CPU meanwhile ${create.sourceCpu.toFixed(1)} s)`, create.seconds.toFixed(1), create.cpu.toFixed(1), rate(create.seconds), perEnvelopeMicros(create.cpu)],
        [`${format}: snapshot restore (a new SQLite file)`, restore.seconds.toFixed(1), restore.cpu.toFixed(1), rate(restore.seconds), perEnvelopeMicros(restore.cpu)],
        [`${format}: restored node, start and catch up the tail (${tail.count.toLocaleString("en-US")} published since the snapshot)`, tail.seconds.toFixed(1), tail.cpu.toFixed(1), "", ""],
        [`${format}: from snapshot, restore + start and sync`, fromSnapshot.seconds.toFixed(1), fromSnapshot.cpu.toFixed(1), rate(fromSnapshot.seconds), perEnvelopeMicros(fromSnapshot.cpu)],
      );
      formats[format].fromSnapshot = fromSnapshot;
    }
    rows.push([`catch-up alone: an empty node pulls all ${(count + formats.pages.tail.count).toLocaleString("en-US")} (both nodes' CPU)`, catchUp.seconds.toFixed(1), catchUp.cpu.toFixed(1), rate(catchUp.seconds), perEnvelopeMicros(catchUp.cpu)]);
    printTable(["measure", "wall s", "CPU s", "envelopes/s", "CPU µs per envelope"], rows);
    for (const [format, { snapshotBytes, fromSnapshot }] of Object.entries(formats)) {
      console.log(
        `${format}: snapshot file ${Math.round(snapshotBytes / count)} bytes per envelope; from snapshot vs catch-up alone: ` +
          `${ratio(catchUp.seconds, fromSnapshot.seconds)} faster (target >= 10x), ${ratio(catchUp.cpu, fromSnapshot.cpu)} less CPU`,
      );
    }
  }
}
