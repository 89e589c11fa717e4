// Interop test helpers: a real node per test file, public-SDK clients, and our clients, all on loopback.
import { createRequire } from "node:module";
import { setTimeout as delay } from "node:timers/promises";
import { Wallet, type BaseWallet } from "ethers";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { Client, type ClientOptions } from "../../src/index.js";

const require = createRequire(import.meta.url);
// Its ES-module build fails on Node 20; the CJS build works.
export const sdk: any = require("@xmtp/xmtp-js");

export { Wallet };

export async function node(): Promise<RunningNode> {
  return startNode();
}

/** Our client for a new (or given) wallet on `url`. */
export async function ourClient(url: string, wallet: BaseWallet = Wallet.createRandom(), options: ClientOptions = {}) {
  const client = await Client.create(wallet, { apiUrl: url, ...options });
  return Object.assign(client, { wallet });
}

/** A public-SDK client for a new (or given) wallet on `url`. */
export async function sdkClient(url: string, wallet: BaseWallet = Wallet.createRandom(), options: Record<string, unknown> = {}): Promise<any> {
  const client = await sdk.Client.create(wallet, { apiUrl: url, env: "local", ...options });
  return Object.assign(client, { wallet });
}

/** Waits for the first `count` items of an async iterator (bounded so a broken stream fails the test, not hangs it). */
export async function take<T>(iterator: AsyncIterator<T>, count: number, timeoutMs = 20_000): Promise<T[]> {
  const out: T[] = [];
  const deadline = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream delivered ${out.length} of ${count} items in ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.();
  });
  while (out.length < count) {
    const result = await Promise.race([iterator.next(), deadline]);
    if (result.done) break;
    out.push(result.value);
  }
  return out;
}

/**
 * The public SDK opens its streams without waiting for the node to register them (docs/protocol/api.md §3), so
 * something sent right after may be missed. This sends (attempt 0, 1, …) until the SDK stream yields something, and
 * returns that item.
 */
export async function sdkReceives<T>(iterator: AsyncIterator<T>, send: (attempt: number) => Promise<unknown>, attempts = 10): Promise<T> {
  const next = iterator.next();
  for (let attempt = 0; attempt < attempts; attempt++) {
    await send(attempt);
    const result = await Promise.race([next, delay(2000, undefined, { ref: false })]);
    if (result) {
      if (result.done) throw new Error("the SDK stream ended");
      return result.value;
    }
  }
  throw new Error(`the SDK stream delivered nothing after ${attempts} sends`);
}
