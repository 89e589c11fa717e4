// The node's libp2p identity: an Ed25519 key kept in the data directory, so the peer id (and therefore the
// `/p2p/<id>` part of its address that other nodes are configured with) survives restarts.
import "./promiseWithResolvers.js";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";

export const NODE_KEY_FILE = "node-key";

export async function loadOrCreateNodeKey(dataDir: string): Promise<{ privateKey: PrivateKey; created: boolean }> {
  const path = join(dataDir, NODE_KEY_FILE);
  let stored: Uint8Array | undefined;
  try {
    stored = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (stored) {
    try {
      return { privateKey: privateKeyFromProtobuf(stored), created: false };
    } catch (error) {
      throw new Error(`node key file ${path} is corrupt (${String(error)}); delete it to create a new peer id`, {
        cause: error,
      });
    }
  }
  const privateKey = await generateKeyPair("Ed25519");
  await mkdir(dataDir, { recursive: true });
  // Written beside the final name and renamed, so a crash never leaves a truncated key behind.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, privateKeyToProtobuf(privateKey), { mode: 0o600 });
  await rename(temporary, path);
  return { privateKey, created: true };
}

/**
 * The peer id of the node whose data directory this is, from its key file; undefined when it has none. Never creates
 * a key (a snapshot names its source node with it, docs/storage.md §6).
 */
export async function readNodePeerId(dataDir: string): Promise<string | undefined> {
  let stored: Uint8Array;
  try {
    stored = await readFile(join(dataDir, NODE_KEY_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return peerIdFromPrivateKey(privateKeyFromProtobuf(stored)).toString();
}
