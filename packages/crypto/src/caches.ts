import type { KeyBundleVerifier } from "./bundles.js";
import type { X3dhSecretCache } from "./x3dh.js";

/** Optional memo objects a long-lived client passes to the protocol functions to avoid repeating work. */
export interface CryptoCaches {
  verifier?: KeyBundleVerifier;
  secrets?: X3dhSecretCache;
}
