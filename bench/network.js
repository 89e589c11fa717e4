// `node bench/network.js` (after `npm run build`): the relay between three nodes in a line A - B - C.
//
//  1. relay throughput: closed-loop publishing at A (1 envelope of 256 bytes per request, several keep-alive
//     connections); the rate at which those envelopes are stored and streamed at C, as a ratio of the publish
//     throughput of a single node (relay off) measured the same way in the same run. Target >= 0.5x.
//  2. propagation latency: publishing at A at a steady rate; time from sending the publish request at A to
//     receiving the envelope on a subscribe stream at C (stored at C first). Target p99 <= 100 ms.
//  3. catch-up: C is stopped, A receives N envelopes, C restarts and pulls them over the sync protocol from B;
//     envelopes per second as timed by C (its "caught up from peer" log line) and end to end from C's restart.
//
// Every node is a child process on 127.0.0.1 with its own temporary data dir and SQLite, rate limits off; this
// process only generates load. Exit status is non-zero only if the benchmark itself fails.
// The machine is shared, so throughput rounds alternate between the baseline and the relay (BENCH_ROUNDS each) and
// the best round of each is compared; every round's figure is printed too. Each round also reports every node's CPU
// time per envelope (from /proc), which depends far less on the other processes of the machine than throughput.
// Options: --only throughput,latency,catchup (default all); --cpu-prof (profile every node with V8's sampling
// profiler and print where each one spent its time; the .cpuprofile files are kept and their directory printed).
// Environment: BENCH_CONNECTIONS (16), BENCH_ROUND_MS (3000), BENCH_ROUNDS (3), BENCH_LATENCY_MESSAGES (500),
// BENCH_LATENCY_RATE (100/s), BENCH_CATCHUP_ENVELOPES (20000), BENCH_NODE_MAIN (another build of the node's
// main.js), BENCH_NODE_ARGS (extra xmtp-node flags for every node, e.g. "--sqlite-sync normal"), BENCH_NODE_FLAGS
// (extra Node.js flags for every node), BENCH_SYSCALLS=1 (print each node's read/write system calls per envelope,
// from /proc), BENCH_PRINT_LOGS=TEXT (print the nodes' log lines containing TEXT at the end).
// Publishing uses a bare-socket HTTP client (RawHttpConnection): the nodes share the machine's cores with this
// process, and Node's http client would take as much CPU per request as a relay hop.
import http from "node:http";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import {
  closedLoop,
  cpuSecondsOf,
  envelopesStored,
  formatRate,
  intFromEnv,
  makeToken,
  nodeMainPath,
  percentile,
  post,
  printTable,
  relayInfo,
  sleep,
  startServer,
  syscallsOf,
  until,
} from "./support.js";
import { summarizeProfile } from "./profileSummary.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nodeMain = nodeMainPath;
const extraNodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

const argv = process.argv.slice(2);
const profiling = argv.includes("--cpu-prof");
const onlyIndex = argv.indexOf("--only");
const PARTS = ["throughput", "latency", "catchup"];
const selected = new Set(onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? "").split(",") : PARTS);
for (const part of selected) {
  if (!PARTS.includes(part)) throw new Error(`--only takes a comma-separated list of ${PARTS.join(", ")}; got ${JSON.stringify(part)}`);
}

const settings = {
  connections: intFromEnv("BENCH_CONNECTIONS", 16),
  roundMs: intFromEnv("BENCH_ROUND_MS", 3_000),
  rounds: intFromEnv("BENCH_ROUNDS", 3),
  messageBytes: 256,
  latencyMessages: intFromEnv("BENCH_LATENCY_MESSAGES", 500),
  latencyRate: intFromEnv("BENCH_LATENCY_RATE", 100),
  catchUpEnvelopes: intFromEnv("BENCH_CATCHUP_ENVELOPES", 20_000),
  catchUpBatch: 50,
};
const targets = { relayRatio: 0.5, latencyP99Ms: 100 };

/** @typedef {import("./support.js").RunningServer} RunningServer */
/** @typedef {import("./support.js").JsonEnvelope} JsonEnvelope */

const conversationTopic = () => `/xmtp/0/m-${randomBytes(32).toString("hex")}/proto`;

/**
 * Envelope factory: the first 4 bytes of each message carry its index, so a receiver knows which one arrived.
 * @param {string} topic
 * @returns {() => { index: number; envelope: JsonEnvelope }}
 */
function envelopeMaker(topic) {
  let index = 0;
  return () => {
    const message = randomBytes(settings.messageBytes);
    message.writeUInt32BE(index, 0);
    const envelope = {
      contentTopic: topic,
      timestampNs: String(BigInt(Date.now()) * 1_000_000n + BigInt(index % 1_000_000)),
      message: message.toString("base64"),
    };
    return { index: index++, envelope };
  };
}

const indexOf = (/** @type {string} */ base64) => Buffer.from(base64, "base64").readUInt32BE(0);

/**
 * A subscribe stream; calls onEnvelope(envelope, arrivalTime) for each delivered envelope. With `parse: false` the
 * envelope is not decoded (onEnvelope gets undefined): counting arrivals then costs this process next to nothing,
 * which matters because it shares the cores with the nodes being measured.
 * @param {string} url
 * @param {string[]} topics
 * @param {(envelope: JsonEnvelope | undefined, arrivalTime: number) => void} onEnvelope
 * @param {{ parse?: boolean }} [options]
 * @returns {Promise<{ close: () => void }>}
 */
function subscribe(url, topics, onEnvelope, { parse = true } = {}) {
  return new Promise((resolveStream, reject) => {
    const body = JSON.stringify({ contentTopics: topics });
    const request = http.request(`${url}/message/v1/subscribe`, { method: "POST", headers: { "content-length": Buffer.byteLength(body) } });
    request.on("response", (response) => {
      if (response.statusCode !== 200) return reject(new Error(`subscribe answered HTTP ${response.statusCode}`));
      let buffered = "";
      response.on("data", (chunk) => {
        const now = performance.now();
        buffered += chunk.toString("utf8");
        let start = 0;
        let newline;
        while ((newline = buffered.indexOf("\n", start)) >= 0) {
          if (parse) {
            const result = JSON.parse(buffered.slice(start, newline)).result;
            if (result?.message) onEnvelope(result, now);
          } else {
            // Keep-alive lines carry no envelope; every other line is one envelope.
            const at = buffered.indexOf('"message"', start);
            if (at >= 0 && at < newline) onEnvelope(undefined, now);
          }
          start = newline + 1;
        }
        buffered = buffered.slice(start);
      });
      response.on("error", () => {});
      resolveStream({ close: () => request.destroy() });
    });
    request.on("error", (/** @type {NodeJS.ErrnoException} */ error) => (error.code === "ECONNRESET" ? undefined : reject(error)));
    request.end(body);
  });
}

/** @param {string} url */
async function meanAppendLatencyMs(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = /^xmtp_storage_latency_seconds_sum\{operation="append"\} (\S+)/m.exec(text);
  const count = /^xmtp_storage_latency_seconds_count\{operation="append"\} (\d+)/m.exec(text);
  if (!sum || !count) throw new Error(`no append latency in ${url}/metrics`);
  return (Number(sum[1]) / Number(count[1])) * 1000;
}

const nodeArgs = (/** @type {string} */ dataDir, /** @type {string[]} */ extra = []) => [
  "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--rate-limits", "off", ...extra, ...extraNodeArgs,
];
const relayArgs = (/** @type {string[]} */ peers, port = 0) => ["--p2p-host", "127.0.0.1", "--p2p-port", String(port), ...peers.flatMap((p) => ["--peer", p])];

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "relay-bench-"));
  // Outside dataDir, which is deleted at the end: the profiles are kept for a closer look.
  const profileRoot = profiling ? mkdtempSync(join(tmpdir(), "relay-bench-profiles-")) : undefined;
  /** @type {RunningServer[]} */
  const servers = [];
  const start = async (/** @type {string} */ name, /** @type {string[]} */ args) => {
    let nodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
    if (profileRoot) {
      const profileDir = join(profileRoot, name.replace(/[^A-Za-z0-9]+/g, "-"));
      mkdirSync(profileDir, { recursive: true });
      nodeFlags = [...nodeFlags, "--cpu-prof", `--cpu-prof-dir=${profileDir}`];
    }
    const server = await startServer(name, nodeMain, args, { nodeFlags });
    servers.push(server);
    return server;
  };
  const onSignal = () => {
    for (const server of servers) server.kill();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  /** @type {string[][]} */
  const rows = [];
  /**
   * What the run prints as JSON at the end, in the order measured.
   * @type {{
   *   relayRatio?: number;
   *   cpuMicrosPerEnvelope?: { single: number; a: number; b: number; c: number };
   *   appendLatencyMs?: Record<string, number>;
   *   latencyP99Ms?: number;
   *   steadyCpuMicrosPerEnvelope?: { a: number; b: number; c: number };
   *   catchUpPerSecond?: number;
   *   catchUpPullPerSecond?: number;
   * }}
   */
  const summary = {};
  try {
    const token = await makeToken();
    const headers = { authorization: `Bearer ${token}` };
    const publishLoop = (/** @type {string} */ url, /** @type {string} */ topic) => {
      const next = envelopeMaker(topic);
      return closedLoop({
        url,
        path: "/message/v1/publish",
        makeBody: () => JSON.stringify({ envelopes: [next().envelope] }),
        headers,
        connections: settings.connections,
        durationMs: settings.roundMs,
        client: "raw",
      });
    };

    // The baseline (one node, relay off) and the line A - B - C run side by side; rounds alternate between them so
    // both see the same background load, and the best round of each is compared.
    const single = selected.has("throughput") ? await start("single node", nodeArgs(join(dataDir, "single"))) : undefined;
    const a = await start("A", nodeArgs(join(dataDir, "a"), relayArgs([])));
    const aInfo = relayInfo(a);
    const b = await start("B", nodeArgs(join(dataDir, "b"), relayArgs([aInfo.multiaddr])));
    const bInfo = relayInfo(b);
    const cArgs = nodeArgs(join(dataDir, "c"), relayArgs([bInfo.multiaddr]));
    let c = await start("C", cArgs);
    console.log(`nodes: ${nodeMain}${extraNodeArgs.length ? ` ${extraNodeArgs.join(" ")}` : ""}; load average ${loadavg()[0].toFixed(2)}`);

    // Wait for the gossip mesh: an envelope published at A must reach C's stream through B.
    const probeTopic = conversationTopic();
    let probed = false;
    const probe = await subscribe(c.url, [probeTopic], () => (probed = true));
    const probeMaker = envelopeMaker(probeTopic);
    await until(async () => {
      await post(new http.Agent(), a.url, "/message/v1/publish", JSON.stringify({ envelopes: [probeMaker().envelope] }), headers);
      await sleep(200);
      return probed;
    }, "the relay A - B - C to form", 30_000);
    probe.close();
    await sleep(1_500); // a few gossipsub heartbeats, so the mesh is complete, not just one path

    // 1. Relay throughput.
    /** CPU time each node spends per envelope over a round, in µs (NaN without /proc). */
    const cpuMeter = (/** @type {RunningServer[]} */ nodes) => {
      const before = nodes.map((node) => cpuSecondsOf(node.pid));
      const syscallsBefore = nodes.map((node) => syscallsOf(node.pid));
      const benchBefore = process.cpuUsage();
      return (/** @type {number} */ envelopes) => {
        const perNode = nodes.map((node, i) => {
          const after = cpuSecondsOf(node.pid);
          return before[i] === undefined || after === undefined ? NaN : ((after - before[i]) * 1e6) / envelopes;
        });
        const syscalls = nodes.map((node, i) => {
          const after = syscallsOf(node.pid);
          const earlier = syscallsBefore[i];
          if (!after || !earlier) return "n/a";
          const per = (/** @type {number} */ n) => (n / envelopes).toFixed(2);
          return `${per(after.reads - earlier.reads)}r/${per(after.writes - earlier.writes)}w`;
        });
        if (process.env.BENCH_SYSCALLS) console.log(`    syscalls per envelope: ${syscalls.join(", ")}`);
        const bench = process.cpuUsage(benchBefore);
        return { perNode, loadGenerator: (bench.user + bench.system) / envelopes };
      };
    };
    async function baselineRound() {
      if (!single) throw new Error("no single node: it runs only for the throughput part");
      const cpu = cpuMeter([single]);
      const published = await publishLoop(single.url, conversationTopic());
      const { perNode: [singleCpu], loadGenerator } = cpu(published.requests);
      return { perSecond: published.perSecond, cpu: singleCpu, loadGenerator };
    }
    async function relayRound() {
      const throughputTopic = conversationTopic();
      let arrivedAtC = 0;
      let lastArrival = 0;
      const stream = await subscribe(
        c.url,
        [throughputTopic],
        (_envelope, at) => {
          arrivedAtC++;
          lastArrival = at;
        },
        { parse: false },
      );
      const cpu = cpuMeter([a, b, c]);
      const loopStart = performance.now();
      const published = await publishLoop(a.url, throughputTopic);
      await until(() => arrivedAtC >= published.requests, `${published.requests} envelopes at C`, 60_000);
      const { perNode: [cpuA, cpuB, cpuC], loadGenerator } = cpu(published.requests);
      stream.close();
      return {
        publishPerSecond: published.perSecond,
        relayPerSecond: published.requests / ((lastArrival - loopStart) / 1000),
        cpu: { a: cpuA, b: cpuB, c: cpuC },
        loadGenerator,
      };
    }
    if (selected.has("throughput")) {
      if (!single) throw new Error("no single node: it runs only for the throughput part");
      // Warm-up of both paths (JIT, SQLite file growth).
      await publishLoop(single.url, conversationTopic());
      await relayRound();
      const baselineRounds = [];
      const relayRounds = [];
      for (let round = 1; round <= settings.rounds; round++) {
        const baselineResult = await baselineRound();
        const relayResult = await relayRound();
        baselineRounds.push(baselineResult);
        relayRounds.push(relayResult);
        const { a: cpuA, b: cpuB, c: cpuC } = relayResult.cpu;
        console.log(
          `  round ${round}: single ${formatRate(baselineResult.perSecond)} (${micros(baselineResult.cpu)}/env, ` +
            `load generator ${micros(baselineResult.loadGenerator)}); relay ${Math.round(relayResult.relayPerSecond)} env/s ` +
            `(A ${micros(cpuA)}, B ${micros(cpuB)}, C ${micros(cpuC)}, load generator ${micros(relayResult.loadGenerator)} ` +
            `per envelope); load average ${loadavg()[0].toFixed(2)}`,
        );
      }
      // The nodes' own append latency (commit + WAL flush): a publisher's closed loop follows it, and three nodes on
      // one disk slow each other's flushes.
      /** @type {Record<string, number>} */
      const appendLatency = {};
      /** @type {[string, RunningServer][]} */
      const appendLatencyNodes = [["single", single], ["A", a]];
      for (const [name, node] of appendLatencyNodes) appendLatency[name] = await meanAppendLatencyMs(node.url);
      await single.stop();
      const baseline = Math.max(...baselineRounds.map((r) => r.perSecond));
      const best = relayRounds.reduce((x, y) => (y.relayPerSecond > x.relayPerSecond ? y : x));
      const relayRatio = best.relayPerSecond / baseline;
      summary.relayRatio = relayRatio;
      const lowest = (/** @type {number[]} */ values) => Math.min(...values.filter(Number.isFinite));
      const cpu = {
        single: lowest(baselineRounds.map((r) => r.cpu)),
        a: lowest(relayRounds.map((r) => r.cpu.a)),
        b: lowest(relayRounds.map((r) => r.cpu.b)),
        c: lowest(relayRounds.map((r) => r.cpu.c)),
      };
      summary.cpuMicrosPerEnvelope = cpu;
      const roundsNote = (/** @type {number[]} */ values) => `rounds: ${values.map((v) => Math.round(v)).join(", ")}`;
      rows.push([
        "publish at a single node (baseline)",
        formatRate(baseline),
        "1.00x",
        `${roundsNote(baselineRounds.map((r) => r.perSecond))}; CPU ${micros(cpu.single)}/env`,
      ]);
      rows.push([
        "publish at A (relay on, B and C running)",
        formatRate(best.publishPerSecond),
        `${(best.publishPerSecond / baseline).toFixed(2)}x`,
        roundsNote(relayRounds.map((r) => r.publishPerSecond)),
      ]);
      rows.push([
        "relay throughput A → B → C (stored + streamed at C)",
        `${Math.round(best.relayPerSecond).toLocaleString("en-US")} env/s`,
        `${relayRatio.toFixed(2)}x`,
        `target ≥ ${targets.relayRatio}x ${relayRatio >= targets.relayRatio ? "met" : "MISSED"}; ${roundsNote(relayRounds.map((r) => r.relayPerSecond))}`,
      ]);
      summary.appendLatencyMs = appendLatency;
      rows.push([
        "store append latency, mean over the run (single / A)",
        `${appendLatency.single.toFixed(2)} ms / ${appendLatency.A.toFixed(2)} ms`,
        "",
        "commit + WAL fdatasync, from each node's xmtp_storage_latency_seconds",
      ]);
      rows.push([
        "CPU per envelope, lowest round (A / B / C)",
        `${micros(cpu.a)} / ${micros(cpu.b)} / ${micros(cpu.c)}`,
        `${(cpu.a / cpu.single).toFixed(2)}x / ${(cpu.b / cpu.single).toFixed(2)}x / ${(cpu.c / cpu.single).toFixed(2)}x`,
        "vs the single node's CPU per publish",
      ]);
    }

    // 2. Propagation latency at a steady rate.
    if (selected.has("latency")) {
      const latencyTopic = conversationTopic();
      /** @type {Map<number, number>} */
      const sentAt = new Map();
      /** @type {number[]} */
      const latencies = [];
      const latencyStream = await subscribe(c.url, [latencyTopic], (envelope, at) => {
        if (!envelope) return; // parsed, so never: a stream with `parse: false` passes none
        const sent = sentAt.get(indexOf(envelope.message));
        if (sent !== undefined) latencies.push(at - sent);
      });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
      const makeLatency = envelopeMaker(latencyTopic);
      const intervalMs = 1000 / settings.latencyRate;
      const latencyCpu = cpuMeter([a, b, c]);
      const latencyStart = performance.now();
      /** @type {Promise<void>[]} */
      const inFlight = [];
      for (let i = 0; i < settings.latencyMessages; i++) {
        const due = latencyStart + i * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const { index, envelope } = makeLatency();
        sentAt.set(index, performance.now());
        inFlight.push(
          post(agent, a.url, "/message/v1/publish", JSON.stringify({ envelopes: [envelope] }), headers).then(({ status, body }) => {
            if (status !== 200) throw new Error(`publish at A answered HTTP ${status}: ${body.slice(0, 200)}`);
          }),
        );
      }
      await Promise.all(inFlight);
      await until(() => latencies.length >= settings.latencyMessages, "every latency probe at C", 30_000);
      const {
        perNode: [steadyA, steadyB, steadyC],
      } = latencyCpu(settings.latencyMessages);
      latencyStream.close();
      agent.destroy();
      latencies.sort((x, y) => x - y);
      const p50 = percentile(latencies, 0.5);
      const p99 = percentile(latencies, 0.99);
      summary.latencyP99Ms = p99;
      rows.push([
        `propagation A → C at ${settings.latencyRate}/s (${latencies.length} envelopes)`,
        `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
        "",
        `p99 ≤ ${targets.latencyP99Ms} ms ${p99 <= targets.latencyP99Ms ? "met" : "MISSED"}`,
      ]);
      summary.steadyCpuMicrosPerEnvelope = { a: steadyA, b: steadyB, c: steadyC };
      rows.push([
        `CPU per envelope at that rate (A / B / C)`,
        `${micros(steadyA)} / ${micros(steadyB)} / ${micros(steadyC)}`,
        "",
        "A includes the HTTP publish; B relays; C stores and streams; fixed background work (heartbeats, anti-entropy) dominates at low rates",
      ]);
    }

    // 3. Catch-up after downtime.
    if (selected.has("catchup")) {
      await c.stop();
      servers.splice(servers.indexOf(c), 1);
      const storedAtBBefore = await envelopesStored(b.url);
      const catchUpMaker = envelopeMaker(conversationTopic());
      const batchAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      let sent = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (sent < settings.catchUpEnvelopes) {
            const count = Math.min(settings.catchUpBatch, settings.catchUpEnvelopes - sent);
            sent += count;
            const envelopes = Array.from({ length: count }, () => catchUpMaker().envelope);
            const { status, body } = await post(batchAgent, a.url, "/message/v1/publish", JSON.stringify({ envelopes }), headers);
            if (status !== 200) throw new Error(`publish at A answered HTTP ${status}: ${body.slice(0, 200)}`);
          }
        }),
      );
      batchAgent.destroy();
      await until(async () => (await envelopesStored(b.url)) - storedAtBBefore >= settings.catchUpEnvelopes, "B to store the backlog", 60_000);
      const restartedAt = performance.now();
      c = await start("C (restarted)", cArgs);
      await until(async () => (await envelopesStored(c.url)) >= settings.catchUpEnvelopes, "C to catch up", 120_000);
      const endToEndSeconds = (performance.now() - restartedAt) / 1000;
      await until(() => c.logs.some((l) => l.includes('"msg":"caught up from peer"')), "C's catch-up log line", 30_000);
      /** @type {{ received: number; skipped: number; durationMs: number }[]} */
      const pulls = c.logs.filter((l) => l.includes('"msg":"caught up from peer"')).map((l) => JSON.parse(l));
      const pulled = pulls.reduce(
        (total, record) => ({ received: total.received + record.received, skipped: total.skipped + record.skipped, ms: total.ms + record.durationMs }),
        { received: 0, skipped: 0, ms: 0 },
      );
      const endToEndRate = settings.catchUpEnvelopes / endToEndSeconds;
      const pullRate = pulled.received / (pulled.ms / 1000);
      summary.catchUpPerSecond = endToEndRate;
      summary.catchUpPullPerSecond = pullRate;
      rows.push([
        `catch-up of ${settings.catchUpEnvelopes.toLocaleString("en-US")} new envelopes (C restarts, pulls from B)`,
        `${Math.round(endToEndRate).toLocaleString("en-US")} env/s from restart to complete (incl. ~1 s process start)`,
        "",
        `the pull moved ${pulled.received.toLocaleString("en-US")} envelopes in ${pulled.ms} ms = ` +
          `${Math.round(pullRate).toLocaleString("en-US")} env/s (incl. those gossip had delivered since C's last pass)`,
      ]);
    }
  } finally {
    const printLogs = process.env.BENCH_PRINT_LOGS;
    if (printLogs) {
      for (const server of servers) {
        for (const line of server.logs.filter((l) => l.includes(printLogs))) console.log(`${server.name}: ${line}`);
      }
    }
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (profileRoot) printProfiles(profileRoot);

  console.log(
    `\nxmtp-ts relay benchmark — ${settings.connections} connections, ${settings.roundMs} ms rounds, ` +
      `${settings.messageBytes}-byte messages, load average ${loadavg()[0].toFixed(2)}\n`,
  );
  printTable(["measure", "figure", "vs single node", "target / notes"], rows);
  console.log("\n" + JSON.stringify({ networkBenchmark: summary }));
}

/** @param {number} value */
function micros(value) {
  return Number.isFinite(value) ? `${value.toFixed(0)} µs` : "n/a";
}

/** One summary per node: each node wrote its .cpuprofile into its own directory when it stopped. */
/** @param {string} profileRoot */
function printProfiles(profileRoot) {
  for (const name of readdirSync(profileRoot).sort()) {
    for (const file of readdirSync(join(profileRoot, name)).filter((f) => f.endsWith(".cpuprofile"))) {
      console.log(`\n=== CPU profile of ${name}: ${join(profileRoot, name, file)}`);
      summarizeProfile(join(profileRoot, name, file), { repoRoot, top: 30 });
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
