// A real local chain for tests: the anvil binary of the @foundry-rs/anvil npm package, on a free port, mining each
// transaction at once. Nothing is downloaded: the platform package is a devDependency of the repository.

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { JsonRpcProvider } from "ethers";
import { createChainProvider } from "../chainProvider.js";

export interface StartAnvilOptions {
  /** How many funded dev accounts anvil creates (its default is 10). */
  accounts?: number;
  /** Balance of each dev account, in ether (anvil's default is 10000). */
  balanceEther?: number;
  chainId?: bigint;
  /** How long to wait for "Listening on"; anvil is usually ready in well under a second. */
  startTimeoutMs?: number;
}

export interface Anvil {
  rpcUrl: string;
  chainId: bigint;
  /** Private keys (0x hex) of the funded dev accounts, in anvil's order. */
  accounts: string[];
  /** A new provider for this chain (createChainProvider: no request cache); stop() destroys it. */
  provider(): JsonRpcProvider;
  /** Moves the chain clock forward and mines a block carrying the new time. */
  increaseTime(seconds: number | bigint): Promise<void>;
  /** The timestamp of the latest block. */
  latestTimestamp(): Promise<bigint>;
  stop(): Promise<void>;
}

export class AnvilStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- anvil output ---\n${output}`);
    this.name = "AnvilStartError";
  }
}

const require = createRequire(import.meta.url);

/** The anvil executable of this platform's @foundry-rs/anvil-<os>-<arch> package. */
export function anvilBinaryPath(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`;
  let packageJson: string;
  try {
    packageJson = require.resolve(`${platformPackage}/package.json`);
  } catch {
    throw new Error(
      `${platformPackage} is not installed: anvil has no binary for ${process.platform}/${process.arch} here`,
    );
  }
  return join(dirname(packageJson), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

const LISTENING_RE = /Listening on ([\w.:[\]-]+):(\d+)/;
const PRIVATE_KEY_RE = /^\((\d+)\) (0x[0-9a-fA-F]{64})$/;
/** Kept for error messages: anvil logs every request, so only the tail is useful. */
const OUTPUT_TAIL_CHARS = 20_000;

const running = new Set<ChildProcess>();
// A test runner that dies without reaching afterAll must not leave chains behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337n;
  const args = ["--port", "0", "--host", "127.0.0.1", "--chain-id", chainId.toString()];
  if (options.accounts !== undefined) args.push("--accounts", String(options.accounts));
  if (options.balanceEther !== undefined) args.push("--balance", String(options.balanceEther));

  // --silent would also hide the "Listening on" line and the keys, so the output is read and then drained.
  const child = spawn(anvilBinaryPath(), args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };

  // "error" without "exit" is a binary that never started; either way nothing is left to wait for.
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 2_000);
      await exited;
      clearTimeout(killTimer);
    }
    running.delete(child);
  };

  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const accounts: string[] = [];
  let rpcUrl: string;
  try {
    rpcUrl = await new Promise<string>((resolve, reject) => {
      let pending = "";
      const timer = setTimeout(
        () => reject(new AnvilStartError(`anvil did not listen within ${startTimeoutMs} ms`, output)),
        startTimeoutMs,
      );
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new AnvilStartError(`cannot run anvil: ${err.message}`, output));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new AnvilStartError(`anvil exited before listening (code ${code}, signal ${signal})`, output));
      });
      child.stderr!.on("data", keep);
      child.stdout!.on("data", (chunk: Buffer) => {
        keep(chunk);
        pending += chunk.toString("utf8");
        let newline: number;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          const key = PRIVATE_KEY_RE.exec(line);
          if (key) accounts[Number(key[1])] = key[2];
          const listening = LISTENING_RE.exec(line);
          if (listening) {
            clearTimeout(timer);
            resolve(`http://${listening[1]}:${listening[2]}`);
          }
        }
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  // filter() skips the holes a missed key line would leave.
  if (accounts.length === 0 || accounts.filter(Boolean).length !== accounts.length) {
    await stop();
    throw new AnvilStartError("anvil listed no private keys", output);
  }

  const providers: JsonRpcProvider[] = [];
  const provider = () => {
    const p = createChainProvider(rpcUrl, { chainId, pollingIntervalMs: 50 });
    providers.push(p);
    return p;
  };
  const control = provider();

  return {
    rpcUrl,
    chainId,
    accounts,
    provider,
    async increaseTime(seconds) {
      await control.send("evm_increaseTime", [Number(seconds)]);
      await control.send("evm_mine", []);
    },
    async latestTimestamp() {
      const block = await control.getBlock("latest");
      if (!block) throw new Error("anvil has no latest block");
      return BigInt(block.timestamp);
    },
    async stop() {
      for (const p of providers) p.destroy();
      await stop();
    },
  };
}
