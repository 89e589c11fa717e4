// The relationship grants a wallet holds, kept in the browser's storage across reloads (postage.ts words the keys).
import { loadSavedGrants, saveGrants } from "../postage.js";
import type { ChatClient } from "../xmtp.js";

/** Hands the client the grants saved for its wallet. */
export function restoreGrants(storage: Storage, client: ChatClient): void {
  for (const grant of loadSavedGrants(storage, client.address)) {
    try {
      client.postage.acceptGrant(grant);
    } catch {
      // Expired or no longer readable: dropped at the next save.
    }
  }
}

/** Saves the grants the client holds: pasted ones, and those that arrived inside messages. */
export function persistGrants(storage: Storage, client: ChatClient): void {
  try {
    saveGrants(storage, client.address, client.postage.grants());
  } catch {
    // Storage full or blocked: grants still work until the page is closed.
  }
}
