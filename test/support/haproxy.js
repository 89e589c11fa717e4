// HAProxy in front of xmtp-node instances over one PostgreSQL database: the pieces the cluster tests
// (test/support/cluster.ts) and the scale-out benchmark (bench/scaleOut.js) both need. Plain JavaScript, because the
// bench runs with `node` and cannot import TypeScript; haproxy.d.ts next to this file gives the tests its types.
// Deadlines are performance.now() values (monotonic: a wall-clock step cannot cut a wait short or stretch it).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

/** As for a node: only the latest lines, so a balancer logging every request cannot grow a caller's memory. */
const MAX_LOG_LINES = 2_000;
/** If HAProxy has not exited this long after SIGTERM, it is killed. */
const STOP_WITHIN_MS = 10_000;
/** The query parameter that marks our own /readyz probes in the access log. */
const PROBE_PARAMETER = "balancer-probe";

/** haproxy on PATH, or where Debian installs it: /usr/sbin is not on every user's PATH. */
export function findHaproxy() {
  const directories = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/sbin", "/usr/local/sbin"];
  for (const directory of directories) {
    const candidate = join(directory, "haproxy");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * HAProxy in the foreground (-db), so stopping the child stops the balancer and its output comes to us. Reads its
 * log lines ("log stdout", option httplog): server state changes, and for every request which server answered it.
 */
export function startHaproxy(binary, configPath, url, { masterWorker = false, keepAccessLines = true, onRequest } = {}) {
  // -W: master-worker, as a systemd unit runs it (the master restarts nothing, but reports a dying worker). Without
  // it there is one process, so its pid is the process that does the work and its CPU time is all of HAProxy's.
  const args = [...(masterWorker ? ["-W"] : []), "-db", "-f", configPath];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const logs = [];
  // What HAProxy last said about each server (nothing until a first change: HAProxy starts them UP).
  const states = new Map();
  const changes = [];
  // Which server answered each probe request, by probe id.
  const probes = new Map();
  let exitStatus;
  const exited = new Promise((resolveExit) => {
    child.once("exit", (code, signal) => {
      exitStatus = signal ? `killed by ${signal}` : `exited with ${code}`;
      resolveExit();
    });
    child.once("error", (error) => {
      exitStatus = `failed to start: ${error.message}`;
      resolveExit();
    });
  });

  const keep = (line) => {
    logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.shift();
  };
  const probePrefix = `/readyz?${PROBE_PARAMETER}=`;
  const onLine = (line, fromStdout) => {
    // "Server xmtp_nodes/node2 is DOWN, reason: …", both as a log line on stdout and a [WARNING] on stderr: a change
    // is listed once, from stdout.
    const change = /Server [^\s/]+\/(\S+) is (UP|DOWN)\b/.exec(line);
    if (change) {
      states.set(change[1], change[2]);
      if (fromStdout) changes.push({ at: performance.now(), server: change[1], state: change[2] });
    }
    // "127.0.0.1:51296 [05/Dec/2026:11:18:51.913] xmtp_api xmtp_nodes/node1 0/0/0/4/4 200 227 … "POST /message/v1/publish HTTP/1.1""
    const access = /\] \S+ [^\s/]+\/(\S+) \S+ (-?\d+) .*"([A-Z]+) (\S+) /.exec(line);
    if (access) {
      const [, server, status, method, path] = access;
      if (path.startsWith(probePrefix)) probes.set(path.slice(probePrefix.length), { server, status: Number(status) });
      else onRequest?.({ server, status: Number(status), method, path });
      if (keepAccessLines) keep(line);
      return;
    }
    keep(line);
  };
  for (const [stream, fromStdout] of [[child.stdout, true], [child.stderr, false]]) {
    let buffered = "";
    stream.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let start = 0;
      let newline;
      while ((newline = buffered.indexOf("\n", start)) >= 0) {
        onLine(buffered.slice(start, newline), fromStdout);
        start = newline + 1;
      }
      buffered = buffered.slice(start);
    });
  }

  const failure = (what) => new Error(`${what}\nhaproxy ${exitStatus ?? "is running"}; its output:\n${logs.join("\n")}`);
  const checkAlive = () => {
    if (exitStatus !== undefined) throw failure("haproxy is not running");
  };
  /** One GET /readyz through the balancer; which server answered it and how, from the access log (or undefined). */
  const probe = async () => {
    const id = randomBytes(8).toString("hex");
    const answered = await fetch(`${url}${probePrefix}${id}`).then(
      (response) => response.arrayBuffer().then(() => true),
      () => false,
    );
    // The access log line is written once the answer is sent, so it can trail the answer a little.
    const logDeadline = performance.now() + 1_000;
    while (answered && !probes.has(id) && performance.now() < logDeadline) await sleep(10);
    const result = probes.get(id);
    probes.delete(id);
    return result;
  };

  return {
    url,
    process: child,
    logs,
    changes,
    async waitUntilDown(servers, deadline) {
      while (!servers.every((server) => states.get(server) === "DOWN")) {
        checkAlive();
        if (performance.now() > deadline) throw failure(`haproxy did not mark ${servers.join(", ")} DOWN in time`);
        await sleep(50);
      }
    },
    async waitUntilServedBy(servers, deadline) {
      const pending = new Set(servers);
      while (pending.size > 0) {
        checkAlive();
        if (performance.now() > deadline) {
          throw failure(
            `the balancer at ${url} did not answer /readyz with 200 from ${[...pending].join(", ")} in time ` +
              `(this reads HAProxy's access log: its config, ${configPath}, must keep "log stdout" and "option httplog")`,
          );
        }
        const result = await probe();
        // Not (yet) routed to a server we wait for: it is still coming UP, or the balancer is still starting.
        if (!(result?.status === 200 && pending.delete(result.server))) await sleep(50);
      }
    },
    async waitUntilOnlyServer(server, times, deadline) {
      let inARow = 0;
      while (inARow < times) {
        checkAlive();
        if (performance.now() > deadline) {
          throw failure(`the balancer did not answer ${times} probes in a row from ${server} in time`);
        }
        const result = await probe();
        inARow = result?.status === 200 && result.server === server ? inARow + 1 : 0;
        if (inARow === 0) await sleep(50);
      }
    },
    async stop() {
      if (exitStatus !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_WITHIN_MS);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (exitStatus === undefined) child.kill("SIGKILL");
    },
  };
}

/** Polls an instance's /readyz until it answers 200 (its store answers), or throws at the deadline. */
export async function waitUntilReady(url, deadline) {
  let last = "no answer";
  while (performance.now() <= deadline) {
    try {
      const response = await fetch(`${url}/readyz`);
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = error.message;
    }
    await sleep(100);
  }
  throw new Error(`${url}/readyz did not answer 200 in time; last: ${last}`);
}

/** Runs fn with a pg client connected to the database of a node-style PostgreSQL URL, and closes it. */
export async function withPostgres(postgresUrl, fn) {
  // pg would read a node-style ?schema= parameter as a connection option: leave it out.
  const url = new URL(postgresUrl);
  url.searchParams.delete("schema");
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops the schemas (and everything in them) that exist; throws on the first failure. */
export async function dropSchemas(postgresUrl, schemas) {
  if (schemas.length === 0) return;
  await withPostgres(postgresUrl, async (client) => {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  });
}
