// A connected wallet's live resources: its client (and inbox database) and its streams. The state (state.ts) holds
// what is shown; this holds what must be closed.
import { shortAddress } from "../format.js";
import type { AppConfig } from "../config.js";
import type { WalletKind } from "../state.js";
import type { SessionRecord } from "../sessionRecord.js";
import { connectBrowserWallet, developmentWallet, savedDevelopmentWallet, sharedBrowserWallet, type ConnectedWallet } from "../wallets.js";
import { createChatClient, type ChatClient } from "../xmtp.js";
import { restoreGrants } from "./grants.js";
import { forgetKeyBundle, loadKeyBundle, saveKeyBundle } from "./keyVault.js";
import { closeStreams, type StreamOwner } from "./streams.js";

export interface LiveSession extends StreamOwner {
  /** The id of the session in the state (SessionState.id). */
  readonly id: number;
  readonly wallet: ConnectedWallet;
  readonly client: ChatClient;
  readonly apiUrl: string;
  closed: boolean;
}

/**
 * Gets a wallet of `kind` and its client on the node at `apiUrl`, with the grants saved for it; `onStatus` says what
 * it is waiting for. Rejects with what went wrong (explainError words it).
 */
export async function openSession(
  id: number,
  kind: WalletKind,
  apiUrl: string,
  config: AppConfig,
  onStatus: (status: string) => void,
): Promise<LiveSession> {
  let wallet: ConnectedWallet;
  if (kind === "browser") {
    if (!config.ethereum) throw new Error("No browser wallet was found. Install one, or use a development wallet.");
    onStatus("Waiting for your wallet to share an account…");
    wallet = await connectBrowserWallet(config.ethereum);
    onStatus("Sign in with your wallet: it asks you to sign XMTP's identity message(s).");
  } else {
    wallet = developmentWallet(config.storage);
    onStatus(`Connecting development wallet ${shortAddress(wallet.address)}…`);
  }
  // A client made before libsecp256k1 is in use would open its invitations on noble, far slower.
  await config.cryptoReady?.catch(() => undefined);
  const client = await createChatClient(wallet.signer, apiUrl);
  if (wallet.kind === "browser") {
    // Kept so that a reload does not ask the wallet to sign again (keyVault.ts: encrypted, deleted on disconnect).
    await saveKeyBundle(wallet.address, apiUrl, client.exportKeyBundle()).catch((err: unknown) =>
      console.warn("XMTP chat: could not keep the XMTP keys for the next visit; a reload will ask the wallet again.", err),
    );
  }
  restoreGrants(config.storage, client);
  return { id, wallet, client, apiUrl, streams: [], closed: false };
}

/**
 * The session `record` remembers, without asking the user anything: the saved development wallet, or the browser
 * wallet if it still shares that account, with the XMTP keys kept at connect. Undefined when that cannot be done
 * silently (the wallet was forgotten, is locked or switched accounts, the keys are gone): the connect screen shows.
 * Rejects when the node cannot be used.
 */
export async function restoreSession(
  id: number,
  record: SessionRecord,
  config: AppConfig,
  onStatus: (status: string) => void,
): Promise<LiveSession | undefined> {
  let wallet: ConnectedWallet | undefined;
  let savedKeys: Uint8Array | undefined;
  if (record.kind === "development") {
    wallet = savedDevelopmentWallet(config.storage);
  } else if (config.ethereum) {
    wallet = await sharedBrowserWallet(config.ethereum, record.address);
    savedKeys = wallet && (await loadKeyBundle(record.address, record.apiUrl));
    if (!savedKeys) wallet = undefined;
  }
  if (!wallet || wallet.address !== record.address) return undefined;
  onStatus(`Restoring your session as ${shortAddress(wallet.address)}…`);
  await config.cryptoReady?.catch(() => undefined);
  const client = await createChatClient(wallet.signer, record.apiUrl, savedKeys);
  restoreGrants(config.storage, client);
  return { id, wallet, client, apiUrl: record.apiUrl, streams: [], closed: false };
}

/** Forgets what a reload would need to restore the session silently (the browser wallet's kept keys). */
export async function forgetSessionKeys(session: LiveSession): Promise<void> {
  if (session.wallet.kind === "browser") await forgetKeyBundle(session.wallet.address, session.apiUrl);
}

/** Stops the session's work; the database closes once the streams have stopped writing to it. */
export function closeSession(session: LiveSession): void {
  session.closed = true;
  void closeStreams(session)
    .then(() => session.client.close())
    .catch(() => {});
}
