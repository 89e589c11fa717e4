// What the app remembers of a connected session so that a reload goes back to it: which kind of wallet, its address
// and the node. No keys: a development wallet's key is already kept by wallets.ts, a browser wallet's XMTP keys by
// effects/keyVault.ts (encrypted under a key the page cannot read).
import type { WalletKind } from "./state.js";

const SESSION_KEY = "xmtp-chat:session";

export interface SessionRecord {
  kind: WalletKind;
  /** The client's checksummed address. */
  address: string;
  apiUrl: string;
}

function isRecord(value: unknown): value is SessionRecord {
  const v = value as Partial<SessionRecord> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    (v.kind === "development" || v.kind === "browser") &&
    typeof v.address === "string" &&
    /^0x[0-9a-fA-F]{40}$/.test(v.address) &&
    typeof v.apiUrl === "string" &&
    v.apiUrl.length > 0
  );
}

/** The session to go back to, if one was open when the page was left (a corrupt entry counts as none). */
export function loadSessionRecord(storage: Storage): SessionRecord | undefined {
  const text = storage.getItem(SESSION_KEY);
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? { kind: value.kind, address: value.address, apiUrl: value.apiUrl } : undefined;
  } catch {
    return undefined;
  }
}

export function saveSessionRecord(storage: Storage, record: SessionRecord): void {
  try {
    storage.setItem(SESSION_KEY, JSON.stringify(record));
  } catch {
    // Storage full or blocked: the next visit shows the connect screen, as before.
  }
}

export function clearSessionRecord(storage: Storage): void {
  storage.removeItem(SESSION_KEY);
}

/**
 * Whether a reload goes back to `record` on the node the page was opened for: not when the page names another
 * node (a link with ?apiUrl=, or another build's default), which the user meant to use instead.
 */
export function shouldRestore(record: SessionRecord | undefined, pageApiUrl: string): record is SessionRecord {
  return record !== undefined && record.apiUrl.replace(/\/+$/, "") === pageApiUrl.trim().replace(/\/+$/, "");
}
