// `node bench/postage.js` (after `npm run build`): what postage (docs/postage.md) costs a node, and what settling it
// costs on chain, each against a baseline measured in the same run.
//
//  1. publish cost. Two nodes run as child processes on this machine, one with `--postage off` and one with
//     `--postage required` (a PostageVault deployed on a local anvil chain, each payer with a deposit far above what
//     it spends, the node's default 5 s chain cache). Each publish is one real v2 invitation (SealedInvitation)
//     in one HTTP request, keep-alive, one connection per writer, BENCH_POSTAGE_CONNECTIONS writers at once,
//     written to a stranger's invite topic `/xmtp/0/invite-<address>/proto`. Everything is generated before the
//     clock starts: people and their keys, invitations, tokens, signed vouchers, request bodies.
//       a) baseline:      the postage-off node, no proof: what every public-SDK publish costs today. Note that a
//                         postage-off node still runs the postage gate (it reads the invitation header, verifies its
//                         two key bundles and records the relationship), so this is not a node without postage code;
//       b) paid:          the postage-required node, each envelope carrying a stamp (an EIP-712 voucher by the
//                         writer, who is its own payer; cumulative values strictly increasing per payer, one
//                         connection per payer publishing its stamps in order, so they never race);
//       c) prior contact: the postage-required node, writers replying with no proof at all to people who wrote to
//                         them first (those B → A invitations were paid and published before the clock starts; the
//                         node finds the prior contact itself, as it does for the public SDK).
//       a') replies, off: the postage-off node taking the same replies as c) (it was sent the same B → A invitations
//                         first, without stamps): the like-for-like baseline of c).
//     a) and b) publish the very same invitations (to different nodes); every recipient is a fresh stranger, so each
//     publish verifies one key bundle the node has not seen (the writer's is remembered). In a') and c) both parties'
//     bundles were seen during the set-up, which makes those publishes far cheaper than a): c/a mixes that in, c/a'
//     does not. Reported: throughput (publishes/s) and the node's CPU time per publish (from /proc: the figure that
//     does not depend on the machine's other load), best of BENCH_ROUNDS rounds taken in turn (a, b, a', c, a, b,
//     ...) after one warm-up round of each, and b/a, c/a, c/a' as ratios.
//  2. gas per redemption, on the same chain, with an operator of its own (not the node's): one redeem of the latest
//     voucher after N paid messages of one payer (N = 1, 10, 100): the gas is the same whatever N (a voucher is
//     cumulative), so gas per message = gas / N; and one redeemMany of k payers' latest vouchers (k = 1, 10, 50):
//     gas per voucher. Each is measured twice, from receipt.gasUsed: the channel's first redemption and the next one
//     (every later, periodic redemption). The vault packs `deposited` and `redeemed` into one storage slot, which a
//     deposit has made non-zero already, so the two should cost the same; the bench shows whether they do.
//
// Ends with one JSON line {"postageBenchmark": {...}}. Exit status is non-zero only if the benchmark itself fails.
//
// Options: --cpu-prof (profile the postage-required node; prints where it spends its time; the profile mixes the
// set-up, paid and prior-contact publishes).
// Environment: BENCH_ROUNDS (3), BENCH_POSTAGE_MESSAGES (publishes per round and scenario, 500),
// BENCH_POSTAGE_CONNECTIONS (writers publishing at once, one connection each, 4), BENCH_POSTAGE_CONTACTS (people who
// wrote first to each writer of c), 25), BENCH_NODE_MAIN (another build of the node), BENCH_NODE_ARGS (extra flags
// for both nodes, e.g. "--sqlite-sync normal" or "--postage-chain-cache-ms 0").
//
// Written locally rather than taken from support.js: starting anvil, people with XMTP keys and tokens for their own
// wallets (support.js makeToken only makes tokens of fresh random wallets), and passing the operator key to one
// child only (startServer takes no environment: it is set in process.env around that one spawn).
import http from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { Contract, Wallet, hexlify } from "ethers";
import {
  createAuthToken,
  createInvitation,
  fromHex,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  privateKeySigner,
  toBase64,
  userKeysFromBundle,
} from "@xmtp-ts/crypto";
import {
  POSTAGE_VAULT_ABI,
  PostageVaultClient,
  createChainProvider,
  deployVault,
  encodePostageProof,
  envelopeDigest,
  makePostageStamp,
  reachTopic,
  signVoucher,
  stampProof,
} from "@xmtp-ts/postage";
import {
  cpuSecondsOf,
  intFromEnv,
  nodeMainPath,
  post,
  printTable,
  startServer,
} from "./support.js";
import { summarizeProfile } from "./profileSummary.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nodeMain = nodeMainPath;
const extraNodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
const profiling = process.argv.slice(2).includes("--cpu-prof");

const settings = {
  rounds: intFromEnv("BENCH_ROUNDS", 3),
  messages: intFromEnv("BENCH_POSTAGE_MESSAGES", 500),
  connections: intFromEnv("BENCH_POSTAGE_CONNECTIONS", 4),
  contacts: intFromEnv("BENCH_POSTAGE_CONTACTS", 25),
};
const perConnection = Math.ceil(settings.messages / settings.connections);
const publishesPerRound = perConnection * settings.connections;

const PUBLISH_PATH = "/message/v1/publish";
const CHAIN_ID = 31337n;
/** The node's default price, 10^12 wei per envelope; deposits of 1 ETH cover a million envelopes. */
const PRICE_WEI = 1_000_000_000_000n;
const DEPOSIT_WEI = 10n ** 18n;
const VAULT_WITHDRAWAL_DELAY_SECONDS = 3_600n;
const REDEEM_AFTER = [1, 10, 100];
const REDEEM_MANY = [1, 10, 50];

/** @typedef {import("./support.js").RunningServer} RunningServer */
/** A wallet and its XMTP keys (makePerson). @typedef {{ address: string; keys: import("@xmtp-ts/crypto").UserKeys }} Person */
/** A person who wrote first, with that first invitation's publish bodies. @typedef {Person & { firstBody: string; firstBodyUnpaid: string }} Contact */
/** @typedef {{ contentTopic: string; message: Uint8Array; timestampNs: bigint; digest: Uint8Array }} InvitationEnvelope */
/** @typedef {Parameters<typeof encodePostageProof>[0]} PostageProof */
/** @typedef {import("@xmtp-ts/postage").SignedVoucher} SignedVoucher */
/** Request bodies per connection, for each kind of publish of one round. @typedef {{ baseline: string[][]; paid: string[][]; contact: string[][] }} RoundBodies */
/** @typedef {"baseline" | "paid" | "contactOff" | "contact"} ScenarioKey */
/** @typedef {{ perSecond: number; cpuMicros: number }} RoundResult */

// ---------------------------------------------------------------------------------------------------------------
// Child processes and the temporary directory: stopped and removed on every way out.

/** @type {{ anvil: import("node:child_process").ChildProcess | undefined; nodes: RunningServer[] }} */
const children = { anvil: undefined, nodes: [] };
const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-postage-"));
// Outside dataDir, which is removed at the end: a profile is kept for a closer look.
const profileDir = profiling ? mkdtempSync(join(tmpdir(), "xmtp-bench-postage-profile-")) : undefined;

function killEverything() {
  for (const node of children.nodes) node.kill();
  if (children.anvil && children.anvil.exitCode === null && children.anvil.signalCode === null) children.anvil.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
}
process.once("exit", killEverything);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    killEverything();
    process.exit(130);
  });
}

/**
 * The anvil binary of the @foundry-rs/anvil platform package (as packages/postage/src/test-support/anvil.ts runs
 * it), on a free port, with `accounts` funded dev accounts whose keys it prints. Its output is drained for as long
 * as it runs: anvil logs every request, and a full pipe would stall it.
 * @param {number} accounts
 */
async function startAnvil(accounts) {
  const require = createRequire(import.meta.url);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const binary = join(dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)), "bin", "anvil");
  const child = spawn(binary, ["--port", "0", "--host", "127.0.0.1", "--chain-id", String(CHAIN_ID), "--accounts", String(accounts)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.anvil = child;
  let output = "";
  /** @type {string[]} */
  const keys = [];
  child.stderr.on("data", (chunk) => (output = (output + chunk.toString("utf8")).slice(-20_000)));
  /** @type {string} */
  const rpcUrl = await new Promise((resolvePromise, reject) => {
    let pending = "";
    let listening = false;
    const timer = setTimeout(() => reject(new Error(`anvil did not listen within 20 s:\n${output}`)), 20_000);
    child.once("error", (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
    child.once("exit", (code, signal) => {
      if (!listening) reject(new Error(`anvil exited (${code ?? signal}) before listening:\n${output}`));
    });
    child.stdout.on("data", (chunk) => {
      if (listening) return; // drained
      const text = chunk.toString("utf8");
      output = (output + text).slice(-20_000);
      pending += text;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        const key = /^\((\d+)\) (0x[0-9a-fA-F]{64})$/.exec(line);
        if (key) keys[Number(key[1])] = key[2];
        const address = /Listening on ([\w.:[\]-]+):(\d+)/.exec(line);
        if (address) {
          listening = true;
          clearTimeout(timer);
          resolvePromise(`http://${address[1]}:${address[2]}`);
          return;
        }
      }
    });
  });
  if (keys.length < accounts || keys.some((key) => !key)) throw new Error(`anvil listed ${keys.length} keys, ${accounts} wanted:\n${output}`);
  return { rpcUrl, keys };
}

/**
 * @param {string} name
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 */
async function startNode(name, args, env = {}) {
  /** @type {string[]} */
  const nodeFlags = [];
  if (profileDir && name.includes("required")) nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let node;
  try {
    node = startServer(name, nodeMain, args, { nodeFlags });
  } finally {
    // The child has its environment once spawned (synchronously inside startServer); nothing else gets the key.
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const started = await node;
  children.nodes.push(started);
  return started;
}

// ---------------------------------------------------------------------------------------------------------------
// People, envelopes and proofs, as packages/postage/src/test-support/people.ts makes them, in plain JS.

/**
 * A wallet (a dev account's key, or a fresh one) with its XMTP keys: wallet-signed identity key, signed pre-key.
 * @param {string} [privateKeyHex]
 * @returns {Promise<Person>}
 */
async function makePerson(privateKeyHex) {
  const signer = privateKeySigner(privateKeyHex ? fromHex(privateKeyHex) : generatePrivateKey());
  const keys = userKeysFromBundle(await generatePrivateKeyBundleV1(async (text) => fromHex(await signer.signMessage(text))));
  if (keys.walletAddress !== signer.address) throw new Error(`identity key signed by ${keys.walletAddress}, not ${signer.address}`);
  return { address: signer.address, keys };
}

/**
 * A publish token of this person's own wallet, signed by its identity key (docs/protocol/api.md §4).
 * @param {Person} person
 */
function tokenOf(person) {
  return createAuthToken({
    identityKey: person.keys.identityKey,
    identityPrivateKey: person.keys.identityPrivateKey,
    walletAddress: person.address,
    createdNs: BigInt(Date.now()) * 1_000_000n,
  });
}

/**
 * A real v2 invitation from `sender` to `recipient`, on the recipient's invite topic.
 * @param {Person} sender
 * @param {Person} recipient
 * @returns {Promise<InvitationEnvelope>}
 */
async function invitationEnvelope(sender, recipient) {
  const { bytes, createdNs } = await createInvitation({ sender: sender.keys, recipient: recipient.keys.signedBundle });
  const contentTopic = reachTopic("invite", recipient.address);
  return { contentTopic, message: bytes, timestampNs: createdNs, digest: envelopeDigest(contentTopic, bytes) };
}

/**
 * The publish request body of one envelope, with its postage proof when given.
 * @param {InvitationEnvelope} envelope
 * @param {PostageProof} [proof]
 */
function publishBody(envelope, proof) {
  /** @type {{ contentTopic: string; timestampNs: string; message: string; postage?: string }} */
  const entry = {
    contentTopic: envelope.contentTopic,
    timestampNs: String(envelope.timestampNs),
    message: toBase64(envelope.message),
  };
  if (proof) entry.postage = toBase64(encodePostageProof(proof));
  return JSON.stringify({ envelopes: [entry] });
}

/** Signs payers' vouchers in order: each one's cumulative is the payer's previous one plus the price. */
class Payers {
  /** @param {import("@xmtp-ts/postage").VoucherDomain} domain */
  constructor(domain) {
    this.domain = domain;
    /** @type {Map<string, bigint>} cumulative owed per payer address */
    this.owed = new Map();
  }

  /**
   * @param {Wallet} wallet
   * @param {string} operator
   * @param {Uint8Array} digest
   * @returns {Promise<SignedVoucher>}
   */
  async voucher(wallet, operator, digest, price = PRICE_WEI) {
    const cumulative = (this.owed.get(wallet.address) ?? 0n) + price;
    this.owed.set(wallet.address, cumulative);
    const voucher = { payer: wallet.address, operator, cumulative, digest };
    return { voucher, signature: await signVoucher(wallet, voucher, this.domain) };
  }

  /**
   * @param {Wallet} wallet
   * @param {string} operator
   * @param {Uint8Array} digest
   */
  async stamp(wallet, operator, digest) {
    const { voucher, signature } = await this.voucher(wallet, operator, digest);
    return stampProof(makePostageStamp({ payer: voucher.payer, operator, cumulative: voucher.cumulative, signature }));
  }
}

/**
 * @template T, R
 * @param {T[]} items
 * @param {number} size
 * @param {(item: T) => Promise<R>} work
 */
async function inBatches(items, size, work) {
  /** @type {R[]} */
  const results = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Load.

/**
 * One round: each connection (its own keep-alive socket, its writer's token) publishes its bodies one after another,
 * all connections at once. Any answer but 200 aborts the benchmark. Throughput and the node's CPU per publish.
 * @param {RunningServer} node
 * @param {string[][]} bodiesByConnection
 * @param {string[]} tokens
 * @returns {Promise<RoundResult>}
 */
async function publishRound(node, bodiesByConnection, tokens) {
  const agents = bodiesByConnection.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const total = bodiesByConnection.reduce((sum, bodies) => sum + bodies.length, 0);
  const cpuBefore = cpuSecondsOf(node.pid);
  const started = performance.now();
  try {
    await Promise.all(
      bodiesByConnection.map(async (bodies, i) => {
        const headers = { authorization: `Bearer ${tokens[i]}` };
        for (const body of bodies) {
          const answer = await post(agents[i], node.url, PUBLISH_PATH, body, headers);
          if (answer.status !== 200) throw new Error(`${node.name} answered HTTP ${answer.status}: ${answer.body.slice(0, 400)}`);
        }
      }),
    );
  } finally {
    for (const agent of agents) agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuSecondsOf(node.pid);
  const cpuMicros = cpuBefore === undefined || cpuAfter === undefined ? NaN : ((cpuAfter - cpuBefore) * 1e6) / total;
  return { perSecond: total / seconds, cpuMicros };
}

/** @param {RunningServer} node */
async function metricsOf(node) {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  /** @type {Record<string, number>} */
  const decisions = {};
  for (const match of text.matchAll(/^xmtp_postage_decisions_total\{outcome="(\w+)",reason="(\w+)"\} (\d+)/gm)) {
    decisions[`${match[1]}/${match[2]}`] = Number(match[3]);
  }
  return decisions;
}

const seconds = (/** @type {number} */ since) => ((performance.now() - since) / 1000).toFixed(1);

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const benchStarted = performance.now();
  console.log(
    `postage bench: ${availableParallelism()} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ` +
      `${publishesPerRound} publishes per round and scenario over ${settings.connections} connections, ` +
      `${settings.rounds} rounds + 1 warm-up`,
  );

  // Accounts: the deployer, the node's operator, the gas part's operator, the payer of the set-up of c), the
  // writers of a) and b) (each its own payer), the payers of the gas part.
  const gasPayerCount = REDEEM_AFTER.length + REDEEM_MANY.reduce((a, b) => a + b, 0);
  const accountCount = 4 + settings.connections + gasPayerCount;
  const anvil = await startAnvil(accountCount);
  const provider = createChainProvider(anvil.rpcUrl, { chainId: CHAIN_ID, pollingIntervalMs: 20 });
  try {
    const [deployerKey, nodeOperatorKey, gasOperatorKey, setupPayerKey, ...rest] = anvil.keys;
    const writerKeys = rest.slice(0, settings.connections);
    const gasPayerKeys = rest.slice(settings.connections, settings.connections + gasPayerCount);
    const wallet = (/** @type {string} */ key) => new Wallet(key, provider);
    const nodeOperator = wallet(nodeOperatorKey).address;
    const gasOperator = wallet(gasOperatorKey);

    let since = performance.now();
    const vault = await deployVault(wallet(deployerKey), VAULT_WITHDRAWAL_DELAY_SECONDS);
    const payers = new Payers({ chainId: CHAIN_ID, vault });
    const writerWallets = writerKeys.map(wallet);
    const setupPayer = wallet(setupPayerKey);
    const gasPayers = gasPayerKeys.map(wallet);
    await inBatches([...writerWallets, setupPayer], 8, (payer) => new PostageVaultClient(vault, payer).deposit(nodeOperator, DEPOSIT_WEI));
    await inBatches(gasPayers, 8, (payer) => new PostageVaultClient(vault, payer).deposit(gasOperator.address, DEPOSIT_WEI));
    console.log(`anvil ${anvil.rpcUrl}: vault ${vault}, ${accountCount - 3} deposits of 1 ETH (${seconds(since)} s)`);

    since = performance.now();
    const nodeArgs = (/** @type {string} */ dir) => ["--host", "127.0.0.1", "--port", "0", "--data-dir", join(dataDir, dir), "--rate-limits", "off", ...extraNodeArgs];
    const offNode = await startNode("node, postage off", nodeArgs("off"));
    const paidNode = await startNode(
      "node, postage required",
      [...nodeArgs("required"), "--postage", "required", "--postage-rpc", anvil.rpcUrl, "--postage-vault", vault, "--postage-price", String(PRICE_WEI)],
      { XMTP_POSTAGE_OPERATOR_KEY: nodeOperatorKey },
    );
    console.log(`nodes: postage off ${offNode.url} (pid ${offNode.pid}), postage required ${paidNode.url} (pid ${paidNode.pid}, operator ${nodeOperator}) (${seconds(since)} s)`);
    if (extraNodeArgs.length) console.log(`       extra flags: ${extraNodeArgs.join(" ")}`);

    // ---- Everything the publishes need, before any clock starts.
    since = performance.now();
    const writers = await Promise.all(writerKeys.map((key) => makePerson(key)));
    const writerTokens = writers.map(tokenOf);
    /** @type {RoundBodies[]} */
    const sets = []; // per round (0 = warm-up): bodies per connection for a), b), c)
    for (let round = 0; round <= settings.rounds; round++) {
      /** @type {string[][]} */
      const baseline = [];
      /** @type {string[][]} */
      const paid = [];
      for (let w = 0; w < settings.connections; w++) {
        baseline.push([]);
        paid.push([]);
        for (let i = 0; i < perConnection; i++) {
          const stranger = await makePerson();
          const envelope = await invitationEnvelope(writers[w], stranger);
          baseline[w].push(publishBody(envelope));
          paid[w].push(publishBody(envelope, await payers.stamp(writerWallets[w], nodeOperator, envelope.digest)));
        }
      }
      sets.push({ baseline, paid, contact: [] }); // contact: filled below, once the repliers exist
    }
    console.log(`generated ${sets.length * publishesPerRound} invitations to fresh strangers and their stamps (${seconds(since)} s)`);

    // c): each replier A has `contacts` people B who wrote to A first, paid (by an app's payer: the stamp's payer need
    // not be the writer; B's token proves B wrote it, and that makes the record (B, A)).
    since = performance.now();
    const repliers = await Promise.all(Array.from({ length: settings.connections }, () => makePerson()));
    const replierTokens = repliers.map(tokenOf);
    /** @type {Contact[][]} */
    const contacts = [];
    for (let a = 0; a < repliers.length; a++) {
      contacts.push([]);
      for (let j = 0; j < settings.contacts; j++) {
        const person = await makePerson();
        const envelope = await invitationEnvelope(person, repliers[a]);
        contacts[a].push({
          ...person,
          firstBody: publishBody(envelope, await payers.stamp(setupPayer, nodeOperator, envelope.digest)),
          firstBodyUnpaid: publishBody(envelope),
        });
      }
    }
    for (let round = 0; round <= settings.rounds; round++) {
      for (let a = 0; a < repliers.length; a++) {
        /** @type {string[]} */
        const bodies = [];
        for (let i = 0; i < perConnection; i++) {
          const contact = contacts[a][(round * perConnection + i) % settings.contacts];
          bodies.push(publishBody(await invitationEnvelope(repliers[a], contact)));
        }
        sets[round].contact.push(bodies);
      }
    }
    const firstContacts = contacts.flat();
    for (const contact of firstContacts) {
      const headers = { authorization: `Bearer ${tokenOf(contact)}` };
      /** @type {[RunningServer, string][]} */
      const firstPublishes = [[paidNode, contact.firstBody], [offNode, contact.firstBodyUnpaid]];
      for (const [node, body] of firstPublishes) {
        const answer = await post(undefined, node.url, PUBLISH_PATH, body, headers);
        if (answer.status !== 200) throw new Error(`set-up publish to ${node.name} answered HTTP ${answer.status}: ${answer.body.slice(0, 400)}`);
      }
    }
    console.log(
      `prior contacts: ${firstContacts.length} invitations B -> A published to both nodes (paid on the required one); ` +
        `${sets.length * publishesPerRound} replies A -> B generated (${seconds(since)} s)`,
    );

    // ---- Publish rounds: a warm-up of each, then a, b, c in turn.
    /** @type {{ key: ScenarioKey; label: string; node: RunningServer; tokens: string[]; bodies: keyof RoundBodies }[]} */
    const scenarios = [
      { key: "baseline", label: "a) baseline: postage off, no proof", node: offNode, tokens: writerTokens, bodies: "baseline" },
      { key: "paid", label: "b) paid: postage required, stamp", node: paidNode, tokens: writerTokens, bodies: "paid" },
      { key: "contactOff", label: "a') replies: postage off, no proof", node: offNode, tokens: replierTokens, bodies: "contact" },
      { key: "contact", label: "c) prior contact: required, no proof", node: paidNode, tokens: replierTokens, bodies: "contact" },
    ];
    since = performance.now();
    const rounds = Object.fromEntries(scenarios.map((s) => [s.key, /** @type {RoundResult[]} */ ([])]));
    for (let round = 0; round <= settings.rounds; round++) {
      for (const scenario of scenarios) {
        const result = await publishRound(scenario.node, sets[round][scenario.bodies], scenario.tokens);
        if (round > 0) rounds[scenario.key].push(result);
      }
    }
    console.log(`publish rounds done (${seconds(since)} s)`);
    /** @type {Record<string, RoundResult>} */
    const best = {};
    for (const { key } of scenarios) {
      best[key] = {
        perSecond: Math.max(...rounds[key].map((r) => r.perSecond)),
        cpuMicros: Math.min(...rounds[key].map((r) => r.cpuMicros)),
      };
    }
    const decisions = await metricsOf(paidNode);
    const paidTotal = (settings.rounds + 1) * publishesPerRound + firstContacts.length;
    const freeTotal = (settings.rounds + 1) * publishesPerRound;
    if (decisions["paid/stamp"] !== paidTotal || decisions["free/prior_contact"] !== freeTotal) {
      throw new Error(`the postage-required node's decisions ${JSON.stringify(decisions)} are not ${paidTotal} paid, ${freeTotal} free by prior contact`);
    }

    console.log(
      `\npublish: one real v2 invitation per request, ${settings.connections} keep-alive connections, ` +
        `${publishesPerRound} per round; best of ${settings.rounds} rounds (throughput and CPU each at its best)`,
    );
    /**
     * @param {ScenarioKey} key
     * @param {keyof RoundResult} field
     * @param {ScenarioKey} [against]
     */
    const ratio = (key, field, against = "baseline") => best[key][field] / best[against][field];
    const versus = (/** @type {ScenarioKey} */ key, /** @type {ScenarioKey} */ against) =>
      `${ratio(key, "perSecond", against).toFixed(2)}x, ${ratio(key, "cpuMicros", against).toFixed(2)}x`;
    const extraCpu = (/** @type {ScenarioKey} */ key, /** @type {ScenarioKey} */ against) => {
      const micros = best[key].cpuMicros - best[against].cpuMicros;
      return `${micros >= 0 ? "+" : "-"}${Math.abs(micros).toFixed(0)} µs`;
    };
    printTable(
      ["scenario", "throughput", "node CPU per publish", "vs a) (throughput, CPU)", "vs a') (throughput, CPU)", "rounds (publishes/s)", "rounds (CPU µs)"],
      scenarios.map(({ key, label }) => [
        label,
        `${Math.round(best[key].perSecond)} /s`,
        `${best[key].cpuMicros.toFixed(0)} µs`,
        key === "baseline" ? "1" : versus(key, "baseline"),
        key === "contact" ? versus(key, "contactOff") : key === "contactOff" ? "1" : "",
        rounds[key].map((r) => r.perSecond.toFixed(0)).join(" "),
        rounds[key].map((r) => r.cpuMicros.toFixed(0)).join(" "),
      ]),
    );
    console.log(
      `paid (b/a): throughput ${ratio("paid", "perSecond").toFixed(2)}x, node CPU ${ratio("paid", "cpuMicros").toFixed(2)}x ` +
        `(${extraCpu("paid", "baseline")} per publish); prior contact (c/a): throughput ${ratio("contact", "perSecond").toFixed(2)}x, ` +
        `CPU ${ratio("contact", "cpuMicros").toFixed(2)}x; against the same replies on the postage-off node (c/a'): ` +
        `throughput ${ratio("contact", "perSecond", "contactOff").toFixed(2)}x, CPU ${ratio("contact", "cpuMicros", "contactOff").toFixed(2)}x ` +
        `(${extraCpu("contact", "contactOff")})`,
    );
    console.log(`postage-required node's decisions: ${JSON.stringify(decisions)}`);

    // ---- Gas per redemption, with an operator of its own.
    since = performance.now();
    const gasVault = new PostageVaultClient(vault, gasOperator);
    const rawVault = new Contract(vault, POSTAGE_VAULT_ABI, gasOperator);
    const digest = () => randomBytes(32);
    let next = 0;
    const redeemAfter = [];
    for (const n of REDEEM_AFTER) {
      const payer = gasPayers[next++];
      const gas = [];
      for (let pass = 0; pass < 2; pass++) {
        /** @type {SignedVoucher | undefined} */
        let latest;
        for (let i = 0; i < n; i++) latest = await payers.voucher(payer, gasOperator.address, digest());
        if (!latest) throw new Error(`no voucher after ${n} messages`);
        const receipt = await gasVault.redeem([latest]);
        gas.push(receipt.gasUsed);
      }
      const channel = await gasVault.channel(payer.address, gasOperator.address);
      if (channel.redeemed !== 2n * BigInt(n) * PRICE_WEI) throw new Error(`after redeeming ${n} + ${n} messages the channel has ${channel.redeemed} wei redeemed`);
      redeemAfter.push({ n, firstGas: Number(gas[0]), laterGas: Number(gas[1]) });
    }
    const redeemMany = [];
    for (const k of REDEEM_MANY) {
      const group = gasPayers.slice(next, next + k);
      next += k;
      const gas = [];
      for (let pass = 0; pass < 2; pass++) {
        const vouchers = await Promise.all(group.map((payer) => payers.voucher(payer, gasOperator.address, digest())));
        let receipt;
        if (vouchers.length > 1) receipt = await gasVault.redeem(vouchers);
        else {
          // PostageVaultClient sends a single voucher through redeem(); this is redeemMany with one.
          const { voucher, signature } = vouchers[0];
          const response = await rawVault.redeemMany(
            [{ payer: voucher.payer, operator: voucher.operator, cumulative: voucher.cumulative, digest: hexlify(voucher.digest) }],
            [hexlify(signature)],
          );
          receipt = await response.wait();
        }
        gas.push(receipt.gasUsed);
      }
      redeemMany.push({ k, firstGas: Number(gas[0]), laterGas: Number(gas[1]) });
    }
    console.log(`\ngas per redemption (receipt.gasUsed; first = the channel's first redemption, later = every one after) (${seconds(since)} s)`);
    printTable(
      ["redemption", "gas (first)", "per message/voucher (first)", "gas (later)", "per message/voucher (later)"],
      [
        ...redeemAfter.map(({ n, firstGas, laterGas }) => [
          `redeem, latest voucher after ${n} paid message${n > 1 ? "s" : ""}`,
          firstGas.toLocaleString("en-US"),
          `${(firstGas / n).toFixed(0)} per message`,
          laterGas.toLocaleString("en-US"),
          `${(laterGas / n).toFixed(0)} per message`,
        ]),
        ...redeemMany.map(({ k, firstGas, laterGas }) => [
          `redeemMany, ${k} payer${k > 1 ? "s" : ""}`,
          firstGas.toLocaleString("en-US"),
          `${(firstGas / k).toFixed(0)} per voucher`,
          laterGas.toLocaleString("en-US"),
          `${(laterGas / k).toFixed(0)} per voucher`,
        ]),
      ],
    );

    // ---- The end: stop the nodes (a profile is written on exit), the summary line.
    for (const node of children.nodes) await node.stop();
    if (profileDir) {
      const profiles = readdirSync(profileDir).filter((file) => file.endsWith(".cpuprofile"));
      if (profiles.length > 0) {
        console.log(`\nCPU profile of the postage-required node: ${join(profileDir, profiles[0])}\n`);
        summarizeProfile(join(profileDir, profiles[0]), { repoRoot });
      } else console.log(`\nno CPU profile was written to ${profileDir}`);
    }
    const figure = (/** @type {ScenarioKey} */ key) => ({
      perSecond: Math.round(best[key].perSecond),
      cpuMicrosPerPublish: Math.round(best[key].cpuMicros),
      rounds: rounds[key].map((r) => ({ perSecond: Math.round(r.perSecond), cpuMicros: Math.round(r.cpuMicros) })),
    });
    const twoPlaces = (/** @type {number} */ value) => Math.round(value * 100) / 100;
    console.log(`\n(whole bench ${seconds(benchStarted)} s)`);
    console.log(
      JSON.stringify({
        postageBenchmark: {
          settings: { ...settings, publishesPerRound, priceWei: String(PRICE_WEI), cores: availableParallelism() },
          publish: {
            baseline: figure("baseline"),
            paid: figure("paid"),
            priorContact: figure("contact"),
            repliesPostageOff: figure("contactOff"),
            ratios: {
              paidThroughput: twoPlaces(ratio("paid", "perSecond")),
              paidCpu: twoPlaces(ratio("paid", "cpuMicros")),
              priorContactThroughput: twoPlaces(ratio("contact", "perSecond")),
              priorContactCpu: twoPlaces(ratio("contact", "cpuMicros")),
              priorContactVsRepliesOffThroughput: twoPlaces(ratio("contact", "perSecond", "contactOff")),
              priorContactVsRepliesOffCpu: twoPlaces(ratio("contact", "cpuMicros", "contactOff")),
            },
          },
          gas: {
            redeemAfterMessages: redeemAfter.map(({ n, firstGas, laterGas }) => ({
              messages: n,
              firstGas,
              firstGasPerMessage: Math.round(firstGas / n),
              laterGas,
              laterGasPerMessage: Math.round(laterGas / n),
            })),
            redeemMany: redeemMany.map(({ k, firstGas, laterGas }) => ({
              payers: k,
              firstGas,
              firstGasPerVoucher: Math.round(firstGas / k),
              laterGas,
              laterGasPerVoucher: Math.round(laterGas / k),
            })),
          },
        },
      }),
    );
  } finally {
    provider.destroy();
  }
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error) : error}`);
  for (const node of children.nodes) {
    const lines = node.logs.filter((line) => line.includes('"level":"warn"') || line.includes('"level":"error"')).slice(-10);
    if (lines.length) console.error(`${node.name}:\n${lines.join("\n")}`);
  }
  process.exitCode = 1;
} finally {
  for (const node of children.nodes) await node.stop().catch(() => node.kill());
  const anvil = children.anvil;
  if (anvil && anvil.exitCode === null && anvil.signalCode === null) {
    const exited = new Promise((resolvePromise) => anvil.once("exit", resolvePromise));
    anvil.kill("SIGTERM");
    const timer = setTimeout(() => anvil.kill("SIGKILL"), 2_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dataDir, { recursive: true, force: true });
}
