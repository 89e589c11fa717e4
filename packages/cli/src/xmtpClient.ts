// The bridge from the CLI's commands to @xmtp-ts/client.
import { Client } from "@xmtp-ts/client";
import type { ChatClient } from "./chatClient.js";
import type { WalletIdentity } from "./identity.js";
import { privateKeySigner } from "./signer.js";

/** Loads the wallet's XMTP keys from the node (creating and registering them the first time). */
export async function connectClient(identity: WalletIdentity, apiUrl: string): Promise<ChatClient> {
  return Client.create(privateKeySigner(identity), { apiUrl });
}

export function canMessageOnNetwork(peerAddress: string, apiUrl: string): Promise<boolean> {
  return Client.canMessage(peerAddress, { apiUrl });
}
