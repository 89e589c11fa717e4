// secp256k1 in the browser: @xmtp-ts/crypto runs noble (plain JavaScript) until the app hands it libsecp256k1 as
// WebAssembly, which opens invitations (a cold conversation list) an order of magnitude faster. vite emits the
// .wasm as an asset (the alias in vite.config.ts) and this import gives its URL.
import { getCryptoBackend, useWasmSecp256k1 } from "@xmtp-ts/crypto";
import secp256k1WasmUrl from "@xmtp-ts/crypto/secp256k1.wasm?url";

/**
 * Loads libsecp256k1; if it fails, says so in the console and keeps noble: slower, same results. Resolves with the
 * back end in use, also left on <html data-crypto-backend> for diagnostics (and the browser test).
 */
export async function loadCryptoBackend(): Promise<string> {
  try {
    await useWasmSecp256k1(secp256k1WasmUrl);
  } catch (error) {
    console.warn("XMTP chat: could not load libsecp256k1 (WebAssembly); using noble (JavaScript), which is slower.", error);
  }
  const { name } = await getCryptoBackend();
  document.documentElement.dataset.cryptoBackend = name;
  return name;
}
