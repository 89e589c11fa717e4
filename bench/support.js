// Plumbing for the benchmark: child-process servers, a keep-alive HTTP load generator and small statistics.
import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet } from "ethers";
import {
  createAuthToken,
  createWalletSignedIdentityKey,
  fromHex,
  legacyPrivateKeyScalar,
  legacyPublicKeyOf,
} from "@xmtp-ts/crypto";

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used so far, from /proc; undefined where /proc is missing. On a shared
 * machine a server's CPU time per request is far steadier than its throughput, which depends on who else runs.
 */
/** @param {number | undefined} pid */
export function cpuSecondsOf(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The counters of a /proc io file (syscr, read_bytes, ...); undefined where it is missing. @param {string} path */
function ioCounters(path) {
  let io;
  try {
    io = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  /** @type {Record<string, number>} */
  const counters = {};
  for (const [, name, value] of io.matchAll(/^(\w+): (\d+)$/gm)) counters[name] = Number(value);
  return counters;
}

/** Read and write system calls a process has made so far (all threads), from /proc; undefined where it is missing. */
/** @param {number | undefined} pid */
export function syscallsOf(pid) {
  const io = ioCounters(`/proc/${pid}/io`);
  return io && { reads: io.syscr, writes: io.syscw };
}

/**
 * Bytes the calling thread has had read from the storage device so far (page-cache misses, with the kernel's
 * readahead), from /proc; undefined where it is missing. Synchronous work such as a SQLite query runs on this thread.
 */
export function deviceBytesReadByThisThread() {
  return ioCounters("/proc/thread-self/io")?.read_bytes;
}

/**
 * Starts a server script as a child process and resolves once it prints its `"msg":"listening"` JSON line.
 * Output lines are kept (the latest few hundred) for error messages.
 */
/**
 * @param {string} name
 * @param {string} script
 * @param {string[]} args
 * @param {{ nodeFlags?: string[] }} [options]
 * @returns {Promise<RunningServer>}
 */
export function startServer(name, script, args, { nodeFlags = [] } = {}) {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  /** @type {string[]} */
  const logs = [];
  const keep = (/** @type {string} */ line) => {
    logs.push(line);
    if (logs.length > 300) logs.shift();
  };
  /** @type {Promise<{ code: number | null; signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  /** @type {Promise<string>} */
  const url = new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        keep(line);
        const match = /"msg":"listening".*?"url":"([^"]+)"/.exec(line);
        if (match) resolve(match[1]);
      }
    });
    child.stderr.on("data", (chunk) => chunk.toString("utf8").split("\n").filter(Boolean).forEach(keep));
    exited.then(({ code, signal }) =>
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${logs.join("\n")}`)),
    );
    setTimeout(() => reject(new Error(`${name} did not listen within 20 s:\n${logs.join("\n")}`)), 20_000).unref();
  });
  return url.then((resolvedUrl) => ({
    name,
    url: resolvedUrl,
    pid: child.pid,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  }));
}

/**
 * @typedef {object} RunningServer
 * @property {string} name
 * @property {string} url
 * @property {number | undefined} pid
 * @property {string[]} logs
 * @property {() => Promise<{ code: number | null; signal: NodeJS.Signals | null }>} stop
 * @property {() => void} kill
 */

/** @typedef {{ status: number; body: string }} HttpAnswer */

/** An envelope as the node's JSON API carries it (publish bodies, query and subscribe answers). */
/** @typedef {{ contentTopic: string; timestampNs: string; message: string }} JsonEnvelope */

/**
 * One POST over the given agent; resolves with status and body text.
 * @param {http.Agent | undefined} agent
 * @param {string} url
 * @param {string} path
 * @param {string} body
 * @param {Record<string, string>} [headers]
 * @returns {Promise<HttpAnswer>}
 */
export function post(agent, url, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url + path,
      {
        method: "POST",
        agent,
        headers: {
          // What the public SDK sends: fetch's default for a string body.
          "content-type": "text/plain;charset=UTF-8",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
      },
      (response) => {
        /** @type {Buffer[]} */
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * One keep-alive HTTP/1.1 connection on a bare socket, one request at a time. Node's http client costs ~100 µs of
 * CPU per request; on a 2-core machine where the servers under test share the cores with the load generator, that
 * is CPU taken from the servers, more so the more processes there are (three relay nodes against one). This client
 * writes each request as one buffer and reads only the status line and Content-Length, at a fraction of that cost.
 * It expects what the node sends: a Content-Length on every response (no chunked bodies), no 1xx responses.
 */
export class RawHttpConnection {
  /** @param {string} url */
  constructor(url) {
    const { hostname, port } = new URL(url);
    this.host = `${hostname}:${port}`;
    this.socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    this.buffered = Buffer.alloc(0);
    /** @type {{ resolve: (answer: HttpAnswer) => void; reject: (error: Error) => void } | undefined} */
    this.waiting = undefined;
    this.socket.on("data", (chunk) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    const fail = (/** @type {Error} */ error) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.reject(error);
    };
    this.socket.on("error", fail);
    this.socket.on("close", () => fail(new Error(`connection to ${this.host} closed`)));
  }

  /**
   * POSTs `body` (a string) to `path`; resolves with status and body text.
   * @param {string} path
   * @param {string} body
   * @param {Record<string, string>} [headers]
   * @returns {Promise<HttpAnswer>}
   */
  post(path, body, headers = {}) {
    if (this.waiting) return Promise.reject(new Error("RawHttpConnection takes one request at a time"));
    const head = [
      `POST ${path} HTTP/1.1`,
      `host: ${this.host}`,
      "connection: keep-alive",
      // What the public SDK sends: fetch's default for a string body.
      "content-type: text/plain;charset=UTF-8",
      `content-length: ${Buffer.byteLength(body)}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`${head.join("\r\n")}\r\n\r\n${body}`);
    });
  }

  parse() {
    const headEnd = this.buffered.indexOf("\r\n\r\n");
    if (headEnd < 0 || !this.waiting) return;
    const head = this.buffered.toString("latin1", 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      const waiting = this.waiting;
      this.waiting = undefined;
      this.socket.destroy();
      return waiting.reject(new Error(`response from ${this.host} without Content-Length: ${head.slice(0, 300)}`));
    }
    const bodyEnd = headEnd + 4 + Number(length[1]);
    if (this.buffered.length < bodyEnd) return;
    const body = this.buffered.toString("utf8", headEnd + 4, bodyEnd);
    this.buffered = this.buffered.subarray(bodyEnd);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve({ status, body });
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * Closed-loop load: `connections` workers each send one request at a time until `durationMs` is over.
 * Any non-2xx answer is an error of the benchmark itself (bad token, bad request), so it aborts the run.
 * With `serverPid`, also the server's CPU time per completed request (NaN without /proc).
 * `client: "raw"` sends over RawHttpConnection instead of Node's http client.
 * @param {object} options
 * @param {string} options.url
 * @param {string} options.path
 * @param {() => string} options.makeBody
 * @param {Record<string, string>} [options.headers]
 * @param {number} options.connections
 * @param {number} options.durationMs
 * @param {number} [options.serverPid]
 * @param {"http" | "raw"} [options.client]
 */
export async function closedLoop({ url, path, makeBody, headers, connections, durationMs, serverPid, client = "http" }) {
  const agent = client === "raw" ? undefined : new http.Agent({ keepAlive: true, maxSockets: connections });
  const rawConnections = client === "raw" ? Array.from({ length: connections }, () => new RawHttpConnection(url)) : [];
  const deadline = performance.now() + durationMs;
  let completed = 0;
  const cpuBefore = serverPid === undefined ? undefined : cpuSecondsOf(serverPid);
  const started = performance.now();
  const worker = async (/** @type {number} */ index) => {
    const send = agent
      ? (/** @type {string} */ body) => post(agent, url, path, body, headers)
      : (/** @type {string} */ body) => rawConnections[index].post(path, body, headers);
    while (performance.now() < deadline) {
      const { status, body } = await send(makeBody());
      if (status < 200 || status >= 300) {
        throw new Error(`${url}${path} answered HTTP ${status}: ${body.slice(0, 300)}`);
      }
      completed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, (_, index) => worker(index)));
  } finally {
    agent?.destroy();
    for (const connection of rawConnections) connection.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = serverPid === undefined ? undefined : cpuSecondsOf(serverPid);
  const cpuMicrosPerRequest =
    cpuBefore === undefined || cpuAfter === undefined ? NaN : ((cpuAfter - cpuBefore) * 1e6) / completed;
  return { requests: completed, perSecond: completed / seconds, cpuMicrosPerRequest };
}

/**
 * @param {ArrayLike<number>} sortedValues an array or a typed array, sorted
 * @param {number} fraction
 */
export function percentile(sortedValues, fraction) {
  if (sortedValues.length === 0) return NaN;
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1);
  return sortedValues[Math.max(0, index)];
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @param {number} perSecond */
export function formatRate(perSecond) {
  return `${Math.round(perSecond).toLocaleString("en-US")} req/s`;
}

/**
 * @param {string[]} headers
 * @param {unknown[][]} rows
 */
export function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (/** @type {unknown[]} */ cells) => "| " + cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  console.log(line(headers));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const row of rows) console.log(line(row));
}

/**
 * A positive integer setting from the environment, or the fallback when unset.
 * @param {string} name
 * @param {number} fallback
 */
export function intFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** A valid publish token for a fresh wallet, made the way the SDK makes one (docs/protocol/api.md §4). */
export async function makeToken() {
  const wallet = Wallet.createRandom();
  const identity = await createWalletSignedIdentityKey(async (text) => fromHex(await wallet.signMessage(text)));
  return createAuthToken({
    identityKey: legacyPublicKeyOf(identity),
    identityPrivateKey: legacyPrivateKeyScalar(identity),
    walletAddress: wallet.address,
    createdNs: BigInt(Date.now()) * 1_000_000n,
  });
}

/** The middle value (the upper one of an even count). */
export const median = (/** @type {number[]} */ values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Wall time, and the CPU time of this process (every thread) meanwhile: on a shared machine that schedules each
 * session fairly, wall time depends on who else runs, CPU time far less.
 * @template T
 * @param {() => Promise<T>} fn
 */
export async function timed(fn) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await fn();
  const cpu = process.cpuUsage(cpuBefore);
  return { ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, result };
}

/** The repository's root directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The node the benches run: BENCH_NODE_MAIN (another build, to compare against), else this checkout's build. */
export const nodeMainPath = process.env.BENCH_NODE_MAIN
  ? resolve(process.env.BENCH_NODE_MAIN)
  : join(repoRoot, "packages/node/dist/main.js");

/** @param {string} url */
export async function envelopesStored(url) {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  const match = /^xmtp_envelopes_stored_total\s+(\d+)/m.exec(text);
  if (!match) throw new Error(`no xmtp_envelopes_stored_total in ${url}/metrics`);
  return Number(match[1]);
}

/**
 * @param {() => boolean | Promise<boolean>} check
 * @param {string} what
 * @param {number} timeoutMs
 */
export async function until(check, what, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** @param {RunningServer} server */
export function relayInfo(server) {
  const line = server.logs.find((l) => l.includes('"msg":"relay listening"'));
  if (!line) throw new Error(`${server.name} logged no "relay listening" line`);
  /** @type {{ peerId: string; multiaddrs: string[] }} */
  const record = JSON.parse(line);
  const multiaddr = record.multiaddrs.find((a) => a.startsWith("/ip4/127.0.0.1/"));
  if (!multiaddr) throw new Error(`${server.name} listens on no 127.0.0.1 address: ${line}`);
  return { peerId: record.peerId, multiaddr };
}

