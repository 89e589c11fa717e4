// The bridge from the CLI's commands to @xmtp-ts/client, and to the payer's chain for postage.
import { archiveKeysFromWallet, Client, exportInbox, importInbox, readArchive } from "@xmtp-ts/client";
import { encodePrivateKeyBundle } from "@xmtp-ts/crypto";
import { createChainProvider, POSTAGE_VAULT_ABI } from "@xmtp-ts/postage";
import { Interface, Wallet, type JsonRpcProvider } from "ethers";
import type { ArchiveIo, ChatClient, ChatPostage, ConnectOptions } from "./chatClient.js";
import { CliError } from "./errors.js";
import type { WalletIdentity } from "./identity.js";
import { privateKeySigner } from "./signer.js";

/** How long the payer's RPC gets to say which chain it serves. */
const RPC_TIMEOUT_MS = 10_000;

/**
 * The chain an RPC serves (eth_chainId), asked once with a deadline. ethers would ask too, but on an RPC that does
 * not answer it retries for ever and logs as it goes; with the chain known, its provider never asks again.
 */
export async function rpcChainId(rpcUrl: string): Promise<bigint> {
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const timedOut = (err as Error).name === "TimeoutError";
    const reason = typeof cause?.code === "string" ? cause.code : timedOut ? "no answer" : (err as Error).message;
    throw new CliError("CHAIN", `cannot reach the payer's chain RPC at ${rpcUrl} (${reason})`, { cause: err });
  }
  let body: { result?: unknown; error?: { message?: unknown } };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new CliError("CHAIN", `the payer's chain RPC at ${rpcUrl} answered HTTP ${response.status}, not JSON-RPC`);
  }
  if (typeof body?.result !== "string" || !/^0x[0-9a-fA-F]+$/.test(body.result)) {
    const reason = typeof body?.error?.message === "string" ? body.error.message : `HTTP ${response.status}`;
    throw new CliError("CHAIN", `the payer's chain RPC at ${rpcUrl} did not say its chain id (${reason})`);
  }
  return BigInt(body.result);
}

const vaultInterface = new Interface(POSTAGE_VAULT_ABI);

/** The amount of the vault's Withdrawn event in a transaction; undefined when the receipt cannot be read. */
async function withdrawnWei(provider: JsonRpcProvider | undefined, hash: string): Promise<bigint | undefined> {
  const receipt = await provider?.getTransactionReceipt(hash).catch(() => null);
  for (const log of receipt?.logs ?? []) {
    const parsed = (() => {
      try {
        return vaultInterface.parseLog(log);
      } catch {
        return null;
      }
    })();
    if (parsed?.name === "Withdrawn") return parsed.args.amount as bigint;
  }
  return undefined;
}

/** Loads the wallet's XMTP keys from the node (creating and registering them the first time). */
export async function connectClient(identity: WalletIdentity, apiUrl: string, options: ConnectOptions = {}): Promise<ChatClient> {
  const { payer: payerConfig } = options;
  let provider: JsonRpcProvider | undefined;
  let payer: Wallet | undefined;
  if (payerConfig) {
    if (payerConfig.rpcUrl) {
      // The provider reports the chain the RPC really serves; the client compares it with the node's vault.
      provider = createChainProvider(payerConfig.rpcUrl, { chainId: await rpcChainId(payerConfig.rpcUrl), pollingIntervalMs: 500 });
    }
    payer = new Wallet(payerConfig.privateKey, provider);
  }
  const client = await Client.create(privateKeySigner(identity), {
    apiUrl,
    dbPath: options.dbPath,
    ...(payer ? { postage: { payer, maxPriceWei: payerConfig?.maxPriceWei } } : {}),
  });
  const { postage } = client;
  const chatPostage: ChatPostage = {
    get canPay() {
      return postage.canPay;
    },
    quote: () => postage.quote(),
    deposit: (wei) => postage.deposit(wei),
    balance: () => postage.balance(),
    requestWithdrawal: () => postage.requestWithdrawal(),
    async withdraw() {
      const transaction = await postage.withdraw();
      const amountWei = await withdrawnWei(provider, transaction.hash);
      return amountWei === undefined ? transaction : { ...transaction, amountWei };
    },
    grant: (grantee, grantOptions) => postage.grant(grantee, grantOptions),
    acceptGrant: (grant) => postage.acceptGrant(grant),
    grants: () => postage.grants(),
  };
  return {
    address: client.address,
    canMessage: (peerAddress: string) => client.canMessage(peerAddress),
    conversations: client.conversations,
    postage: chatPostage,
  };
}

export function canMessageOnNetwork(peerAddress: string, apiUrl: string): Promise<boolean> {
  return Client.canMessage(peerAddress, { apiUrl });
}

/** Inbox archives through @xmtp-ts/client (docs/storage.md §7). */
export const archiveIo: ArchiveIo = {
  async exportInbox(identity, apiUrl, { dbPath, onProgress }) {
    const client = await Client.create(privateKeySigner(identity), { apiUrl, dbPath });
    try {
      return await exportInbox(client, { onProgress });
    } finally {
      await client.close();
    }
  },
  async importInbox(identity, apiUrl, archive, { onProgress }) {
    // The keys come from the archive, not from the node: a node that never saw this wallet would otherwise make new
    // ones. Nothing is published before the import: its contact and key bundle are in the archive.
    const signer = privateKeySigner(identity);
    const keys = await archiveKeysFromWallet(archive, signer);
    const client = await Client.create(signer, {
      apiUrl,
      privateKeyOverride: encodePrivateKeyBundle(keys.bundle),
      skipContactPublishing: true,
      parallelInvitations: false,
    });
    return importInbox(client, archive, { onProgress });
  },
  async openArchive(identity, archive) {
    const keys = await archiveKeysFromWallet(archive, privateKeySigner(identity));
    const opened = await readArchive(archive, keys);
    const client = await opened.openClient();
    return { address: client.address, createdAt: opened.header.createdAt, conversations: client.conversations };
  },
};
