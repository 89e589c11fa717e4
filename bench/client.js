// `node bench/client.js` (after `npm run build`): reading cold with @xmtp-ts/client vs the public SDK
// @xmtp/xmtp-js 13, on the same real node in the same run.
//
//   list:          a fresh client lists 150 v2 conversations with 150 different peers (every invitation costs the
//                  full crypto: the worst case for us)
//   list, 3/peer:  150 conversations with 50 peers, 3 conversationIds each (a peer's bundle check and X3DH are
//                  done once per client by us, every time by the SDK)
//   messages:      a fresh client lists, then reads one conversation of 400 messages (both parties writing)
//
// Each measure runs BENCH_CLIENT_ROUNDS (5) rounds per client, SDK and ours alternating, each round with a new
// client instance (nothing cached); the median counts. The ratio is SDK time / our time (target ≥ 5).
// The whole runs once per inbox size in BENCH_CLIENT_CONVERSATIONS ("150,1000"), each on a node of its own.
// Environment: BENCH_CLIENT_CONVERSATIONS ("150,1000"), BENCH_CLIENT_MESSAGES (400), BENCH_CLIENT_ROUNDS (5).
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet, getBytes } from "ethers";
import { Client } from "@xmtp-ts/client";
import {
  createInvitation,
  encryptMessageV2,
  generatePrivateKeyBundleV1,
  inviteTopic,
  userKeysFromBundle,
} from "@xmtp-ts/crypto";
import { intFromEnv, median, printTable, startServer, timed } from "./support.js";

const require = createRequire(import.meta.url);
// The public SDK's ES-module build fails on Node 20; its CJS build works.
const sdk = require("@xmtp/xmtp-js");

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sizes = (process.env.BENCH_CLIENT_CONVERSATIONS || "150,1000").split(",").map((raw) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`BENCH_CLIENT_CONVERSATIONS must list positive integers, got ${JSON.stringify(raw)}`);
  return value;
});
const settings = {
  conversations: sizes[0],
  messages: intFromEnv("BENCH_CLIENT_MESSAGES", 400),
  rounds: intFromEnv("BENCH_CLIENT_ROUNDS", 5),
};
const TARGET_RATIO = 5;

/** @typedef {import("@xmtp-ts/crypto").UserKeys} UserKeys */
/** @typedef {{ peer: UserKeys; sealed: import("@xmtp-ts/crypto").SealedInvitationResult }} SeededConversation */
/** @typedef {"list" | "sharedList" | "messages"} Measure */

const signTextWith = (/** @type {import("ethers").Signer} */ wallet) => async (/** @type {string} */ text) =>
  getBytes(await wallet.signMessage(text));

async function newIdentity() {
  const wallet = Wallet.createRandom();
  return userKeysFromBundle(await generatePrivateKeyBundleV1(signTextWith(wallet)));
}

/**
 * `count` invitations to the reader from `count / perPeer` peers, published the way the SDK publishes them (both
 * invite topics); a peer's conversations differ by conversationId.
 * @param {Client} reader
 * @param {number} count
 * @param {number} [perPeer]
 */
async function seedConversations(reader, count, perPeer = 1) {
  /** @type {SeededConversation[]} */
  const peers = [];
  /** @type {UserKeys | undefined} */
  let peer;
  for (let i = 0; i < count; i++) {
    if (i % perPeer === 0 || peer === undefined) peer = await newIdentity();
    const context = perPeer > 1 ? { conversationId: `bench/${i % perPeer}`, metadata: {} } : undefined;
    const sealed = await createInvitation({ sender: peer, recipient: reader.signedPublicKeyBundle, context });
    await reader.api.publish([
      { contentTopic: inviteTopic(reader.address), timestampNs: sealed.createdNs, message: sealed.bytes },
      { contentTopic: inviteTopic(peer.walletAddress), timestampNs: sealed.createdNs, message: sealed.bytes },
    ]);
    peers.push({ peer, sealed });
  }
  return peers;
}

/**
 * `count` messages in one conversation, alternating between the reader and the peer.
 * @param {Client} reader
 * @param {SeededConversation} conversation
 * @param {number} count
 */
async function seedMessages(reader, { peer, sealed }, count) {
  const baseNs = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < count; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 50); j++) {
      const sender = j % 2 === 0 ? peer : reader.keys;
      const createdNs = baseNs + BigInt(j) * 1_000_000n;
      const text = `message ${j}: ${"lorem ipsum dolor sit amet ".repeat(1 + (j % 4))}`;
      const content = (await reader.encodeContent(text)).payload;
      const { bytes } = await encryptMessageV2({ sender, keyMaterial: sealed.keyMaterial, topic: sealed.topic, content, createdNs });
      batch.push({ contentTopic: sealed.topic, timestampNs: createdNs, message: bytes });
    }
    await reader.api.publish(batch);
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-client-"));
  const node = await startServer("xmtp-node", join(repoRoot, "packages/node/dist/main.js"), [
    "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir,
  ]);
  try {
    const apiUrl = node.url;
    const wallet = Wallet.createRandom();
    const reader = await Client.create(wallet, { apiUrl });
    console.log(`node ${apiUrl}; seeding ${settings.conversations} conversations and ${settings.messages} messages…`);
    const peers = await seedConversations(reader, settings.conversations);
    const busy = peers[peers.length - 1];
    await seedMessages(reader, busy, settings.messages);
    const sharingWallet = Wallet.createRandom();
    const sharingReader = await Client.create(sharingWallet, { apiUrl });
    await seedConversations(sharingReader, settings.conversations, 3);

    /**
     * @param {"sdk" | "ours"} kind
     * @param {import("ethers").HDNodeWallet} walletToUse
     */
    const listOnce = async (kind, walletToUse) => {
      const client =
        kind === "sdk"
          ? await sdk.Client.create(walletToUse, { apiUrl, env: "local", skipContactPublishing: true })
          : await Client.create(walletToUse, { apiUrl, skipContactPublishing: true });
      const { ms, cpuMs, result } = await timed(/** @type {() => Promise<unknown[]>} */ (() => client.conversations.list()));
      if (result.length !== settings.conversations) throw new Error(`${kind} listed ${result.length} conversations`);
      return { ms, cpuMs };
    };

    /** @type {Record<Measure, { sdk: number[]; ours: number[] }>} */
    const results = { list: { sdk: [], ours: [] }, sharedList: { sdk: [], ours: [] }, messages: { sdk: [], ours: [] } };
    /** @type {Record<Measure, { sdk: number[]; ours: number[] }>} */
    const cpu = { list: { sdk: [], ours: [] }, sharedList: { sdk: [], ours: [] }, messages: { sdk: [], ours: [] } };
    /**
     * @param {Measure} name
     * @param {"sdk" | "ours"} kind
     * @param {{ ms: number; cpuMs: number }} measured
     */
    const record = (name, kind, { ms, cpuMs }) => {
      results[name][kind].push(ms);
      cpu[name][kind].push(cpuMs);
    };
    for (let round = 0; round < settings.rounds; round++) {
      // Every measure uses a new client instance (keys loaded from the network, nothing cached), SDK and ours in turn.
      record("list", "sdk", await listOnce("sdk", wallet));
      record("list", "ours", await listOnce("ours", wallet));
      record("sharedList", "sdk", await listOnce("sdk", sharingWallet));
      record("sharedList", "ours", await listOnce("ours", sharingWallet));
      {
        const client = await sdk.Client.create(wallet, { apiUrl, env: "local", skipContactPublishing: true });
        const conversation = (await client.conversations.list()).find((c) => c.topic === busy.sealed.topic);
        if (!conversation) throw new Error("the SDK did not list the conversation of many messages");
        const measured = await timed(() => conversation.messages());
        if (measured.result.length !== settings.messages) throw new Error(`SDK read ${measured.result.length} messages`);
        record("messages", "sdk", measured);
      }
      {
        const client = await Client.create(wallet, { apiUrl, skipContactPublishing: true });
        const conversation = (await client.conversations.list()).find((c) => c.topic === busy.sealed.topic);
        if (!conversation) throw new Error("we did not list the conversation of many messages");
        const measured = await timed(() => conversation.messages());
        const failed = measured.result.filter((m) => m.error);
        if (measured.result.length !== settings.messages || failed.length) {
          throw new Error(`we read ${measured.result.length} messages, ${failed.length} with errors`);
        }
        record("messages", "ours", measured);
      }
    }

    const rows = [];
    /** @type {Record<string, number>} */
    const ratios = {};
    for (const [name, label] of /** @type {[Measure, string][]} */ ([
      ["list", `list ${settings.conversations} conversations`],
      ["sharedList", `list ${settings.conversations}, 3 per peer`],
      ["messages", `read ${settings.messages} messages`],
    ])) {
      const sdkMs = median(results[name].sdk);
      const oursMs = median(results[name].ours);
      ratios[name] = sdkMs / oursMs;
      rows.push([label, `${sdkMs.toFixed(0)} ms`, `${oursMs.toFixed(0)} ms`, `${ratios[name].toFixed(2)}x`, ratios[name] >= TARGET_RATIO ? "ok" : "MISSED"]);
    }
    console.log("");
    printTable(["cold read (median of " + settings.rounds + ")", "@xmtp/xmtp-js 13", "@xmtp-ts/client", "SDK / ours", `target ≥ ${TARGET_RATIO}x`], rows);
    const rounds = (/** @type {number[]} */ values) => values.map((v) => v.toFixed(0)).join(", ");
    console.log("\nrounds (ms):");
    const measures = /** @type {Measure[]} */ (Object.keys(results));
    for (const name of measures) console.log(`  ${name}: SDK [${rounds(results[name].sdk)}] ours [${rounds(results[name].ours)}]`);
    console.log("CPU time of the process (all threads), ms:");
    /** @type {Record<string, number>} */
    const cpuRatios = {};
    for (const name of measures) {
      cpuRatios[name] = median(cpu[name].sdk) / median(cpu[name].ours);
      console.log(`  ${name}: SDK [${rounds(cpu[name].sdk)}] ours [${rounds(cpu[name].ours)}] ratio of medians ${cpuRatios[name].toFixed(2)}x`);
    }
    console.log(
      `client list ratio: ${ratios.list.toFixed(2)}x (3 per peer: ${ratios.sharedList.toFixed(2)}x); client messages ratio: ${ratios.messages.toFixed(2)}x`,
    );
    console.log(
      `client CPU ratios: list ${cpuRatios.list.toFixed(2)}x (3 per peer: ${cpuRatios.sharedList.toFixed(2)}x); messages ${cpuRatios.messages.toFixed(2)}x`,
    );
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function mainForEverySize() {
  for (const size of sizes) {
    settings.conversations = size;
    await main();
  }
}

mainForEverySize().catch((err) => {
  console.error(err);
  process.exit(1);
});
