// The notification service (issue 18): a node and `xmtp-notify` following it, each its own process with SQLite; a
// webhook receiver in this process. BENCH_NOTIFY_INSTALLATIONS installations are registered, each subscribed to a
// conversation topic of its own. Measured in one run:
//  1. the node's raw publish rate (50 envelopes per request, 8 requests at a time, as the burst below), before the
//     service follows it: the baseline;
//  2. latency from publish (the request sent) to the webhook delivery (the POST received), at a steady rate, to
//     random installations: p50 / p99;
//  3. delivery throughput: a burst published in batches as fast as the node takes them, timed from the first publish
//     to the last delivery; and its ratio to the baseline.
//
//   npm run build && node bench/notify.js
//
// Environment: BENCH_NOTIFY_INSTALLATIONS (3,000), BENCH_NOTIFY_LATENCY_MESSAGES (1,000), BENCH_NOTIFY_RATE (100/s),
// BENCH_NOTIFY_BURST (5,000), BENCH_ROUND_MS (3,000, the baseline's duration).
import http from "node:http";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedLoop, intFromEnv, makeToken, nodeMainPath, percentile, post, printTable, repoRoot, sleep, startServer, until } from "./support.js";

const INSTALLATIONS = intFromEnv("BENCH_NOTIFY_INSTALLATIONS", 3_000);
const LATENCY_MESSAGES = intFromEnv("BENCH_NOTIFY_LATENCY_MESSAGES", 1_000);
const RATE = intFromEnv("BENCH_NOTIFY_RATE", 100);
const BURST = intFromEnv("BENCH_NOTIFY_BURST", 5_000);
const ROUND_MS = intFromEnv("BENCH_ROUND_MS", 3_000);
const notifyMainPath = join(repoRoot, "packages/notify/dist/main.js");

const topicOf = (/** @type {number} */ installation) => `/xmtp/0/m-bench-notify-${installation}/proto`;

/** A message whose first 4 bytes carry its index, so the receiver knows which publish it answers. */
function envelopeFor(/** @type {number} */ index, /** @type {number} */ installation) {
  const message = randomBytes(256);
  message.writeUInt32BE(index, 0);
  return { contentTopic: topicOf(installation), timestampNs: String(BigInt(Date.now()) * 1_000_000n + BigInt(index)), message: message.toString("base64") };
}

/** The webhook receiver: the time each delivery (by message index) arrived, and how many arrived in all. */
async function startReceiver() {
  /** @type {Map<number, number>} */
  const arrivals = new Map();
  let deliveries = 0;
  const server = http.createServer((req, res) => {
    const chunks = /** @type {Buffer[]} */ ([]);
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const at = performance.now();
      const delivery = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const index = Buffer.from(delivery.envelope.message, "base64").readUInt32BE(0);
      if (!arrivals.has(index)) arrivals.set(index, at);
      deliveries++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    arrivals,
    deliveries: () => deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-notify-"));
  /** @type {import("./support.js").RunningServer[]} */
  const servers = [];
  const receiver = await startReceiver();
  try {
    const node = await startServer("node", nodeMainPath, ["--host", "127.0.0.1", "--port", "0", "--data-dir", join(dataDir, "node"), "--rate-limits", "off"]);
    servers.push(node);
    const headers = { authorization: `Bearer ${await makeToken()}` };
    let published = 0;
    process.stderr.write("baseline: the node's raw publish rate\n");
    // Publishes shaped as the burst below: 50 envelopes per request, 8 requests at a time.
    const baselineRun = await closedLoop({
      url: node.url,
      path: "/message/v1/publish",
      makeBody: () => JSON.stringify({ envelopes: Array.from({ length: 50 }, () => envelopeFor(0x7fffffff, INSTALLATIONS + (published++ % 50))) }),
      headers,
      connections: 8,
      durationMs: ROUND_MS,
    });
    const baseline = { perSecond: baselineRun.perSecond * 50 };

    const notify = await startServer("notify", notifyMainPath, [
      "--node", node.url, "--host", "127.0.0.1", "--port", "0", "--data-dir", join(dataDir, "notify"), "--retry-base-ms", "100",
    ], { nodeFlags: process.env.BENCH_NOTIFY_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_NOTIFY_PROFILE}`] : [] });
    servers.push(notify);
    process.stderr.write(`registering ${INSTALLATIONS.toLocaleString("en-US")} installations\n`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    let registered = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (registered < INSTALLATIONS) {
          const installation = registered++;
          const body = JSON.stringify({ target: { kind: "webhook", url: receiver.url }, secret: `bench-secret-${installation}-0123456789`, topics: [topicOf(installation)] });
          const { status, body: answer } = await post(agent, notify.url, "/v1/installations", body, { "content-type": "application/json" });
          if (status !== 201) throw new Error(`registering answered HTTP ${status}: ${answer.slice(0, 200)}`);
        }
      }),
    );
    await until(async () => (await (await fetch(`${notify.url}/healthz`)).json()).nodes.every((/** @type {{ live: boolean }} */ n) => n.live), "the service to follow the node", 30_000);

    // 2. Latency at a steady rate.
    process.stderr.write(`latency: ${LATENCY_MESSAGES.toLocaleString("en-US")} envelopes at ${RATE}/s\n`);
    /** @type {Map<number, number>} */
    const sentAt = new Map();
    const interval = 1000 / RATE;
    const started = performance.now();
    const inFlight = [];
    for (let i = 0; i < LATENCY_MESSAGES; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt.set(i, performance.now());
      inFlight.push(
        post(agent, node.url, "/message/v1/publish", JSON.stringify({ envelopes: [envelopeFor(i, Math.floor(Math.random() * INSTALLATIONS))] }), headers).then(({ status, body }) => {
          if (status !== 200) throw new Error(`publish answered HTTP ${status}: ${body.slice(0, 200)}`);
        }),
      );
    }
    await Promise.all(inFlight);
    await until(() => [...sentAt.keys()].every((i) => receiver.arrivals.has(i)), "every latency envelope delivered", 120_000);
    const latencies = [...sentAt].map(([i, at]) => /** @type {number} */ (receiver.arrivals.get(i)) - at).sort((a, b) => a - b);

    // 3. Throughput: a burst in batches of 50.
    process.stderr.write(`throughput: a burst of ${BURST.toLocaleString("en-US")} envelopes\n`);
    const first = LATENCY_MESSAGES;
    const burstStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < BURST) {
          const count = Math.min(50, BURST - next);
          const envelopes = Array.from({ length: count }, (_, k) => envelopeFor(first + next + k, Math.floor(Math.random() * INSTALLATIONS)));
          next += count;
          const { status, body } = await post(agent, node.url, "/message/v1/publish", JSON.stringify({ envelopes }), headers);
          if (status !== 200) throw new Error(`publish answered HTTP ${status}: ${body.slice(0, 200)}`);
        }
      }),
    );
    const publishedBy = performance.now();
    await until(() => {
      for (let i = first; i < first + BURST; i++) if (!receiver.arrivals.has(i)) return false;
      return true;
    }, "every burst envelope delivered", 600_000);
    const burstSeconds = (Math.max(...Array.from({ length: BURST }, (_, k) => /** @type {number} */ (receiver.arrivals.get(first + k)))) - burstStarted) / 1000;
    agent.destroy();
    const duplicates = receiver.deliveries() - receiver.arrivals.size;

    console.log(`\nNotifications: ${INSTALLATIONS.toLocaleString("en-US")} installations, one topic each, webhooks (same run)`);
    printTable(
      ["measure", "value"],
      [
        ["node raw publish rate (baseline), envelopes/s", Math.round(baseline.perSecond).toLocaleString("en-US")],
        [`publish to webhook delivery at ${RATE}/s, p50 / p99 ms`, `${percentile(latencies, 0.5).toFixed(1)} / ${percentile(latencies, 0.99).toFixed(1)}`],
        [`burst of ${BURST.toLocaleString("en-US")}: published in, s`, ((publishedBy - burstStarted) / 1000).toFixed(2)],
        [`burst of ${BURST.toLocaleString("en-US")}: all delivered in, s`, burstSeconds.toFixed(2)],
        ["delivery throughput, deliveries/s", Math.round(BURST / burstSeconds).toLocaleString("en-US")],
        ["delivery throughput / node raw publish rate", `${(BURST / burstSeconds / baseline.perSecond).toFixed(2)}x`],
        ["deliveries repeated", duplicates],
      ],
    );
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
