// `node bench/clientBrowser.js` (after `npm run build`): @xmtp-ts/client in headless Chromium, listing an inbox of
// 1,000 conversations, each with a different peer, on a real node (its own process, rate limits off).
//
//   cold list, noble:           a fresh client (create + list), no database, on the browsers' default back end
//                               (noble, plain JavaScript), every invitation opened in the page's thread: the browser
//                               path before libsecp256k1 and Web Workers came to the browser. Baseline.
//   cold list, wasm:            the same on libsecp256k1 compiled to WebAssembly (useWasmSecp256k1), still all in
//                               the page's thread.
//   cold list, wasm + workers:  the same with invitations opened on the client's pool of Web Workers (each running
//                               the page's compiled module), the workers already started by an earlier listing, as
//                               for a second account in the same page. Target: ≥ 5x faster than the baseline.
//   first list, wasm + workers: the same in a page just loaded, so the listing starts the workers (create starts
//                               them while the keys load) and the page's JavaScript runs for the first time.
//   warm list, wasm + db:       a fresh client with dbPath (IndexedDB) after one filling run (create + list): the
//                               node is asked only for invitations newer than the stored cursor.
//
// The page (bench/browser/page) is built with vite's JS API as apps/chat is and served on loopback; Chromium is
// Debian's /usr/bin/chromium (CHROMIUM_PATH) driven by playwright-core, with a profile on disk so IndexedDB is too.
// Without Chromium the bench says so and skips.
// Each measure runs BENCH_BROWSER_ROUNDS (3) times, interleaved; the median counts. Then one more cold list on each
// back end, in the page's thread, counts and times every curve call: the curve's share of a cold list, and
// everything else's.
// Environment: BENCH_BROWSER_CONVERSATIONS (1000), BENCH_BROWSER_ROUNDS (3), BENCH_BROWSER_TIMEOUT_S (300, per
// step), BENCH_BROWSER_PROFILE=1 (then one more cold list of each back end under Chromium's CPU profiler, summarized).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Client } from "@xmtp-ts/client";
import { encodePrivateKeyBundle, toBase64 } from "@xmtp-ts/crypto";
import { printProfileBreakdown } from "./browser/profileBreakdown.js";
import { newIdentity, seedConversations } from "./seedInbox.js";
import { serveBenchPage } from "./browser/servePage.js";
import { intFromEnv, median, printTable, startServer } from "./support.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const settings = {
  conversations: intFromEnv("BENCH_BROWSER_CONVERSATIONS", 1000),
  rounds: intFromEnv("BENCH_BROWSER_ROUNDS", 3),
  stepTimeoutMs: intFromEnv("BENCH_BROWSER_TIMEOUT_S", 300) * 1000,
  profile: process.env.BENCH_BROWSER_PROFILE === "1",
};
const TARGET_SPEEDUP = 5;
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// As test/browser/support/chromium.ts launches it.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** @typedef {import("playwright-core").Page} Page */
/** @typedef {import("./browser/page/main.js").XmtpBench} XmtpBench */
/** What one listing in the page answers. @typedef {Awaited<ReturnType<XmtpBench["list"]>>} ListResult */
/** @typedef {"noble" | "wasm"} BackendKind */
/** @typedef {"nobleCold" | "wasmCold" | "wasmWorkersCold" | "wasmWorkersFirst" | "wasmWarm"} RunName */

/** @type {readonly BackendKind[]} */
const BACKEND_KINDS = ["noble", "wasm"];

const formatMs = (/** @type {number} */ ms) => `${Math.round(ms).toLocaleString("en-US")} ms`;

/**
 * Rejects with a message naming the step when it takes longer than the step timeout.
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} run
 * @returns {Promise<T>}
 */
async function step(what, run) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${settings.stepTimeoutMs / 1000} s (BENCH_BROWSER_TIMEOUT_S)`)),
      settings.stepTimeoutMs,
    );
  });
  const running = run();
  // Once timed out, the step fails when cleanup closes Chromium or the node: nobody waits for it any more.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls window.xmtpBench[method](argument) in the page.
 * @template {keyof XmtpBench} M
 * @param {Page} page
 * @param {M} method
 * @param {Parameters<XmtpBench[M]>[0]} [argument]
 * @returns {Promise<Awaited<ReturnType<XmtpBench[M]>>>}
 */
function inPage(page, method, argument) {
  const call = /** @type {[M, unknown]} */ ([method, argument]);
  const answer = page.evaluate(([name, arg]) => /** @type {(arg: unknown) => unknown} */ (window.xmtpBench[name])(arg), call);
  return /** @type {Promise<Awaited<ReturnType<XmtpBench[M]>>>} */ (answer);
}

/** @type {Record<string, string>} */
const OPERATION_LABELS = {
  ecdhPoint: "ECDH",
  recoverPublicKey: "recovery",
  verifyDigest: "verification",
  signDigest: "signature",
  publicKey: "public key",
  isValidPublicKey: "point check",
};

/**
 * "noble+webcrypto: 3.00 ECDH × 1,000 µs, …; curve 3,000 ms of 3,300 ms (91%), the rest 300 ms"
 * @param {ListResult} counted a listing with `counted`
 * @param {number} invitations
 */
function describeCurveCalls({ backend, ms, curveCalls }, invitations) {
  if (!curveCalls) throw new Error(`the listing on ${backend} counted no curve calls`);
  const used = Object.entries(curveCalls).filter(([, { count }]) => count > 0);
  const curveMs = used.reduce((sum, [, call]) => sum + call.ms, 0);
  const calls = used.map(([name, { count, ms: callMs }]) => {
    // Per invitation for what each one costs; a count in all for the client's own one-offs.
    const times = count >= invitations / 10 ? (count / invitations).toFixed(2) : `${count} in all:`;
    return `${times} ${OPERATION_LABELS[name] ?? name} × ${Math.round((1000 * callMs) / count)} µs`;
  });
  return `${backend}: ${calls.join(", ")}; curve ${formatMs(curveMs)} of ${formatMs(ms)} (${((100 * curveMs) / ms).toFixed(0)}%), the rest ${formatMs(ms - curveMs)}`;
}

/** Things to undo at the end, last first, whatever happened. */
class Cleanup {
  /** @type {{ what: string; undo: () => unknown }[]} */
  #steps = [];
  /**
   * @param {string} what
   * @param {() => unknown} undo
   */
  add(what, undo) {
    this.#steps.push({ what, undo });
  }
  async run() {
    for (const { what, undo } of this.#steps.reverse()) {
      try {
        await undo();
      } catch (error) {
        console.error(`cleanup: ${what} failed: ${error instanceof Error ? error.message : error}`);
      }
    }
  }
}

/**
 * One more cold list under Chromium's sampling profiler; prints where the page's thread spent its time.
 * @param {import("playwright-core").BrowserContext} context
 * @param {Page} page
 * @param {{ apiUrl: string; keysBase64: string }} listArgs
 * @param {BackendKind} backend
 */
async function profileColdList(context, page, listArgs, backend) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  const result = await step(`profiled cold list (${backend})`, () => inPage(page, "list", { ...listArgs, backend, workers: false }));
  const { profile } = await cdp.send("Profiler.stop");
  await cdp.detach();
  const file = join(tmpdir(), `xmtp-bench-browser-${backend}-${process.pid}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(`\nCPU profile of one cold list on ${result.backend} (${formatMs(result.ms)}), saved to ${file}:`);
  // CDP may leave out `samples` and `timeDeltas` (a profile without samples): none, then.
  printProfileBreakdown({ ...profile, samples: profile.samples ?? [], timeDeltas: profile.timeDeltas ?? [] });
}

async function main() {
  if (!existsSync(CHROMIUM_PATH)) {
    console.log(`browser client bench skipped: no Chromium at ${CHROMIUM_PATH} (install it with .ci/chromium.sh, or set CHROMIUM_PATH)`);
    return;
  }
  const cleanup = new Cleanup();
  /** @type {string[]} */
  const pageErrors = [];
  /**
   * @param {Error} error
   * @returns {never}
   */
  const failWithPageErrors = (error) => {
    if (pageErrors.length > 0) error.message += `\npage errors:\n  ${pageErrors.join("\n  ")}`;
    throw error;
  };
  try {
    const dataDir = mkdtempSync(join(tmpdir(), "xmtp-bench-browser-node-"));
    cleanup.add("removing the node's data", () => rmSync(dataDir, { recursive: true, force: true }));
    const node = await startServer("xmtp-node", join(repoRoot, "packages/node/dist/main.js"), [
      "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--rate-limits", "off",
    ]);
    cleanup.add("stopping the node", () => node.stop());
    const apiUrl = node.url;

    const readerKeys = await newIdentity();
    const exported = encodePrivateKeyBundle(readerKeys.bundle);
    const reader = await Client.create(null, { apiUrl, privateKeyOverride: exported, parallelInvitations: false });
    await step("seeding", () => seedConversations(reader, settings.conversations));

    const served = await step("building the bench page", () => serveBenchPage({ readableNames: settings.profile }));
    cleanup.add("stopping the page's server", () => served.close());
    // A profile on disk: IndexedDB in a throwaway (incognito-like) context would live in memory.
    const profileDir = mkdtempSync(join(tmpdir(), "xmtp-bench-browser-profile-"));
    cleanup.add("removing Chromium's profile", () => rmSync(profileDir, { recursive: true, force: true }));
    const context = await step("launching Chromium", () =>
      chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true }),
    );
    cleanup.add("closing Chromium", () => context.close());
    const watchErrors = (/** @type {Page} */ page) => {
      page.on("pageerror", (error) => pageErrors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
      });
    };
    /**
     * Loads the bench page with both back ends ready (the WebAssembly one fetched and compiled); resolves with their names.
     * @param {Page} page
     * @param {string} which
     */
    const loadPage = async (page, which) => {
      await step(`loading the bench page${which}`, async () => {
        await page.goto(served.url);
        await page.waitForFunction(() => window.xmtpBench !== undefined);
      }).catch(failWithPageErrors);
      return step(`loading the WebAssembly back end${which}`, () => inPage(page, "backendNames")).catch(failWithPageErrors);
    };
    const page = context.pages()[0] ?? (await context.newPage());
    watchErrors(page);
    const names = await loadPage(page, "");
    const { userAgent, cores } = await page.evaluate(() => ({ userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency }));
    console.log(`${/Chrom\w*\/[\d.]+/.exec(userAgent)?.[0] ?? userAgent} (navigator.hardwareConcurrency ${cores}); back ends: ${names.noble}, ${names.wasm}`);

    const keysBase64 = toBase64(exported);
    const dbName = `xmtp-bench-inbox:${reader.address}`;
    /**
     * A listing in `inPageOf` (the bench page by default), checked: every conversation, on the back end asked for,
     * and a cold one (no database) with `workers` really on the workers, running that back end.
     * @param {string} label
     * @param {BackendKind} backend
     * @param {{ dbName?: string; workers?: boolean; counted?: boolean }} [options]
     * @param {Page} [inPageOf]
     */
    const list = async (label, backend, options = {}, inPageOf = page) => {
      const result = await step(label, () => inPage(inPageOf, "list", { apiUrl, keysBase64, backend, workers: false, ...options })).catch(failWithPageErrors);
      if (result.conversations !== settings.conversations) {
        throw new Error(`${label} listed ${result.conversations} conversations, not ${settings.conversations}`);
      }
      if (result.backend !== names[backend]) throw new Error(`${label} ran on ${result.backend}, not ${names[backend]}`);
      if (options.workers && !options.dbName) {
        if (!result.pool) throw new Error(`${label} had no pool of Web Workers`);
        const { batchesOnWorkers, workerBackends } = result.pool;
        if (batchesOnWorkers === 0) throw new Error(`${label} opened no batch on Web Workers`);
        if (workerBackends.length === 0 || workerBackends.some((name) => name !== names[backend])) {
          throw new Error(`${label}: the Web Workers run on ${workerBackends.join(", ") || "nothing"}, not ${names[backend]}`);
        }
      }
      return result;
    };
    /** A listing through Web Workers in a page just loaded (closed afterwards), so the listing starts them. */
    const firstList = async (/** @type {string} */ label) => {
      const fresh = await context.newPage();
      try {
        watchErrors(fresh);
        await loadPage(fresh, ` (${label})`);
        return await list(label, "wasm", { workers: true }, fresh);
      } finally {
        await fresh.close();
      }
    };

    const fill = await list("filling the database", "wasm", { dbName, workers: true });
    if (!fill.pool) throw new Error("filling the database had no pool of Web Workers");
    const workerCount = fill.pool.workerBackends.length;
    /** @type {Record<RunName, ListResult[]>} */
    const runs = { nobleCold: [], wasmCold: [], wasmWorkersCold: [], wasmWorkersFirst: [], wasmWarm: [] };
    for (let round = 1; round <= settings.rounds; round++) {
      runs.nobleCold.push(await list(`cold list on noble, round ${round}`, "noble"));
      runs.wasmCold.push(await list(`cold list on WebAssembly, round ${round}`, "wasm"));
      runs.wasmWorkersCold.push(await list(`cold list on WebAssembly + Web Workers, round ${round}`, "wasm", { workers: true }));
      runs.wasmWorkersFirst.push(await firstList(`first list in a new page on WebAssembly + Web Workers, round ${round}`));
      runs.wasmWarm.push(await list(`warm list on WebAssembly + IndexedDB, round ${round}`, "wasm", { dbName, workers: true }));
      process.stdout.write(`\rround ${round} of ${settings.rounds} done`);
    }
    /** @type {Record<string, ListResult>} */
    const counted = {};
    for (const backend of BACKEND_KINDS) counted[backend] = await list(`counted cold list on ${backend}`, backend, { counted: true });
    process.stdout.write("\n");

    /**
     * @param {RunName} name
     * @param {"ms" | "createMs" | "listMs"} [phase]
     */
    const wall = (name, phase = "ms") => median(runs[name].map((run) => run[phase]));
    const baseline = wall("nobleCold");
    const n = settings.conversations.toLocaleString("en-US");
    const rows = /** @type {[string, RunName, string][]} */ ([
      ["cold list, noble, page's thread (the browser path before)", "nobleCold", names.noble],
      ["cold list, WebAssembly, page's thread", "wasmCold", names.wasm],
      [`cold list, WebAssembly + ${workerCount} Web Workers`, "wasmWorkersCold", names.wasm],
      [`first list in a new page, WebAssembly + ${workerCount} Web Workers`, "wasmWorkersFirst", names.wasm],
      ["warm list, WebAssembly + IndexedDB", "wasmWarm", names.wasm],
    ]).map(([label, name, backend]) => [
      label,
      backend,
      formatMs(wall(name)),
      formatMs(wall(name, "createMs")),
      formatMs(wall(name, "listMs")),
      `${(wall(name) / baseline).toFixed(3)}x`,
    ]);
    console.log("");
    printTable([`browser client, ${n} conversations (median of ${settings.rounds})`, "back end", "wall (create + list)", "create", "list", "vs noble cold"], rows);

    const speedup = (/** @type {RunName} */ name) => baseline / wall(name);
    const verdict = speedup("wasmWorkersCold") >= TARGET_SPEEDUP ? "ok" : "MISSED";
    console.log(`\nspeed-up on a cold list, noble in the page's thread / WebAssembly on Web Workers: ${speedup("wasmWorkersCold").toFixed(2)}x (target ≥ ${TARGET_SPEEDUP}x) ${verdict}`);
    console.log(`  the same for a new page's first list (starting the workers): ${speedup("wasmWorkersFirst").toFixed(2)}x`);
    console.log(`  WebAssembly in the page's thread: ${speedup("wasmCold").toFixed(2)}x`);
    console.log(`warm / cold on WebAssembly + Web Workers: ${(wall("wasmWarm") / wall("wasmWorkersCold")).toFixed(3)}x`);
    console.log(`filling the database (first run with dbPath: cold list + writes, starting the workers): ${formatMs(fill.ms)}`);
    console.log("one more cold list on each back end in the page's thread, every curve call counted and timed (per invitation: calls × mean time):");
    for (const backend of BACKEND_KINDS) console.log(`  ${describeCurveCalls(counted[backend], settings.conversations)}`);
    const rounds = (/** @type {RunName} */ name) => runs[name].map((run) => run.ms.toFixed(0)).join(", ");
    console.log("rounds (ms): " + /** @type {RunName[]} */ (Object.keys(runs)).map((name) => `${name} [${rounds(name)}]`).join("; "));

    if (settings.profile) {
      for (const backend of /** @type {BackendKind[]} */ (["wasm", "noble"])) await profileColdList(context, page, { apiUrl, keysBase64 }, backend);
    }
    await reader.close();
  } finally {
    await cleanup.run();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`\nbrowser client bench failed: ${error.stack ?? error}`);
    process.exit(1);
  },
);
