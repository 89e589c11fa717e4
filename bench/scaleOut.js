// `node bench/scaleOut.js` (after `npm run build`): what running several node instances over one PostgreSQL
// database costs per envelope (docs/scale-out.md). Two configurations are measured in one run, at the same fixed
// publish rate, each on a fresh schema of the same database, both behind HAProxy running deploy/haproxy/xmtp-node.cfg
// unmodified (balancer on the config's `bind` port, instances on its `server` ports, here 5555 and 5556..5558):
//
//   A. one instance (node1): the other servers are simply not running, HAProxy marks them DOWN and sends
//      everything to node1 (the bench waits for both DOWN lines before loading it);
//   B. every instance of the config (three): roundrobin spreads the publishes and the subscribe streams.
//
// Load, all through the balancer: publishes of one 256-byte envelope per request at a fixed total rate (open loop:
// each publish is sent at its scheduled time on an idle keep-alive connection; the achieved rate shows whether the
// schedule was held), spread over BENCH_TOPICS topics, after a warm-up at the same rate; BENCH_SUBSCRIBERS subscribe
// streams, subscriber s on every other topic (those of the parity of s), opened one after the other so roundrobin
// puts the same number on each instance. Each message carries its sequence number and the time its publish was sent
// (this process's monotonic clock), so a delivery's latency is its arrival time minus that send time.
//
// Measured per configuration, over the load window only (warm-up excluded): every subscriber must receive every
// envelope of its topics exactly once, warm-up included (missing / duplicate / unexpected deliveries are printed and
// make the exit status 1); publish → delivery latency over all deliveries; publish latency (request → 200); CPU time
// per envelope (from /proc) of each instance, of all instances, of HAProxy, of the PostgreSQL server (its postmaster
// and children, found from this bench's own backend; every database of that server counts) and of this process.
// The window ends once every publish is answered and every delivery has arrived.
//
// Needs haproxy (bash .ci/haproxy.sh installs Debian's), Linux /proc, ports 5555-5558 free, and a PostgreSQL database
// the bench may create and drop schemas in:
//
//   eval "$(bash .ci/postgres.sh)"      # as root: a throwaway server; sets XMTP_TEST_POSTGRES_URL (and _STOP)
//   node bench/scaleOut.js
//   eval "$XMTP_TEST_POSTGRES_STOP"
//
// Environment: XMTP_BENCH_POSTGRES_URL (else XMTP_TEST_POSTGRES_URL), BENCH_RATE (300 envelopes/s in all),
// BENCH_SECONDS (10, the load window), BENCH_WARMUP_SECONDS (2), BENCH_TOPICS (8), BENCH_SUBSCRIBERS (6),
// BENCH_CONNECTIONS (64 publishing connections at most), BENCH_NODE_MAIN (another build of the node's main.js),
// BENCH_HAPROXY_CONFIG (another HAProxy file, to try a variant; same layout: one bind line, the server lines),
// BENCH_NODE_ARGS (extra xmtp-node flags for every instance), BENCH_PRINT_LOGS=TEXT (print the instances' and
// HAProxy's kept log lines containing TEXT at the end of each configuration).
// The B/A ratio of CPU per envelope is what scale-out costs per envelope (every instance reads every commit); it is
// not a throughput figure: on a shared 2-core machine the cores, not the instance count, decide throughput.
import http from "node:http";
import net from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { dropSchemas, findHaproxy, startHaproxy, waitUntilReady, withPostgres } from "../test/support/haproxy.js";
import {
  cpuSecondsOf,
  intFromEnv,
  makeToken,
  nodeMainPath,
  percentile,
  printTable,
  RawHttpConnection,
  sleep,
  startServer,
} from "./support.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nodeMain = nodeMainPath;
const extraNodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
// BENCH_NODE_FLAGS: flags for Node.js itself in every instance, e.g. "--cpu-prof --cpu-prof-dir=DIR" to see where an instance spends its CPU.
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
// The operators' file, unmodified; BENCH_HAPROXY_CONFIG only to try a variant of it.
const haproxyConfigPath = process.env.BENCH_HAPROXY_CONFIG
  ? resolve(process.env.BENCH_HAPROXY_CONFIG)
  : join(repoRoot, "deploy/haproxy/xmtp-node.cfg");

const settings = {
  rate: intFromEnv("BENCH_RATE", 300),
  seconds: intFromEnv("BENCH_SECONDS", 10),
  warmupSeconds: intFromEnv("BENCH_WARMUP_SECONDS", 2),
  topics: intFromEnv("BENCH_TOPICS", 8),
  subscribers: intFromEnv("BENCH_SUBSCRIBERS", 6),
  connections: intFromEnv("BENCH_CONNECTIONS", 64),
  messageBytes: 256,
};
/** Message header: sequence number (uint32) and the publish's send time (float64, performance.now()). */
const HEADER_BYTES = 12;
/** Its base64 (12 bytes encode to 16 characters, no padding): the start of the "message" string of a stream line. */
const HEADER_BASE64_CHARS = (HEADER_BYTES / 3) * 4;
const READY_WITHIN_MS = 20_000;
/** fall 2 × inter 1s, plus a check in flight, with room for a loaded machine. */
const DOWN_WITHIN_MS = 15_000;
/** After the last publish is answered, how long deliveries may take before the missing ones are reported. */
const DELIVERY_WITHIN_MS = 15_000;
/** Publishes must all be answered within the schedule plus this (HAProxy's own server timeout is 90 s). */
const ANSWERS_WITHIN_MS = 120_000;
/** After every delivery arrived, how long to keep listening for duplicates (more than one follower poll). */
const DUPLICATE_WATCH_MS = 1_500;

/** @typedef {import("./support.js").RunningServer} RunningServer */
/** A `server` line of the HAProxy config. @typedef {{ name: string; host: string; port: number }} ServerLine */
/** @typedef {ReturnType<typeof readBalancerConfig>} BalancerConfig */
/** @typedef {ReturnType<typeof startBalancer>} Balancer */
/** @typedef {ReturnType<typeof cpuSnapshot>} CpuSnapshot */
/** @typedef {{ closed: boolean; error: string | undefined; close: () => void }} SubscriberStream */
/**
 * One subscriber of the load: the topics it asked for and what arrived of each sequence number.
 * @typedef {object} Subscriber
 * @property {number[]} topicIndexes
 * @property {Uint8Array} wanted 1 for each topic index it asked for
 * @property {number} expected
 * @property {Uint8Array} counts arrivals per sequence number (at most 255)
 * @property {number} outOfRange
 * @property {number[]} latencies
 * @property {SubscriberStream | undefined} stream
 */
/** @typedef {Awaited<ReturnType<typeof runConfiguration>>} ConfigurationResult */

// --- Prerequisites -------------------------------------------------------------------------------------------------

function postgresUrlOrExit() {
  const url = process.env.XMTP_BENCH_POSTGRES_URL || process.env.XMTP_TEST_POSTGRES_URL;
  if (url) return url;
  console.error(
    "bench/scaleOut.js needs a PostgreSQL database it may create and drop schemas in: set XMTP_BENCH_POSTGRES_URL\n" +
      "(or XMTP_TEST_POSTGRES_URL) to a postgres://user:password@host:port/database URL. To start a throwaway server\n" +
      "on this machine (as root):\n\n" +
      '  eval "$(bash .ci/postgres.sh)" && node bench/scaleOut.js; eval "$XMTP_TEST_POSTGRES_STOP"\n',
  );
  process.exit(2);
}

/**
 * The balancer's address and the server lines of the HAProxy config, which the bench uses as they are.
 * @param {string} path
 */
function readBalancerConfig(path) {
  const text = readFileSync(path, "utf8");
  const binds = [...text.matchAll(/^\s*bind\s+([^\s:]+):(\d+)/gm)];
  if (binds.length !== 1) throw new Error(`${path} must have exactly one "bind <address>:<port>" line, found ${binds.length}`);
  const servers = [...text.matchAll(/^\s*server\s+(\S+)\s+([^\s:]+):(\d+)/gm)].map((m) => /** @type {ServerLine} */ ({
    name: m[1],
    host: m[2],
    port: Number(m[3]),
  }));
  if (servers.length < 2) throw new Error(`${path} has ${servers.length} server line(s); the bench compares 1 instance with all of them`);
  return { host: binds[0][1], port: Number(binds[0][2]), servers };
}

/**
 * @param {string} host
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function portIsFree(host, port) {
  return new Promise((resolvePort) => {
    const server = net.createServer();
    server.once("error", () => resolvePort(false));
    server.listen(port, host, () => server.close(() => resolvePort(true)));
  });
}

/** @param {{ host: string; port: number }[]} endpoints */
async function busyPorts(endpoints) {
  /** @type {string[]} */
  const busy = [];
  for (const { host, port } of endpoints) if (!(await portIsFree(host, port))) busy.push(`${host}:${port}`);
  return busy;
}

// --- PostgreSQL ----------------------------------------------------------------------------------------------------

/**
 * Drops the bench's schemas (and empties the list); a failure is printed, not thrown.
 * @param {string} postgresUrl
 * @param {string[]} schemas
 */
async function dropBenchSchemas(postgresUrl, schemas) {
  const dropping = schemas.splice(0);
  await dropSchemas(postgresUrl, dropping).catch((error) =>
    console.error(`could not drop the schemas ${dropping.join(", ")}: ${error.message}`),
  );
}

/**
 * pid, parent pid and the ticks fields of /proc/<pid>/stat, or undefined.
 * @param {number} pid
 */
function procStat(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    comm,
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    childTicks: Number(fields[13]) + Number(fields[14]),
  };
}

/**
 * The PostgreSQL server's postmaster, as the parent of this bench's own backend; undefined when it is not a process
 * of this machine (a remote server, another pid namespace).
 * @param {string} postgresUrl
 */
async function findPostmaster(postgresUrl) {
  // Read while the connection is open: the backend exits with it.
  const backendStat = await withPostgres(postgresUrl, async (client) => procStat((await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid));
  if (backendStat?.comm !== "postgres") return undefined;
  return procStat(backendStat.ppid)?.comm === "postgres" ? backendStat.ppid : undefined;
}

/**
 * CPU seconds used so far by the postmaster and its children (backends, WAL writer, checkpointer…), counting the
 * children that already exited (the postmaster's cutime/cstime); without a postmaster, every process named postgres.
 * @param {number | undefined} postmaster
 */
function postgresCpuSeconds(postmaster) {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (stat?.comm !== "postgres") continue;
    if (postmaster !== undefined && pid !== postmaster && stat.ppid !== postmaster) continue;
    ticks += stat.ticks + (pid === postmaster ? stat.childTicks : 0);
  }
  return ticks / 100; // USER_HZ, as in support.js
}

// --- HAProxy -------------------------------------------------------------------------------------------------------

/**
 * HAProxy (test/support/haproxy.js) as one process (no -W master, so its pid is the process that does the work and
 * its CPU time is all of HAProxy's), with a count of the publishes each server answered from its access log. Access
 * lines are not kept: there is one per publish.
 * @param {string} binary
 * @param {string} configPath
 * @param {string} url
 */
function startBalancer(binary, configPath, url) {
  /** @type {{ publish: Map<string, number>; failedPublishes: number }} publishes answered per server */
  const requests = { publish: new Map(), failedPublishes: 0 };
  /** @param {import("../test/support/haproxy.js").HaproxyRequest} request */
  const onRequest = ({ server, status, path }) => {
    if (path !== "/message/v1/publish") return;
    requests.publish.set(server, (requests.publish.get(server) ?? 0) + 1);
    if (status !== 200) requests.failedPublishes++;
  };
  const balancer = startHaproxy(binary, configPath, url, { keepAccessLines: false, onRequest });
  return Object.assign(balancer, { requests });
}

// --- Nodes ---------------------------------------------------------------------------------------------------------

/**
 * One instance's /metrics, read directly (not through the balancer).
 * @param {RunningServer} instance
 */
async function metricsOf(instance) {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  // A histogram's lines appear with its first observation: none yet counts as 0.
  const value = (/** @type {RegExp} */ pattern) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    activeStreams: value(/^xmtp_active_streams (\S+)/m),
    appendSeconds: value(/^xmtp_storage_latency_seconds_sum\{operation="append"\} (\S+)/m),
    appends: value(/^xmtp_storage_latency_seconds_count\{operation="append"\} (\S+)/m),
  };
}

// --- Load ----------------------------------------------------------------------------------------------------------

const conversationTopic = () => `/xmtp/0/m-${randomBytes(32).toString("hex")}/proto`;

/**
 * A subscribe stream through the balancer. Each envelope line is recorded without parsing the JSON: the sequence
 * number and send time are read from the first 16 base64 characters of its message. Keep-alive lines
 * (`{"result":{}}`) carry no "message" and are skipped.
 * @param {string} url
 * @param {number[]} topicIndexes
 * @param {string[]} topics
 * @param {(seq: number, sentAt: number, arrivedAt: number) => void} onDelivery
 * @returns {Promise<SubscriberStream>}
 */
function openSubscriber(url, topicIndexes, topics, onDelivery) {
  return new Promise((resolveStream, reject) => {
    const body = JSON.stringify({ contentTopics: topicIndexes.map((index) => topics[index]) });
    const request = http.request(`${url}/message/v1/subscribe`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "text/plain;charset=UTF-8", "content-length": Buffer.byteLength(body) },
    });
    /** @type {SubscriberStream} */
    const stream = { closed: false, error: undefined, close: () => ((stream.closed = true), request.destroy()) };
    request.on("response", (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return reject(new Error(`subscribe through the balancer answered HTTP ${response.statusCode}`));
      }
      let buffered = "";
      response.on("data", (chunk) => {
        const now = performance.now();
        buffered += chunk.toString("utf8");
        let start = 0;
        let newline;
        while ((newline = buffered.indexOf("\n", start)) >= 0) {
          const at = buffered.indexOf('"message":"', start);
          if (at >= 0 && at < newline) {
            const header = Buffer.from(buffered.slice(at + 11, at + 11 + HEADER_BASE64_CHARS), "base64");
            onDelivery(header.readUInt32BE(0), header.readDoubleBE(4), now);
          } else if (buffered.startsWith('{"error"', start)) {
            stream.error = buffered.slice(start, newline);
          }
          start = newline + 1;
        }
        buffered = buffered.slice(start);
      });
      response.on("error", () => {});
      response.on("end", () => {
        if (!stream.closed) stream.error ??= "the stream ended";
      });
      resolveStream(stream);
    });
    request.on("error", (error) => {
      if (stream.closed) return;
      stream.error = error.message;
      reject(error);
    });
    request.end(body);
  });
}

/**
 * CPU seconds of every measured process at one moment: the instances, HAProxy, the PostgreSQL server, this process.
 * @param {RunningServer[]} instances
 * @param {Balancer} balancer
 * @param {number | undefined} postmaster
 */
function cpuSnapshot(instances, balancer, postmaster) {
  const self = process.cpuUsage();
  return {
    at: performance.now(),
    instances: instances.map((instance) => cpuSecondsOf(instance.pid)),
    balancer: cpuSecondsOf(balancer.process.pid),
    postgres: postgresCpuSeconds(postmaster),
    self: (self.user + self.system) / 1e6,
  };
}

/**
 * Subscribers on the balancer, then the fixed-rate publishing through it; returns the raw measurements.
 * @param {{ balancer: Balancer; instances: RunningServer[]; postmaster: number | undefined; token: string }} options
 */
async function load({ balancer, instances, postmaster, token }) {
  const { rate, seconds, warmupSeconds, topics: topicCount, subscribers: subscriberCount } = settings;
  const topics = Array.from({ length: topicCount }, conversationTopic);
  const warm = rate * warmupSeconds;
  const measured = rate * seconds;
  const total = warm + measured;
  const intervalMs = 1000 / rate;

  // Subscriber s takes the topics of its parity (all of them when there is a single topic).
  /** @type {Subscriber[]} */
  const subscribers = Array.from({ length: subscriberCount }, (_, s) => {
    const topicIndexes = topics.map((_, t) => t).filter((t) => topicCount < 2 || t % 2 === s % 2);
    const wanted = new Uint8Array(topicCount);
    for (const t of topicIndexes) wanted[t] = 1;
    let expected = 0;
    for (let seq = 0; seq < total; seq++) expected += wanted[seq % topicCount];
    return { topicIndexes, wanted, expected, counts: new Uint8Array(total), outOfRange: 0, latencies: [], stream: undefined };
  });
  const expectedDeliveries = subscribers.reduce((sum, subscriber) => sum + subscriber.expected, 0);
  let delivered = 0;
  for (const subscriber of subscribers) {
    // One after the other, so roundrobin gives every instance the same number of streams.
    subscriber.stream = await openSubscriber(balancer.url, subscriber.topicIndexes, topics, (seq, sentAt, arrivedAt) => {
      if (seq >= total) {
        subscriber.outOfRange++;
        return;
      }
      // First arrivals of wanted envelopes only: the wait below ends when each has arrived once.
      if (subscriber.counts[seq] === 0 && subscriber.wanted[seq % topicCount]) delivered++;
      if (subscriber.counts[seq] < 255) subscriber.counts[seq]++;
      if (seq >= warm) subscriber.latencies.push(arrivedAt - sentAt);
    });
  }

  // Where roundrobin put the streams, and each instance's store append (commit) time so far.
  const metricsBefore = await Promise.all(instances.map(metricsOf));

  // The publishers: an open loop over a pool of keep-alive connections to the balancer.
  const headers = { authorization: `Bearer ${token}` };
  const message = randomBytes(settings.messageBytes);
  const bodyOf = (/** @type {number} */ seq, /** @type {number} */ sentAt) => {
    message.writeUInt32BE(seq, 0);
    message.writeDoubleBE(sentAt, 4);
    const timestampNs = `${Date.now()}${String(seq % 1_000_000).padStart(6, "0")}`;
    return (
      `{"envelopes":[{"contentTopic":"${topics[seq % topicCount]}","timestampNs":"${timestampNs}",` +
      `"message":"${message.toString("base64")}"}]}`
    );
  };
  const idle = Array.from({ length: settings.connections }, () => new RawHttpConnection(balancer.url));
  const opened = [...idle];
  /** @type {number[]} */
  const publishLatencies = [];
  /** @type {string[]} */
  const failures = [];
  let nextSeq = 0;
  let answered = 0;
  let maxLagMs = 0;
  let lastAnswerAt = 0;
  /** CPU seconds at the start of the load window (the first publish after the warm-up). @type {CpuSnapshot | undefined} */
  let before;
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {number} */
  let scheduleStart;
  /** @type {() => void} */
  let finish = () => {};
  /** @type {Promise<void>} */
  const finished = new Promise((resolveFinished) => (finish = resolveFinished));

  /**
   * @param {RawHttpConnection} connection
   * @param {number} seq
   */
  const send = (connection, seq) => {
    const sentAt = performance.now();
    if (seq >= warm) maxLagMs = Math.max(maxLagMs, sentAt - (scheduleStart + seq * intervalMs));
    const done = (/** @type {string | undefined} */ error) => {
      answered++;
      const now = performance.now();
      if (error) failures.push(`publish #${seq}: ${error}`);
      else if (seq >= warm) {
        publishLatencies.push(now - sentAt);
        lastAnswerAt = now;
      }
      if (answered === total) finish();
      else pump();
    };
    connection.post("/message/v1/publish", bodyOf(seq, sentAt), headers).then(
      ({ status, body }) => {
        idle.push(connection);
        done(status === 200 ? undefined : `HTTP ${status}: ${body.slice(0, 200)}`);
      },
      (error) => {
        connection.close();
        const replacement = new RawHttpConnection(balancer.url);
        opened.push(replacement);
        idle.push(replacement);
        done(error.message);
      },
    );
  };
  /** Sends every publish that is due and has an idle connection, then sleeps until the next one is due. */
  const pump = () => {
    const due = Math.min(total, Math.floor((performance.now() - scheduleStart) / intervalMs) + 1);
    while (nextSeq < due && idle.length > 0) {
      if (nextSeq === warm) before = cpuSnapshot(instances, balancer, postmaster);
      send(/** @type {RawHttpConnection} */ (idle.pop()), nextSeq++); // idle is not empty
    }
    if (nextSeq < total && timer === undefined && idle.length > 0) {
      const wait = Math.max(0, scheduleStart + nextSeq * intervalMs - performance.now());
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, wait);
    }
  };

  const loadAverageBefore = loadavg()[0];
  scheduleStart = performance.now();
  pump();
  // A publish that is never answered (no response, no error) must fail the run, not hang it.
  const answersDeadlineMs = (total * intervalMs) + ANSWERS_WITHIN_MS;
  /** @type {NodeJS.Timeout | undefined} */
  let answersTimer;
  /** @type {Promise<never>} */
  const unanswered = new Promise((_, reject) => {
    answersTimer = setTimeout(
      () => reject(new Error(`${total - answered} of ${total} publishes unanswered ${Math.round(answersDeadlineMs / 1000)} s after the load started`)),
      answersDeadlineMs,
    );
  });
  try {
    await Promise.race([finished, unanswered]);
  } finally {
    clearTimeout(answersTimer);
  }
  const deliveryDeadline = performance.now() + DELIVERY_WITHIN_MS;
  while (delivered < expectedDeliveries && performance.now() < deliveryDeadline) await sleep(5);
  const after = cpuSnapshot(instances, balancer, postmaster);
  const loadAverageAfter = loadavg()[0];
  await sleep(DUPLICATE_WATCH_MS);
  for (const connection of opened) connection.close();
  for (const subscriber of subscribers) subscriber.stream?.close();
  const metricsAfter = await Promise.all(instances.map(metricsOf));
  const appendMs = metricsAfter.map(
    (m, i) => ((m.appendSeconds - metricsBefore[i].appendSeconds) * 1000) / (m.appends - metricsBefore[i].appends),
  );

  // Every subscriber, every sequence number: exactly once for the topics it asked for, never for the others.
  let missing = 0;
  let duplicates = 0;
  let unexpected = 0;
  const perSubscriber = subscribers.map((subscriber) => {
    let subscriberMissing = 0;
    let subscriberDuplicates = 0;
    let subscriberUnexpected = subscriber.outOfRange;
    for (let seq = 0; seq < total; seq++) {
      const count = subscriber.counts[seq];
      if (subscriber.wanted[seq % topicCount]) {
        if (count === 0) subscriberMissing++;
        else subscriberDuplicates += count - 1;
      } else subscriberUnexpected += count;
    }
    missing += subscriberMissing;
    duplicates += subscriberDuplicates;
    unexpected += subscriberUnexpected;
    return { missing: subscriberMissing, duplicates: subscriberDuplicates, unexpected: subscriberUnexpected, error: subscriber.stream?.error };
  });
  const deliveryLatencies = Float64Array.from(subscribers.flatMap((subscriber) => subscriber.latencies)).sort();
  const publishSorted = Float64Array.from(publishLatencies).sort();
  if (!before) throw new Error("the load window never started");
  const cpuBefore = before;
  const windowSeconds = (lastAnswerAt - cpuBefore.at) / 1000;
  /**
   * @param {number | undefined} secondsBefore
   * @param {number | undefined} secondsAfter
   */
  const perEnvelope = (secondsBefore, secondsAfter) =>
    secondsBefore === undefined || secondsAfter === undefined ? NaN : ((secondsAfter - secondsBefore) * 1e6) / measured;
  const instanceCpu = instances.map((_, i) => perEnvelope(cpuBefore.instances[i], after.instances[i]));
  return {
    measured,
    achievedRate: publishLatencies.length / windowSeconds,
    maxLagMs,
    failures,
    deliveries: { expected: expectedDeliveries, received: delivered, missing, duplicates, unexpected, perSubscriber },
    latency: {
      p50: percentile(deliveryLatencies, 0.5),
      p99: percentile(deliveryLatencies, 0.99),
      max: deliveryLatencies[deliveryLatencies.length - 1] ?? NaN,
      atLeast900Ms: deliveryLatencies.filter((latency) => latency >= 900).length,
      count: deliveryLatencies.length,
    },
    publishLatency: { p50: percentile(publishSorted, 0.5), p99: percentile(publishSorted, 0.99) },
    cpu: {
      instances: instanceCpu,
      allInstances: instanceCpu.reduce((sum, value) => sum + value, 0),
      balancer: perEnvelope(cpuBefore.balancer, after.balancer),
      postgres: perEnvelope(cpuBefore.postgres, after.postgres),
      loadGenerator: perEnvelope(cpuBefore.self, after.self),
      windowSeconds: (after.at - cpuBefore.at) / 1000,
    },
    loadAverage: { before: loadAverageBefore, after: loadAverageAfter },
    streamsBy: Object.fromEntries(instances.map((instance, i) => [instance.name, metricsBefore[i].activeStreams])),
    appendMs,
    windowStart: cpuBefore.at,
    windowEnd: after.at,
  };
}

// --- One configuration ---------------------------------------------------------------------------------------------

/** Live children, killed on SIGINT/SIGTERM. @type {Set<{ kill(): void }>} */
const live = new Set();

/**
 * @param {object} options
 * @param {string} options.label
 * @param {ServerLine[]} options.running the config's servers to run; the others stay down
 * @param {BalancerConfig} options.config
 * @param {string} options.haproxyBinary
 * @param {string} options.postgresUrl
 * @param {number | undefined} options.postmaster
 * @param {string} options.token
 * @param {string[]} options.schemas the bench's schemas so far, this configuration's added
 */
async function runConfiguration({ label, running, config, haproxyBinary, postgresUrl, postmaster, token, schemas }) {
  const stopped = config.servers.filter((server) => !running.includes(server));
  const busy = await busyPorts([{ host: config.host, port: config.port }, ...config.servers]);
  if (busy.length > 0) throw new Error(`ports in use before configuration ${label}: ${busy.join(", ")}`);
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  schemas.push(schema);
  const dbUrl = new URL(postgresUrl);
  dbUrl.searchParams.set("schema", schema);
  const workDir = mkdtempSync(join(tmpdir(), "xmtp-scale-out-"));
  /** @type {RunningServer[]} */
  const instances = [];
  /** @type {Balancer | undefined} */
  let balancer;
  try {
    // Concurrently, as a cluster rolled out at once: the instances race to migrate the fresh schema.
    const started = await Promise.allSettled(
      running.map((server) => {
        const dataDir = join(workDir, server.name);
        mkdirSync(dataDir);
        const args = [
          "--host", server.host, "--port", String(server.port), "--data-dir", dataDir, "--db", dbUrl.toString(),
          "--trust-proxy", "true", "--rate-limits", "off", ...extraNodeArgs,
        ];
        return startServer(server.name, nodeMain, args, { nodeFlags });
      }),
    );
    for (const result of started) {
      if (result.status === "fulfilled") {
        instances.push(result.value);
        live.add(result.value);
      }
    }
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const readyBy = performance.now() + READY_WITHIN_MS;
    await Promise.all(running.map((server) => waitUntilReady(`http://${server.host}:${server.port}`, readyBy)));

    balancer = startBalancer(haproxyBinary, haproxyConfigPath, `http://${config.host}:${config.port}`);
    live.add(balancer);
    if (stopped.length > 0) {
      // The config is used unmodified: the servers that do not run must first be marked DOWN.
      await balancer.waitUntilDown(stopped.map((server) => server.name), performance.now() + DOWN_WITHIN_MS);
      await balancer.waitUntilOnlyServer(running[0].name, 5, performance.now() + READY_WITHIN_MS);
    } else {
      await balancer.waitUntilServedBy(running.map((server) => server.name), performance.now() + READY_WITHIN_MS);
    }
    const changesBefore = balancer.changes.length;
    console.log(
      `${label}: ${running.length} instance(s) ${running.map((s) => `${s.name}@${s.port}`).join(", ")} behind HAProxy ` +
        `${balancer.url}, schema ${schema}; loading at ${settings.rate} envelopes/s for ${settings.warmupSeconds} s ` +
        `warm-up + ${settings.seconds} s; load average ${loadavg().map((v) => v.toFixed(2)).join(" ")}`,
    );
    const result = await load({ balancer, instances, postmaster, token });
    const warnings = instances.flatMap((instance) =>
      instance.logs
        .filter((line) => /"level":"(warn|error)"/.test(line))
        .map((line) => `${instance.name}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`),
    );
    const printLogs = process.env.BENCH_PRINT_LOGS;
    if (printLogs) {
      for (const source of [...instances, { name: "haproxy", logs: balancer.logs }]) {
        for (const line of source.logs.filter((l) => l.includes(printLogs))) console.log(`${source.name}: ${line}`);
      }
    }
    return {
      label,
      schema,
      instances: running.map((server) => server.name),
      ...result,
      publishesBy: Object.fromEntries(balancer.requests.publish),
      failedPublishesLogged: balancer.requests.failedPublishes,
      stateChangesDuringLoad: balancer.changes.slice(changesBefore).map((c) => `${c.server} ${c.state}`),
      warnings,
    };
  } finally {
    if (balancer) {
      await balancer.stop();
      live.delete(balancer);
    }
    await Promise.all(
      instances.map(async (instance) => {
        await instance.stop();
        live.delete(instance);
      }),
    );
    rmSync(workDir, { recursive: true, force: true });
  }
}

// --- Report --------------------------------------------------------------------------------------------------------

const ms = (/** @type {number} */ value) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : "n/a");
const micros = (/** @type {number} */ value) => (Number.isFinite(value) ? `${value.toFixed(0)} µs` : "n/a");
/** b / a when both are finite numbers (Number.isFinite is false for anything else) and a > 0; else "". */
const ratio = (/** @type {unknown} */ b, /** @type {unknown} */ a) =>
  typeof a === "number" && typeof b === "number" && Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${(b / a).toFixed(2)}x` : "";
const spread = (/** @type {Record<string, number>} */ byServer, /** @type {string[]} */ servers) => servers.map((name) => `${name} ${byServer[name] ?? 0}`).join(", ");

/**
 * @param {ConfigurationResult} a
 * @param {ConfigurationResult} b
 * @param {number | undefined} postmaster
 */
function report(a, b, postmaster) {
  /** @type {string[][]} */
  const rows = [];
  /**
   * One row: a figure of each configuration, formatted, and with `withRatio` B/A.
   * @template T
   * @param {string} measure
   * @param {(result: ConfigurationResult) => T} pick
   * @param {(value: T) => string} format
   */
  const row = (measure, pick, format, withRatio = false) =>
    rows.push([measure, format(pick(a)), format(pick(b)), withRatio ? ratio(pick(b), pick(a)) : ""]);
  row(`achieved publish rate (target ${settings.rate}/s)`, (r) => r.achievedRate, (v) => `${v.toFixed(1)}/s`);
  row("largest delay of a send behind its schedule", (r) => r.maxLagMs, ms);
  rows.push(["publishes per instance (HAProxy log)", spread(a.publishesBy, a.instances), spread(b.publishesBy, b.instances), ""]);
  rows.push([
    "subscribe streams per instance (xmtp_active_streams)",
    spread(a.streamsBy, a.instances),
    spread(b.streamsBy, b.instances),
    "",
  ]);
  row(
    "deliveries received (first arrivals) / expected",
    (r) => r.deliveries,
    (d) => `${d.received.toLocaleString("en-US")} / ${d.expected.toLocaleString("en-US")}`,
  );
  row(
    "missing / duplicate / unexpected deliveries",
    (r) => r.deliveries,
    (d) => `${d.missing} / ${d.duplicates} / ${d.unexpected}`,
  );
  row("failed publishes", (r) => r.failures.length, String);
  row("publish → delivery latency p50", (r) => r.latency.p50, ms, true);
  row("publish → delivery latency p99", (r) => r.latency.p99, ms, true);
  row("publish → delivery latency max", (r) => r.latency.max, ms, true);
  row("deliveries ≥ 900 ms (a missed notification waits for the 1 s poll)", (r) => r.latency.atLeast900Ms, String);
  row("publish latency (request → 200) p50", (r) => r.publishLatency.p50, ms, true);
  row("publish latency (request → 200) p99", (r) => r.publishLatency.p99, ms, true);
  row("store append (commit) mean per instance, warm-up included", (r) => r.appendMs, (values) => values.map(ms).join(", "));
  row("CPU per envelope, each instance", (r) => r.cpu.instances, (values) => values.map(micros).join(" + "));
  row("CPU per envelope, all instances", (r) => r.cpu.allInstances, micros, true);
  row("CPU per envelope, HAProxy", (r) => r.cpu.balancer, micros, true);
  row(
    postmaster === undefined ? "CPU per envelope, every postgres process" : "CPU per envelope, PostgreSQL server",
    (r) => r.cpu.postgres,
    micros,
    true,
  );
  row("CPU per envelope, instances + HAProxy + PostgreSQL", (r) => r.cpu.allInstances + r.cpu.balancer + r.cpu.postgres, micros, true);
  row("CPU per envelope, this load generator", (r) => r.cpu.loadGenerator, micros);
  row("CPU window", (r) => r.cpu.windowSeconds, (v) => `${v.toFixed(2)} s`);
  row("HAProxy server changes during load", (r) => r.stateChangesDuringLoad, (v) => (v.length ? v.join(", ") : "none"));
  row("instance warnings / errors logged", (r) => r.warnings.length, String);
  row("load average (1 min) at start / end of load", (r) => r.loadAverage, (l) => `${l.before.toFixed(2)} / ${l.after.toFixed(2)}`);

  console.log(
    `\nxmtp-ts scale-out benchmark — ${settings.rate} envelopes/s for ${settings.seconds} s (after ${settings.warmupSeconds} s ` +
      `warm-up) over ${settings.topics} topics, ${settings.subscribers} subscribers (each on half the topics), ` +
      `${settings.messageBytes}-byte messages, all through HAProxy; load average ${loadavg().map((v) => v.toFixed(2)).join(" ")}\n`,
  );
  printTable(["measure", `A: ${a.instances.length} instance`, `B: ${b.instances.length} instances`, "B/A"], rows);
  console.log(
    `\nB/A of CPU per envelope is what scale-out costs per envelope (every instance reads every commit), not a ` +
      `throughput figure: on this shared ${availableParallelism()}-core machine the cores decide throughput, not the instance count.` +
      (postmaster === undefined
        ? " PostgreSQL's figure sums every process named postgres on the machine (its server was not found from its backend)."
        : " PostgreSQL's figure is its server's postmaster and children: every database of that server counts."),
  );
  for (const result of [a, b]) {
    for (const warning of result.warnings.slice(0, 10)) console.log(`${result.label} ${warning}`);
    for (const failure of result.failures.slice(0, 10)) console.log(`${result.label} ${failure}`);
    result.deliveries.perSubscriber.forEach((s, i) => {
      if (s.missing || s.duplicates || s.unexpected || s.error) {
        console.log(
          `${result.label} subscriber ${i}: ${s.missing} missing, ${s.duplicates} duplicates, ${s.unexpected} unexpected` +
            (s.error ? `; stream: ${s.error}` : ""),
        );
      }
    });
  }
  const summary = Object.fromEntries(
    [a, b].map((r) => [
      r.label,
      {
        instances: r.instances.length,
        achievedRate: r.achievedRate,
        deliveries: { expected: r.deliveries.expected, missing: r.deliveries.missing, duplicates: r.deliveries.duplicates, unexpected: r.deliveries.unexpected },
        failedPublishes: r.failures.length,
        latencyMs: r.latency,
        publishLatencyMs: r.publishLatency,
        cpuMicrosPerEnvelope: {
          instances: r.cpu.instances,
          allInstances: r.cpu.allInstances,
          haproxy: r.cpu.balancer,
          postgres: r.cpu.postgres,
          loadGenerator: r.cpu.loadGenerator,
        },
        loadAverage: r.loadAverage,
      },
    ]),
  );
  console.log("\n" + JSON.stringify({ scaleOutBenchmark: { rate: settings.rate, seconds: settings.seconds, ...summary } }));
}

// --- Main ----------------------------------------------------------------------------------------------------------

async function main() {
  const postgresUrl = postgresUrlOrExit();
  const haproxyBinary = findHaproxy();
  if (!haproxyBinary) {
    console.error("bench/scaleOut.js needs haproxy: run `bash .ci/haproxy.sh` (as root, installs Debian's haproxy package)");
    process.exit(2);
  }
  const config = readBalancerConfig(haproxyConfigPath);
  const busy = await busyPorts([{ host: config.host, port: config.port }, ...config.servers]);
  if (busy.length > 0) {
    console.error(
      `bench/scaleOut.js runs ${haproxyConfigPath} unmodified, so it needs ${[config.port, ...config.servers.map((s) => s.port)].join(", ")} ` +
        `free on ${config.host}; in use now: ${busy.join(", ")}. Stop whatever listens there (another node or haproxy?) and retry.`,
    );
    process.exit(2);
  }

  /** @type {string[]} */
  const schemas = [];
  const onSignal = async () => {
    for (const child of live) child.kill();
    await dropBenchSchemas(postgresUrl, schemas);
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  /** @type {number | undefined} */
  let postmaster;
  try {
    postmaster = await findPostmaster(postgresUrl);
  } catch (error) {
    console.error(`cannot connect to the PostgreSQL database (${postgresUrl.replace(/\/\/[^@/]*@/, "//…@")}): ${error instanceof Error ? error.message : error}`);
    process.exit(2);
  }
  console.log(
    `nodes: ${nodeMain}${extraNodeArgs.length ? ` ${extraNodeArgs.join(" ")}` : ""}; haproxy ${haproxyBinary} -f ${haproxyConfigPath}; ` +
      `PostgreSQL CPU from ${postmaster === undefined ? "every process named postgres" : `postmaster ${postmaster} and its children`}`,
  );
  const token = await makeToken();
  const common = { config, haproxyBinary, postgresUrl, postmaster, token, schemas };
  let a;
  let b;
  try {
    a = await runConfiguration({ label: "A", running: config.servers.slice(0, 1), ...common });
    b = await runConfiguration({ label: "B", running: config.servers, ...common });
  } finally {
    await dropBenchSchemas(postgresUrl, schemas);
  }
  report(a, b, postmaster);
  const failed = [a, b].filter(
    (r) => r.deliveries.missing + r.deliveries.duplicates + r.deliveries.unexpected + r.failures.length > 0,
  );
  if (failed.length > 0) {
    console.error(`\nFAILED: incomplete or repeated delivery, or failed publishes, in configuration ${failed.map((r) => r.label).join(" and ")}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
