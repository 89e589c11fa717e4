// A connected wallet's live resources: its client (and inbox database) and its streams. The state (state.ts) holds
// what is shown; this holds what must be closed.
import { shortAddress } from "../format.js";
import type { AppConfig } from "../config.js";
import type { WalletKind } from "../state.js";
import { connectBrowserWallet, developmentWallet, type ConnectedWallet } from "../wallets.js";
import { createChatClient, type ChatClient } from "../xmtp.js";
import { restoreGrants } from "./grants.js";
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
  restoreGrants(config.storage, client);
  return { id, wallet, client, apiUrl, streams: [], closed: false };
}

/** Stops the session's work; the database closes once the streams have stopped writing to it. */
export function closeSession(session: LiveSession): void {
  session.closed = true;
  void closeStreams(session)
    .then(() => session.client.close())
    .catch(() => {});
}
