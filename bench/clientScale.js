// `node bench/clientScale.js` (after `npm run build`): @xmtp-ts/client with 10,000 conversations, each with a
// different peer and dated over the past hour, and a consent list of 10,000 entries (one per peer, as one
// newConversation each writes), on a real node (its own process, SQLite, rate limits off for the seeding).
//
//   crypto floor:       ECDH/s of the crypto back end in use: opening one invitation takes three, so 10,000
//                       conversations cost at least 30,000 / (ECDH/s) seconds of one core; the ratio of the cold
//                       list to this floor is machine-independent enough to compare builds.
//   cold list:          a new client, no database: every invitation fetched and opened.
//   warm list:          a new client on a database a previous run filled: create + list (the node is asked only
//                       for invitations newer than the stored cursor).
//   consent list:       a new client loads the 10,000 entries (cold), a client on the database (warm).
//   newConversation:    with 10,000 existing: a new peer (contact fetched, invitation sealed and published, consent
//                       entry) and an existing one.
//   first message:      from process-level cold (new client, no database) and warm (database): create, find the
//                       conversation with an existing peer, send.
//
// Each measure runs BENCH_SCALE_ROUNDS (3) times; the median counts. Wall time and this process's CPU time (all
// threads) are both printed. Environment: BENCH_SCALE_CONVERSATIONS (10000), BENCH_SCALE_ROUNDS (3).
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@xmtp-ts/client";
import { encodePrivateKeyBundle, generatePrivateKey, getCryptoBackend, getPublicKey } from "@xmtp-ts/crypto";
import { newIdentity, seedConsent, seedConversations } from "./seedInbox.js";
import { cpuSecondsOf, intFromEnv, median, printTable, startServer, timed } from "./support.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const settings = {
  conversations: intFromEnv("BENCH_SCALE_CONVERSATIONS", 10_000),
  rounds: intFromEnv("BENCH_SCALE_ROUNDS", 3),
};
const TARGETS = { coldListMs: 3000, warmListMs: 300, newConversationMs: 50 };

/** @typedef {"cold" | "warm" | "consentCold" | "consentWarm" | "newPeer" | "existingPeer" | "firstCold" | "firstWarm"} RunName */
/** Wall and CPU time of one run of a measure (see `timed`). @typedef {{ ms: number; cpuMs: number }} Timing */


/** ECDH operations per second of the back end in use, on one core. */
async function ecdhPerSecond() {
  const backend = await getCryptoBackend();
  const keys = Array.from({ length: 64 }, () => generatePrivateKey());
  const points = keys.map((key) => getPublicKey(key));
  const operations = 3000;
  const started = performance.now();
  for (let i = 0; i < operations; i++) backend.curve.ecdhPoint(keys[i % 64], points[(i * 7 + 1) % 64]);
  return { name: backend.name, perSecond: operations / ((performance.now() - started) / 1000) };
}

async function main() {
  const floor = await ecdhPerSecond();
  console.log(`crypto back end: ${floor.name}, ${floor.perSecond.toFixed(0)} ECDH/s on one core; ${availableParallelism()} cores`);
  const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-scale-"));
  const dbDir = mkdtempSync(join(tmpdir(), "xmtp-bench-scale-db-"));
  const node = await startServer("xmtp-node", join(repoRoot, "packages/node/dist/main.js"), [
    "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--rate-limits", "off",
  ]);
  try {
    const apiUrl = node.url;
    const readerKeys = await newIdentity();
    const exported = encodePrivateKeyBundle(readerKeys.bundle);
    const connect = (/** @type {{ dbPath?: string }} */ options = {}) => Client.create(null, { apiUrl, privateKeyOverride: exported, skipContactPublishing: true, ...options });
    const reader = await Client.create(null, { apiUrl, privateKeyOverride: exported });
    const peers = await seedConversations(reader, settings.conversations);
    await seedConsent(reader, peers.map((peer) => peer.walletAddress));
    // Peers with a published contact, for newConversation with someone new.
    /** @type {Client[]} */
    const strangers = [];
    for (let i = 0; i < settings.rounds; i++) {
      const keys = await newIdentity();
      strangers.push(await Client.create(null, { apiUrl, privateKeyOverride: encodePrivateKeyBundle(keys.bundle) }));
    }

    // The peers the first-message measures write to publish their contacts, as every real peer has.
    const peerAt = (/** @type {number} */ round, /** @type {number} */ step, /** @type {number} */ offset) => peers[(round * step + offset) % peers.length];
    for (let round = 0; round < settings.rounds; round++) {
      for (const peer of [peerAt(round, 997, 0), peerAt(round, 389, 5)]) {
        await Client.create(null, { apiUrl, privateKeyOverride: encodePrivateKeyBundle(peer.bundle) });
      }
    }

    /** @type {Record<Exclude<RunName, "cold">, Timing[]> & { cold: (Timing & { nodeCpuMs: number })[] }} */
    const runs = { cold: [], warm: [], consentCold: [], consentWarm: [], newPeer: [], existingPeer: [], firstCold: [], firstWarm: [] };
    const dbPath = join(dbDir, "inbox.db");
    const fill = await timed(async () => {
      const client = await connect({ dbPath });
      const listed = await client.conversations.list();
      await client.consent.load();
      await client.close();
      return listed.length;
    });
    if (fill.result !== settings.conversations) throw new Error(`the database run listed ${fill.result} conversations`);

    for (let round = 0; round < settings.rounds; round++) {
      const nodeCpuBefore = cpuSecondsOf(node.pid);
      const cold = Object.assign(await timed(async () => (await connect()).conversations.list()), {
        nodeCpuMs: ((cpuSecondsOf(node.pid) ?? NaN) - (nodeCpuBefore ?? NaN)) * 1000,
      });
      // Each round adds one conversation (newConversation with a stranger, below).
      if (cold.result.length !== settings.conversations + round) throw new Error(`cold list found ${cold.result.length}`);
      runs.cold.push(cold);

      const warm = await timed(async () => {
        const client = await connect({ dbPath });
        return { client, listed: await client.conversations.list() };
      });
      const warmClient = warm.result.client;
      if (warm.result.listed.length !== settings.conversations + round) throw new Error(`warm list found ${warm.result.listed.length}`);
      runs.warm.push(warm);
      const consentWarm = await timed(async () => {
        await warmClient.consent.load();
        return warmClient.consent.entries().length;
      });
      runs.consentWarm.push(consentWarm);
      const consentCold = await timed(async () => {
        const client = await connect();
        await client.consent.load();
        return client.consent.entries().length;
      });
      runs.consentCold.push(consentCold);
      for (const { result } of [consentWarm, consentCold]) {
        if (result < settings.conversations) throw new Error(`the consent list has ${result} entries`);
      }
      runs.newPeer.push(await timed(() => warmClient.conversations.newConversation(strangers[round].address)));
      const existing = peerAt(round, 997, 0).walletAddress;
      runs.existingPeer.push(await timed(() => warmClient.conversations.newConversation(existing)));
      await warmClient.close();

      const other = peerAt(round, 389, 5).walletAddress;
      runs.firstCold.push(
        await timed(async () => {
          const client = await connect();
          await (await client.conversations.newConversation(other)).send("hello from a cold start");
        }),
      );
      runs.firstWarm.push(
        await timed(async () => {
          const client = await connect({ dbPath });
          await (await client.conversations.newConversation(other)).send("hello from a warm start");
          await client.close();
        }),
      );
    }

    const floorMs = (settings.conversations * 3 * 1000) / floor.perSecond;
    const ms = (/** @type {RunName} */ name) => median(runs[name].map((r) => r.ms));
    const cpuMs = (/** @type {RunName} */ name) => median(runs[name].map((r) => r.cpuMs));
    const n = settings.conversations.toLocaleString("en-US");
    const rows = /** @type {[string, number, number, string, boolean | undefined][]} */ ([
      [`cold list of ${n}`, ms("cold"), cpuMs("cold"), `≤ ${TARGETS.coldListMs} ms`, ms("cold") <= TARGETS.coldListMs],
      [`warm list of ${n} (create + list)`, ms("warm"), cpuMs("warm"), `≤ ${TARGETS.warmListMs} ms`, ms("warm") <= TARGETS.warmListMs],
      [`consent list of ${n} entries, cold load`, ms("consentCold"), cpuMs("consentCold"), "", undefined],
      [`consent list, warm load (database)`, ms("consentWarm"), cpuMs("consentWarm"), "", undefined],
      [`newConversation, new peer, ${n} existing`, ms("newPeer"), cpuMs("newPeer"), `≤ ${TARGETS.newConversationMs} ms`, ms("newPeer") <= TARGETS.newConversationMs],
      [`newConversation, existing peer`, ms("existingPeer"), cpuMs("existingPeer"), `≤ ${TARGETS.newConversationMs} ms`, ms("existingPeer") <= TARGETS.newConversationMs],
      [`first message, cold start`, ms("firstCold"), cpuMs("firstCold"), "", undefined],
      [`first message, warm start`, ms("firstWarm"), cpuMs("firstWarm"), "", undefined],
    ]).map(([label, wall, cpu, target, met]) => [
      label,
      `${wall.toFixed(1)} ms`,
      `${cpu.toFixed(1)} ms`,
      target,
      met === undefined ? "" : met ? "ok" : "MISSED",
    ]);
    console.log("");
    printTable([`client at scale (median of ${settings.rounds})`, "wall", "CPU (all threads)", "target", ""], rows);
    console.log(`filling the database (first run with dbPath: cold list + writes): ${fill.ms.toFixed(0)} ms`);
    console.log(
      `cold list / crypto floor (${n} × 3 ECDH on one core = ${floorMs.toFixed(0)} ms): ${(ms("cold") / floorMs).toFixed(2)}x wall, ` +
        `${(cpuMs("cold") / floorMs).toFixed(2)}x CPU`,
    );
    console.log(`warm list / cold list: ${(ms("warm") / ms("cold")).toFixed(3)}x`);
    // On one machine the node serving the 100 pages competes with the client for the same cores: no cold list can
    // take less wall time than all that CPU spread over every core.
    const nodeCpuMs = median(runs.cold.map((r) => r.nodeCpuMs));
    const cores = availableParallelism();
    console.log(
      `cold list CPU: client ${cpuMs("cold").toFixed(0)} ms + node ${nodeCpuMs.toFixed(0)} ms over ${cores} cores = ` +
        `${((cpuMs("cold") + nodeCpuMs) / cores).toFixed(0)} ms at the least on this machine; wall ${ms("cold").toFixed(0)} ms`,
    );
    const rounds = (/** @type {RunName} */ name) => runs[name].map((r) => r.ms.toFixed(0)).join(", ");
    console.log("rounds (ms): " + /** @type {RunName[]} */ (Object.keys(runs)).map((name) => `${name} [${rounds(name)}]`).join("; "));
    await reader.close();
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dbDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
