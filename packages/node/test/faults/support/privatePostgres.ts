// A PostgreSQL cluster of a test's own, to break on purpose: kill -9 its postmaster or one backend, freeze it with
// SIGSTOP, restart it on the same port. Never the shared CI cluster (XMTP_TEST_POSTGRES_URL), which other suites use.
//
// Needs root (the server refuses to run as root, so initdb and pg_ctl run as the `postgres` user through runuser, as
// in .ci/postgres.sh) and Debian's PostgreSQL binaries under /usr/lib/postgresql/*/bin.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { freePort } from "../../network/support.js";
import { join } from "node:path";

const POSTGRES_ROOT = "/usr/lib/postgresql";
const RUNUSER = "/usr/sbin/runuser";
const ROLE = "xmtp_faults";
const DATABASE = "xmtp_faults";

/** The newest PostgreSQL bin directory with initdb and pg_ctl, if any. */
export function findPostgresBinDir(): string | undefined {
  if (!existsSync(POSTGRES_ROOT)) return undefined;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(POSTGRES_ROOT, version, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl")) && existsSync(join(bin, "psql"))) return bin;
  }
  return undefined;
}

/** Why a private cluster cannot be made here, or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  if (process.platform !== "linux") return "fault injection needs Linux (/proc, signals to the server processes)";
  if (process.getuid?.() !== 0) return "fault injection needs root (initdb/pg_ctl run as the postgres user via runuser)";
  if (!existsSync(RUNUSER)) return `${RUNUSER} is missing`;
  if (!findPostgresBinDir()) return `no PostgreSQL binaries under ${POSTGRES_ROOT}/*/bin (bash .ci/postgres.sh installs them)`;
  if (!postgresUser()) return "there is no `postgres` user (installed with Debian's postgresql package)";
  return undefined;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  if (!line) return undefined;
  const fields = line.split(":");
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export interface PrivatePostgres {
  /** postgres://role:password@127.0.0.1:port/database over TCP, as a node is given it. */
  url: string;
  port: number;
  /** The server's own log, for failure messages. */
  serverLog(): string;
  postmasterPid(): number;
  /** The backends serving connections with this application_name (the node's envelope store: 'xmtp-ts-node'). */
  backendPids(applicationName?: string): Promise<number[]>;
  /** kill -9 of the postmaster; resolves once every server process of it is gone (as a supervisor would wait). */
  killPostmaster(): Promise<void>;
  /** kill -9 of one process (a backend): the postmaster then ends every backend and recovers from the crash. */
  killProcess(pid: number): void;
  /** SIGSTOP to the postmaster and every process it started: the server holds connections and answers nothing. */
  pause(): void;
  /** SIGCONT to what pause() stopped. */
  resume(): void;
  /** Starts the server again on the same port and data (crash recovery after a kill); resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * Resumes a paused server, starts a killed one, and waits until it accepts connections (crash recovery after a
   * killed backend), so the next test finds it running whatever the last one did.
   */
  ensureRunning(): Promise<void>;
  /** Stops the server (whatever state it is in) and deletes its directory. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const unavailable = privatePostgresUnavailable();
  if (unavailable) throw new Error(unavailable);
  const bin = findPostgresBinDir()!;
  const owner = postgresUser()!;
  const dir = mkdtempSync("/tmp/xmtp-faults-postgres-");
  chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const logFile = join(dir, "server.log");
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const asPostgres = (command: string, args: string[], timeoutMs = 60_000) =>
    run(RUNUSER, ["-u", "postgres", "--", join(bin, command), ...args], timeoutMs);
  const psql = (sql: string, timeoutMs = 10_000) =>
    asPostgres(
      "psql",
      ["--host", dir, "--port", String(port), "--username", "postgres", "--dbname", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
      timeoutMs,
    );

  await asPostgres("initdb", [
    `--pgdata=${data}`,
    "--username=postgres",
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--no-sync",
    "--no-instructions",
  ]);
  let stopped: Set<number> | undefined;
  const serverLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const resume = () => {
    if (!stopped) return;
    for (const pid of stopped) signal(pid, "SIGCONT");
    stopped = undefined;
  };

  const postmasterPid = () => Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const start = async () => {
    // After a kill -9 the lock files name a postmaster that is gone. The server sees that itself (and then also
    // cleans up the old shared memory), but only by kill(pid, 0), which succeeds on a zombie: an init that does not
    // reap orphans (as in some containers) would keep it from starting. Only then are the lock files removed here.
    const lockFile = join(data, "postmaster.pid");
    if (existsSync(lockFile)) {
      const pid = postmasterPid();
      if (isRunning(pid)) throw new Error(`postmaster ${pid} is still running`);
      if (procStat(pid)) {
        unlinkSync(lockFile);
        rmSync(join(dir, `.s.PGSQL.${port}.lock`), { force: true });
      }
    }
    await asPostgres("pg_ctl", [
      `--pgdata=${data}`,
      `--log=${logFile}`,
      "--wait",
      "--timeout=60",
      "-o",
      `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=on -c max_connections=60`,
      "start",
    ]);
  };

  await start();
  await psql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${password}'`);
  await psql(`CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);

  return {
    url: `postgres://${ROLE}:${password}@127.0.0.1:${port}/${DATABASE}`,
    port,
    serverLog,
    postmasterPid,
    async backendPids(applicationName = "xmtp-ts-node") {
      const out = await psql(`SELECT pid FROM pg_stat_activity WHERE application_name = '${applicationName.replace(/'/g, "''")}'`);
      return out
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map(Number);
    },
    async killPostmaster() {
      const pid = postmasterPid();
      const family = [pid, ...childrenOf(pid)];
      process.kill(pid, "SIGKILL");
      // Orphaned backends notice their postmaster's death and exit; a new postmaster must not start before they
      // have (it would refuse: their shared memory is still attached).
      const deadline = Date.now() + 15_000;
      while (family.some(isRunning) && Date.now() < deadline) await sleep(50);
      for (const leftover of family.filter(isRunning)) process.kill(leftover, "SIGKILL");
      while (family.some(isRunning)) await sleep(50);
    },
    killProcess(pid: number) {
      process.kill(pid, "SIGKILL");
    },
    pause() {
      if (stopped) throw new Error("already paused");
      const pid = postmasterPid();
      // The postmaster first, so it starts no process after the list below is taken.
      process.kill(pid, "SIGSTOP");
      stopped = new Set([pid, ...childrenOf(pid)]);
      for (const child of stopped) if (child !== pid) signal(child, "SIGSTOP");
    },
    resume,
    start,
    async ensureRunning() {
      resume();
      let pid = 0;
      try {
        pid = postmasterPid();
      } catch {
        // no lock file: not running
      }
      if (!isRunning(pid)) {
        const family = childrenOf(pid).filter(isRunning);
        for (const leftover of family) signal(leftover, "SIGKILL");
        while (family.some(isRunning)) await sleep(50);
        await start();
      }
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await asPostgres("pg_isready", ["--host", dir, "--port", String(port), "--timeout=5"], 10_000).then(
          () => true,
          () => false,
        );
        if (ready) return;
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 30 s:\n${serverLog().slice(-2_000)}`);
        await sleep(100);
      }
    },
    async destroy() {
      resume();
      let pid: number | undefined;
      try {
        pid = postmasterPid();
      } catch {
        pid = undefined;
      }
      if (pid && isRunning(pid)) {
        const family = [pid, ...childrenOf(pid)];
        await asPostgres("pg_ctl", [`--pgdata=${data}`, "--wait", "--timeout=20", "-m", "immediate", "stop"]).catch(() => undefined);
        for (const leftover of family.filter(isRunning)) signal(leftover, "SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command; rejects with its output when it fails or outlives `timeoutMs`. */
function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // pg_ctl leaves the server running with its output in the log file; waiting for "exit" rather than for the
    // pipes to close keeps a server that inherited them from holding us up.
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

/** Direct children of a process, from /proc. */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.ppid === parent) children.push(Number(entry));
  }
  return children;
}

function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read from the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (an exited process nobody has reaped yet). */
function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // exited meanwhile
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

