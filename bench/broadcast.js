// Broadcast (issue 18): one sender announces to BENCH_BROADCAST_RECIPIENTS wallets that are on the network and have
// never talked with it, through `client.broadcast` (canMessage checks in batches, a new conversation each: an
// invitation to both parties, then the message), against a node (its own process, SQLite, rate limits off). In the
// same run, the baseline: the node's raw publish rate, one envelope per request, as many requests in flight as the
// broadcast's concurrency. A broadcast message costs three envelopes here (two invitations and the message). The
// broadcast keeps its resume state in a file, as the CLI does; before it, the cost of saving one group of changes
// to a state of that many recipients, by rewriting the whole file and by appending to its journal.
//
//   npm run build && node bench/broadcast.js
//
// Environment: BENCH_BROADCAST_RECIPIENTS (10,000), BENCH_BROADCAST_CONCURRENCY (8), BENCH_ROUND_MS (3,000).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import { Client, FileStateStore, HttpMessageApi } from "@xmtp-ts/client";
import {
  compactToWalletSignature,
  contactTopic,
  createAuthToken,
  encodeContactBundleV1,
  encodeContactBundleV2,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  getPublicKey,
  hashPersonalMessage,
  legacyPrivateKeyScalar,
  legacyPublicKeyOf,
  publicKeyToAddress,
  signDigest,
  userKeysFromBundle,
} from "@xmtp-ts/crypto";
import { closedLoop, intFromEnv, makeToken, nodeMainPath, printTable, startServer } from "./support.js";

const RECIPIENTS = intFromEnv("BENCH_BROADCAST_RECIPIENTS", 10_000);
const CONCURRENCY = intFromEnv("BENCH_BROADCAST_CONCURRENCY", 8);
const ROUND_MS = intFromEnv("BENCH_ROUND_MS", 3_000);

/** An identity on the node: keys from a raw private key, its contact bundles published with its own token. */
async function publishIdentity(/** @type {string} */ apiUrl) {
  const privateKey = generatePrivateKey();
  const walletAddress = publicKeyToAddress(getPublicKey(privateKey));
  const signText = async (/** @type {string} */ text) => compactToWalletSignature(signDigest(hashPersonalMessage(text), privateKey));
  const keys = userKeysFromBundle(await generatePrivateKeyBundleV1(signText, { walletAddress }));
  const identity = /** @type {NonNullable<typeof keys.bundle.identityKey>} */ (keys.bundle.identityKey);
  const token = createAuthToken({
    identityKey: legacyPublicKeyOf(identity),
    identityPrivateKey: legacyPrivateKeyScalar(identity),
    walletAddress,
    createdNs: BigInt(Date.now()) * 1_000_000n,
  });
  const api = new HttpMessageApi({ apiUrl, authTokenProvider: async () => token });
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  await api.publish([
    { contentTopic: contactTopic(walletAddress), timestampNs: nowNs, message: encodeContactBundleV1(keys.publicBundle) },
    { contentTopic: contactTopic(walletAddress), timestampNs: nowNs + 1_000_000n, message: encodeContactBundleV2(keys.signedBundle) },
  ]);
  return walletAddress;
}

/**
 * Milliseconds (wall and CPU) per save of `group` changes to a state of `recipients`, whole rewrite vs journal append.
 * @param {string} dir
 * @param {number} recipients
 * @param {number} group
 */
async function stateFileCosts(dir, recipients, group, rounds = 100) {
  /** @type {import("@xmtp-ts/client").BroadcastState} */
  const state = {
    broadcastId: "bench",
    sender: "0x" + "1".repeat(40),
    contentSha256: "ab".repeat(32),
    createdAt: new Date().toISOString(),
    recipients: new Map(Array.from({ length: recipients }, (_, i) => ["0x" + i.toString(16).padStart(40, "0"), { status: "sent", at: Date.now() }])),
  };
  /**
   * @param {string} file
   * @param {(store: FileStateStore, changes: Map<string, import("@xmtp-ts/client").RecipientRecord>) => Promise<void>} save
   */
  const measure = async (file, save) => {
    const store = new FileStateStore(join(dir, file));
    await store.save(state);
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      const changes = new Map();
      for (let i = 0; i < group; i++) {
        const address = "0x" + ((round * group + i) % recipients).toString(16).padStart(40, "0");
        /** @type {import("@xmtp-ts/client").RecipientRecord} */
        const record = { status: "sent", at: Date.now() };
        state.recipients.set(address, record);
        changes.set(address, record);
      }
      await save(store, changes);
    }
    const used = process.cpuUsage(cpu);
    return { wallMs: (performance.now() - started) / rounds, cpuMs: (used.user + used.system) / 1000 / rounds };
  };
  const whole = await measure("whole.json", (store) => store.save(state));
  const appended = await measure("journal.json", (store, changes) => store.append(changes, state));
  return { whole, appended };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-broadcast-"));
  const stateCosts = await stateFileCosts(dataDir, RECIPIENTS, CONCURRENCY);
  const node = await startServer("node", nodeMainPath, ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--rate-limits", "off"]);
  try {
    const headers = { authorization: `Bearer ${await makeToken()}` };
    const baseline = await closedLoop({
      url: node.url,
      path: "/message/v1/publish",
      makeBody: () =>
        JSON.stringify({
          envelopes: [{ contentTopic: `/xmtp/0/m-bench-raw-${randomBytes(4).toString("hex")}/proto`, timestampNs: String(BigInt(Date.now()) * 1_000_000n), message: randomBytes(300).toString("base64") }],
        }),
      headers,
      connections: CONCURRENCY,
      durationMs: ROUND_MS,
    });

    process.stderr.write(`publishing ${RECIPIENTS.toLocaleString("en-US")} recipients' identities\n`);
    const addresses = new Array(RECIPIENTS);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < RECIPIENTS) {
          const i = next++;
          addresses[i] = await publishIdentity(node.url);
        }
      }),
    );

    const sender = await Client.create(Wallet.createRandom(), { apiUrl: node.url });
    process.stderr.write(`broadcasting to ${RECIPIENTS.toLocaleString("en-US")}\n`);
    let lastReport = performance.now();
    const started = performance.now();
    const report = await sender.broadcast(addresses, "an announcement to the community", {
      concurrency: CONCURRENCY,
      resumeFile: join(dataDir, "announcement.broadcast.json"),
      onProgress: (progress) => {
        if (performance.now() - lastReport < 5_000) return;
        lastReport = performance.now();
        process.stderr.write(`  ${progress.phase}: checked ${progress.checked}, sent ${progress.sent} of ${progress.total}\n`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const sent = report.sentThisRun;
    console.log(`\nBroadcast to ${RECIPIENTS.toLocaleString("en-US")} recipients, concurrency ${CONCURRENCY} (same run)`);
    printTable(
      ["measure", "value"],
      [
        ["node raw publish rate, one envelope per request (baseline), envelopes/s", Math.round(baseline.perSecond).toLocaleString("en-US")],
        ["broadcast, whole run (checks included), s", seconds.toFixed(1)],
        ["broadcast, messages/s", Math.round(sent / seconds).toLocaleString("en-US")],
        ["broadcast messages/s / node raw publish rate", `${(sent / seconds / baseline.perSecond).toFixed(2)}x`],
        ["the same counting the 3 envelopes each message costs", `${((3 * sent) / seconds / baseline.perSecond).toFixed(2)}x`],
        ["sent / not on the network / failed", `${sent} / ${report.notOnNetwork.length} / ${report.failed.length}`],
      ],
    );
    const ms = (/** @type {{ wallMs: number, cpuMs: number }} */ cost) => `${cost.wallMs.toFixed(2)} ms (CPU ${cost.cpuMs.toFixed(2)} ms)`;
    console.log(`\nResume file: saving ${CONCURRENCY} changes to a state of ${RECIPIENTS.toLocaleString("en-US")} recipients (same run)`);
    printTable(
      ["measure", "value"],
      [
        ["rewrite the whole state, synced", ms(stateCosts.whole)],
        ["append the changes to the journal, synced", ms(stateCosts.appended)],
        ["append / rewrite, wall; CPU", `${(stateCosts.appended.wallMs / stateCosts.whole.wallMs).toFixed(3)}x; ${(stateCosts.appended.cpuMs / stateCosts.whole.cpuMs).toFixed(3)}x`],
      ],
    );
    if (sent !== RECIPIENTS) throw new Error(`the broadcast sent ${sent} of ${RECIPIENTS}`);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
