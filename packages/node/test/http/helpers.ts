// Shared by the HTTP integration tests: an in-process node on a free loopback port with a temporary data dir,
// wallet-bound publish tokens, and small request helpers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import type { PublicKey } from "@xmtp-ts/proto";
import {
  createAuthToken,
  createWalletSignedIdentityKey,
  fromHex,
  legacyPrivateKeyScalar,
  legacyPublicKeyOf,
  toBase64,
} from "@xmtp-ts/crypto";
import { defaultConfig, silentLogger, startNode, type NodeComponents, type NodeConfigOverrides, type RunningNode } from "../../src/index.js";
import { readSince } from "../../src/store/test-support/readSince.js";

export interface TestNode extends RunningNode {
  dataDir: string;
  /** close() and delete the data dir. */
  dispose(): Promise<void>;
}

export async function startTestNode(
  overrides: NodeConfigOverrides = {},
  components: Partial<NodeComponents> = {},
): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), "xmtp-node-http-"));
  const node = await startNode(defaultConfig({ dataDir, ...overrides }), { logger: silentLogger, ...components });
  return {
    ...node,
    dataDir,
    async dispose() {
      await node.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Identity {
  wallet: Wallet;
  address: string;
  identityKey: PublicKey;
  identityPrivateKey: Uint8Array;
  /** A token created now (or at createdNs), signed by this identity. */
  token(createdNs?: bigint): string;
}

export const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** A wallet with a legacy identity key signed by it, as the SDK makes them (docs/protocol/api.md §4, §6). */
export async function createIdentity(wallet: Wallet = Wallet.createRandom() as unknown as Wallet): Promise<Identity> {
  const identity = await createWalletSignedIdentityKey(async (text) => fromHex(await wallet.signMessage(text)));
  const identityKey = legacyPublicKeyOf(identity);
  const identityPrivateKey = legacyPrivateKeyScalar(identity);
  return {
    wallet,
    address: wallet.address,
    identityKey,
    identityPrivateKey,
    token: (createdNs = nowNs()) =>
      createAuthToken({ identityKey, identityPrivateKey, walletAddress: wallet.address, createdNs }),
  };
}

export function envelopeJson(contentTopic: string, timestampNs: bigint | string, message: Uint8Array | string) {
  return {
    contentTopic,
    timestampNs: String(timestampNs),
    message: typeof message === "string" ? message : toBase64(message),
  };
}

export const bytesOf = (text: string) => new TextEncoder().encode(text);

export async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(baseUrl + path, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the raw text: the caller's assertion will show it
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export function publish(node: { url: string }, envelopes: unknown[], token?: string) {
  return post(node.url, "/message/v1/publish", { envelopes }, token ? { authorization: `Bearer ${token}` } : {});
}

/** Every envelope stored on a topic, read straight from the store (not through the API under test). */
export async function storedOn(node: RunningNode, topic: string) {
  const page = await node.store.query({ topic, limit: 100, direction: "ascending" });
  return page.envelopes;
}

/** Every envelope in the store, in arrival order. */
export async function everythingStored(node: RunningNode) {
  return (await readSince(node.store, 0n, 100_000)).envelopes;
}
