// `node bench/waku.js` (after `npm run build`): the node's Waku doors against its HTTP API, in the same run.
//
//  1. publish: BENCH_WAKU_MESSAGES envelopes of 256 bytes, BENCH_WAKU_CONCURRENCY at a time, as HTTP publishes
//     (keep-alive, one envelope per request) and as LightPush sends of a real @waku/sdk light node; throughput and
//     the node's CPU time per message, best of BENCH_ROUNDS alternating rounds, and LightPush as a ratio of HTTP.
//  2. page latency: a page of 20 envelopes of a 200-envelope topic, BENCH_WAKU_PAGES times one after another, as
//     HTTP /query and as a Waku Store v3 query of the light node; p50 / p99 and the node's CPU per page.
//
// The light node runs in this process, so its own cost (js-waku encodes, frames and encrypts every request) is on
// the machine's two cores too; the node's CPU per operation, read from /proc, is the figure that does not depend on
// the client. Rate limits are off on the node. Exit status is non-zero only if the benchmark itself fails.
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { cpuSecondsOf, formatRate, intFromEnv, makeToken, percentile, post, printTable, startServer } from "./support.js";

// @waku/sdk calls Promise.withResolvers (Node.js 22): define it before loading the SDK.
Promise.withResolvers ??= /** @template T @returns {PromiseWithResolvers<T>} */ () => {
  /** @type {(value: T | PromiseLike<T>) => void} */
  let resolvePromise = () => {};
  /** @type {(reason?: unknown) => void} */
  let rejectPromise = () => {};
  /** @type {Promise<T>} */
  const promise = new Promise((res, rej) => ((resolvePromise = res), (rejectPromise = rej)));
  return { promise, resolve: resolvePromise, reject: rejectPromise };
};
const { createLightNode, Protocols } = await import("@waku/sdk");

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nodeMain = process.env.BENCH_NODE_MAIN ?? join(repoRoot, "packages/node/dist/main.js");
const settings = {
  messages: intFromEnv("BENCH_WAKU_MESSAGES", 1000),
  // One at a time by default: @waku/sdk 0.0.36 sometimes aborts its own streams when several sends overlap.
  concurrency: intFromEnv("BENCH_WAKU_CONCURRENCY", 1),
  rounds: intFromEnv("BENCH_ROUNDS", 3),
  pages: intFromEnv("BENCH_WAKU_PAGES", 200),
};
const PAGE_SIZE = 20;
const TOPIC_ENVELOPES = 200;

const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-waku-"));
const node = await startServer("node", nodeMain, [
  "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--rate-limits", "off",
  "--p2p-host", "127.0.0.1", "--p2p-port", "0", "--p2p-ws-port", "0",
]);
/** @type {import("@waku/sdk").LightNode | undefined} */
let light;
try {
  const relayLine = node.logs.find((line) => line.includes('"msg":"relay listening"'));
  if (relayLine === undefined) throw new Error("the node logged no \"relay listening\" line");
  /** @type {{ peerId: string; multiaddrs: string[] }} */
  const record = JSON.parse(relayLine);
  const address = record.multiaddrs.find((a) => a.includes("/ws/"));
  if (address === undefined) throw new Error(`the node listens on no WebSocket address: ${relayLine}`);
  const lightNode = await createLightNode({
    networkConfig: { clusterId: 0, numShardsInCluster: 8 },
    defaultBootstrap: false,
    libp2p: { filterMultiaddrs: false },
  });
  light = lightNode; // stopped in `finally`
  await lightNode.start();
  await lightNode.dial(address);
  await lightNode.waitForPeers([Protocols.LightPush, Protocols.Store], 20_000);
  const peer = lightNode.libp2p.getPeers().find((id) => id.toString() === record.peerId);
  if (peer === undefined) throw new Error(`not connected to the node's peer ${record.peerId}`);
  for (let i = 0; i < 200 && !(await lightNode.libp2p.peerStore.get(peer)).metadata.has("shardInfo"); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: settings.concurrency });
  const token = await makeToken();
  const payload = () => randomBytes(256);

  /**
   * Runs `send` settings.messages times, settings.concurrency at a time; throughput and node CPU per message.
   * @param {() => Promise<void>} send
   */
  async function round(send) {
    const cpuBefore = cpuSecondsOf(node.pid);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        while (next < settings.messages) {
          next++;
          await send();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: settings.messages / seconds, cpuMicros: (((cpuSecondsOf(node.pid) ?? NaN) - (cpuBefore ?? NaN)) / settings.messages) * 1e6 };
  }

  const publishTopic = `/xmtp/0/m-bench-waku-${Date.now()}/proto`;
  const encoder = lightNode.createEncoder({ contentTopic: publishTopic });
  const httpPublish = async () => {
    const body = JSON.stringify({
      envelopes: [{ contentTopic: publishTopic, timestampNs: String(BigInt(Date.now()) * 1_000_000n), message: payload().toString("base64") }],
    });
    const answer = await post(agent, node.url, "/message/v1/publish", body, { authorization: `Bearer ${token}` });
    if (answer.status !== 200) throw new Error(`HTTP publish answered ${answer.status}: ${answer.body}`);
  };
  const lightPush = async () => {
    const result = await lightNode.lightPush.send(encoder, { payload: payload() });
    if (result.failures.length > 0) throw new Error(`LightPush failed: ${JSON.stringify(result.failures)}`);
  };

  const httpRounds = [];
  const pushRounds = [];
  for (let i = 0; i < settings.rounds; i++) {
    httpRounds.push(await round(httpPublish));
    pushRounds.push(await round(lightPush));
  }
  const best = (/** @type {{ perSecond: number; cpuMicros: number }[]} */ rounds) => rounds.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const bestHttp = best(httpRounds);
  const bestPush = best(pushRounds);
  console.log(`\npublish: ${settings.messages} envelopes of 256 bytes, ${settings.concurrency} at a time, best of ${settings.rounds} rounds`);
  printTable(
    ["door", "throughput", "node CPU per message", "rounds (msg/s)"],
    [
      ["HTTP publish", formatRate(bestHttp.perSecond), `${bestHttp.cpuMicros.toFixed(0)} µs`, httpRounds.map((r) => r.perSecond.toFixed(0)).join(" ")],
      ["Waku LightPush", formatRate(bestPush.perSecond), `${bestPush.cpuMicros.toFixed(0)} µs`, pushRounds.map((r) => r.perSecond.toFixed(0)).join(" ")],
    ],
  );
  console.log(
    `LightPush throughput = ${(bestPush.perSecond / bestHttp.perSecond).toFixed(2)}x HTTP publish; ` +
      `node CPU per message = ${(bestPush.cpuMicros / bestHttp.cpuMicros).toFixed(2)}x`,
  );

  // Page latency: one topic of TOPIC_ENVELOPES envelopes, read a page at a time.
  const pageTopic = `/xmtp/0/m-bench-waku-pages-${Date.now()}/proto`;
  const envelopes = Array.from({ length: TOPIC_ENVELOPES }, (_, i) => ({
    contentTopic: pageTopic,
    timestampNs: String(BigInt(Date.now()) * 1_000_000n + BigInt(i)),
    message: payload().toString("base64"),
  }));
  const seeded = await post(agent, node.url, "/message/v1/publish", JSON.stringify({ envelopes }), { authorization: `Bearer ${token}` });
  if (seeded.status !== 200) throw new Error(`seeding the page topic answered ${seeded.status}`);
  const decoder = lightNode.createDecoder({ contentTopic: pageTopic });
  const httpPage = async () => {
    const body = JSON.stringify({ contentTopics: [pageTopic], pagingInfo: { limit: PAGE_SIZE, direction: "SORT_DIRECTION_DESCENDING" } });
    const answer = await post(agent, node.url, "/message/v1/query", body);
    if (answer.status !== 200 || JSON.parse(answer.body).envelopes.length !== PAGE_SIZE) throw new Error(`query answered ${answer.status}`);
  };
  const storePage = async () => {
    for await (const page of lightNode.store.queryGenerator([decoder], { paginationForward: false, paginationLimit: PAGE_SIZE })) {
      if ((await Promise.all(page)).length !== PAGE_SIZE) throw new Error("Store page of the wrong size");
      break;
    }
  };
  /** @param {() => Promise<void>} read */
  async function latencies(read) {
    const times = [];
    const cpuBefore = cpuSecondsOf(node.pid);
    for (let i = 0; i < settings.pages; i++) {
      const started = performance.now();
      await read();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), cpuMicros: (((cpuSecondsOf(node.pid) ?? NaN) - (cpuBefore ?? NaN)) / settings.pages) * 1e6 };
  }
  await latencies(httpPage); // warm-up of both paths
  await latencies(storePage);
  const httpPages = await latencies(httpPage);
  const storePages = await latencies(storePage);
  console.log(`\npage latency: a page of ${PAGE_SIZE} of a ${TOPIC_ENVELOPES}-envelope topic, ${settings.pages} pages one after another`);
  printTable(
    ["door", "p50", "p99", "node CPU per page"],
    [
      ["HTTP /query", `${httpPages.p50.toFixed(2)} ms`, `${httpPages.p99.toFixed(2)} ms`, `${httpPages.cpuMicros.toFixed(0)} µs`],
      ["Waku Store v3", `${storePages.p50.toFixed(2)} ms`, `${storePages.p99.toFixed(2)} ms`, `${storePages.cpuMicros.toFixed(0)} µs`],
    ],
  );
  console.log(
    `Store page latency p50 = ${(storePages.p50 / httpPages.p50).toFixed(2)}x HTTP /query; ` +
      `node CPU per page = ${(storePages.cpuMicros / httpPages.cpuMicros).toFixed(2)}x`,
  );
  agent.destroy();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error) : error}`);
  console.error(node.logs.filter((line) => line.includes('"level":"warn"') || line.includes('"level":"error"')).slice(-10).join("\n"));
  process.exitCode = 1;
} finally {
  await light?.stop();
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
