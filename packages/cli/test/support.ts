// Runs the real built `xmtp` binary (packages/cli/dist/main.js) as a child process, as a user's shell would.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type * as XmtpSdk from "@xmtp/xmtp-js";
import type { HDNodeWallet } from "ethers";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const cliBinary = join(packageRoot, "dist/main.js");

const require = createRequire(import.meta.url);
// The public SDK, only as a peer to talk to; its ES-module build fails on Node 20, so load the CJS one.
export const sdk = require("@xmtp/xmtp-js") as typeof XmtpSdk;

/** A hang guard for one CLI run, not a speed assertion. */
const RUN_GUARD_MS = 45_000;

export function assertCliBuilt(): void {
  if (!existsSync(cliBinary)) {
    throw new Error(`${cliBinary} is missing: build the CLI first (npx tsc -b packages/cli, or npm run build)`);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI user: their own XMTP_HOME (so their own key file) and a node URL. */
export class CliUser {
  readonly home = mkdtempSync(join(tmpdir(), "xmtp-cli-user-"));

  constructor(
    readonly apiUrl: string,
    readonly extraEnv: Record<string, string> = {},
  ) {}

  get keyFile(): string {
    return join(this.home, "identity.json");
  }

  env(overrides: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    // Only what a shell would pass; no XMTP_* leaking in from the environment running the tests.
    for (const name of ["PATH", "HOME", "TZ", "LANG"]) if (process.env[name]) env[name] = process.env[name]!;
    return { ...env, XMTP_HOME: this.home, XMTP_API_URL: this.apiUrl, ...this.extraEnv, ...overrides };
  }

  run(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
    const child = spawn(process.execPath, [cliBinary, ...args], {
      env: this.env(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin!.end(options.input ?? "");
    return collect(child, args);
  }

  /** Runs a command that must succeed, returning its stdout; a failure throws with everything it printed. */
  async ok(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(`xmtp ${args.join(" ")} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result.stdout;
  }

  async json<T = any>(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"], options)) as T;
  }

  spawn(args: string[]): ChildProcess {
    return spawn(process.execPath, [cliBinary, ...args], { env: this.env(), stdio: ["ignore", "pipe", "pipe"] });
  }

  dispose(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

function collect(child: ChildProcess, args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolvePromise, reject) => {
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`xmtp ${args.join(" ")} did not finish within ${RUN_GUARD_MS / 1000} s\n${stdout}\n${stderr}`));
    }, RUN_GUARD_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(guard);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Lines a long-running child prints, and a way to wait for one that matches. */
export class LineReader {
  readonly lines: string[] = [];
  private buffered = "";
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(stream: NodeJS.ReadableStream) {
    stream.on("data", (chunk: Buffer) => {
      this.buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
  }

  /** The first line (already printed or still to come) that passes `test`; throws after a hang guard. */
  waitFor(test: (line: string) => boolean, what: string, guardMs = 30_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${guardMs / 1000} s; got:\n${this.lines.join("\n")}`)), guardMs);
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolvePromise(line);
        },
      });
    });
  }
}

export function createSdkClient(apiUrl: string, wallet: HDNodeWallet): Promise<XmtpSdk.Client> {
  return sdk.Client.create(wallet, {
    apiUrl,
    env: "local",
    persistConversations: false,
    basePersistence: sdk.InMemoryPersistence.create(),
  });
}

export { closedPort } from "../../client/test/support/closedPort.js";
