// Starts the real `xmtp-node` binary (packages/node/dist/main.js, built by `npm run build`) as a child process on a
// free loopback port with a temporary data directory, for integration and interop tests.
// XMTP_TEST_NODE_BINARY may name another script that takes the same flags and prints the same "listening" line, to
// run a suite against a different build of the node.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const nodeBinary = process.env.XMTP_TEST_NODE_BINARY
  ? resolve(process.env.XMTP_TEST_NODE_BINARY)
  : join(repoRoot, "packages/node/dist/main.js");

/** Only the latest log lines are kept, so a node that logs every request cannot grow a test's memory. */
const MAX_LOG_LINES = 2_000;

export interface RunningNode {
  url: string;
  dataDir: string;
  process: ChildProcess;
  /** The stdout/stderr lines the node printed so far (the latest MAX_LOG_LINES). */
  logs: string[];
  /** SIGTERM and wait for exit (the data dir is kept for restarts). */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, with no chance to clean up. */
  kill(): Promise<void>;
  /** Stop, then delete the data dir. */
  dispose(): Promise<void>;
}

export interface StartNodeOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  port?: number;
}

export async function startNode(options: StartNodeOptions = {}): Promise<RunningNode> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "xmtp-node-test-"));
  const args = [
    nodeBinary,
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    "--data-dir",
    dataDir,
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.splice(0, logs.length - MAX_LOG_LINES);
  };
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));

  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        log(line);
        const match = /"msg":"listening".*?"url":"([^"]+)"/.exec(line);
        if (match) resolveUrl(match[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => chunk.toString("utf8").split("\n").filter(Boolean).forEach(log));
    exited.then((code) => reject(new Error(`xmtp-node exited with ${code} before listening:\n${logs.join("\n")}`)));
    setTimeout(() => reject(new Error(`xmtp-node did not listen within 20 s:\n${logs.join("\n")}`)), 20_000).unref();
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill("SIGTERM");
    return exited;
  };
  return {
    url,
    dataDir,
    process: child,
    logs,
    stop,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
    async dispose() {
      await stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
