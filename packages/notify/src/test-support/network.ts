// For the end-to-end tests: a real xmtp-node (test/support/runningNode.ts starts packages/node/dist/main.js), a
// publisher with a wallet-bound auth token (docs/protocol/api.md §4), and the xmtp-notify binary as a child process.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet } from "ethers";
import { createAuthToken, createWalletSignedIdentityKey, fromHex, legacyPrivateKeyScalar, legacyPublicKeyOf } from "@xmtp-ts/crypto";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const notifyBinary = join(packageRoot, "dist/main.js");

export { startNode, nodeBinary, type RunningNode } from "../../../../test/support/runningNode.js";

export interface Publisher {
  token: string;
  publish(nodeUrl: string, envelopes: { contentTopic: string; timestampNs: string; message: string }[]): Promise<void>;
}

export async function createPublisher(): Promise<Publisher> {
  const wallet = Wallet.createRandom();
  const identity = await createWalletSignedIdentityKey(async (text) => fromHex(await wallet.signMessage(text)));
  const token = createAuthToken({
    identityKey: legacyPublicKeyOf(identity),
    identityPrivateKey: legacyPrivateKeyScalar(identity),
    walletAddress: wallet.address,
    createdNs: BigInt(Date.now()) * 1_000_000n,
  });
  return {
    token,
    async publish(nodeUrl, envelopes) {
      const response = await fetch(nodeUrl + "/message/v1/publish", {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ envelopes }),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${text}`);
    },
  };
}

/** A fresh envelope on `topic` stamped now, with a random message. */
export function freshEnvelope(topic: string, messageBytes = 24): { contentTopic: string; timestampNs: string; message: string } {
  return {
    contentTopic: topic,
    timestampNs: (BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(),
    message: randomBytes(messageBytes).toString("base64"),
  };
}

export interface RunningNotify {
  url: string;
  process: ChildProcess;
  logs: string[];
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/** Starts the built xmtp-notify binary and resolves once it logs its "listening" line. */
export async function startNotify(args: string[]): Promise<RunningNotify> {
  const child = spawn(process.execPath, [notifyBinary, "--host", "127.0.0.1", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        if (logs.length > 2_000) logs.shift();
        const match = /"msg":"listening".*?"url":"([^"]+)"/.exec(line);
        if (match) resolveUrl(match[1]);
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => logs.push(chunk.toString("utf8")));
    exited.then((code) => reject(new Error(`xmtp-notify exited with ${code} before listening:\n${logs.join("\n")}`)));
    setTimeout(() => reject(new Error(`xmtp-notify did not listen within 20 s:\n${logs.join("\n")}`)), 20_000).unref();
  });
  return {
    url,
    process: child,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
