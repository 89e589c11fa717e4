// Plumbing for the benchmark: child-process servers, a keep-alive HTTP load generator and small statistics.
import http from "node:http";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
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

/**
 * Starts a server script as a child process and resolves once it prints its `"msg":"listening"` JSON line.
 * Output lines are kept (the latest few hundred) for error messages.
 */
export function startServer(name, script, args, { nodeFlags = [] } = {}) {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const logs = [];
  const keep = (line) => {
    logs.push(line);
    if (logs.length > 300) logs.shift();
  };
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
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

/** One POST over the given agent; resolves with status and body text. */
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
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Closed-loop load: `connections` workers each send one request at a time until `durationMs` is over.
 * Any non-2xx answer is an error of the benchmark itself (bad token, bad request), so it aborts the run.
 * With `serverPid`, also the server's CPU time per completed request (NaN without /proc).
 */
export async function closedLoop({ url, path, makeBody, headers, connections, durationMs, serverPid }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const deadline = performance.now() + durationMs;
  let completed = 0;
  const cpuBefore = serverPid === undefined ? undefined : cpuSecondsOf(serverPid);
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const { status, body } = await post(agent, url, path, makeBody(), headers);
      if (status < 200 || status >= 300) {
        throw new Error(`${url}${path} answered HTTP ${status}: ${body.slice(0, 300)}`);
      }
      completed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = serverPid === undefined ? undefined : cpuSecondsOf(serverPid);
  const cpuMicrosPerRequest =
    cpuBefore === undefined || cpuAfter === undefined ? NaN : ((cpuAfter - cpuBefore) * 1e6) / completed;
  return { requests: completed, perSecond: completed / seconds, cpuMicrosPerRequest };
}

export function percentile(sortedValues, fraction) {
  if (sortedValues.length === 0) return NaN;
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1);
  return sortedValues[Math.max(0, index)];
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function formatRate(perSecond) {
  return `${Math.round(perSecond).toLocaleString("en-US")} req/s`;
}

export function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => "| " + cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  console.log(line(headers));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const row of rows) console.log(line(row));
}

/** A positive integer setting from the environment, or the fallback when unset. */
export function intFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** A valid publish token for a fresh wallet, made the way the SDK makes one (wire doc §4). */
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
