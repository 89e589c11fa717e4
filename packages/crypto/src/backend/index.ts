import type { CryptoBackend } from "./types.js";
import { webBackend } from "./web.js";

export type { CryptoBackend } from "./types.js";
export { webBackend } from "./web.js";

let selected: Promise<CryptoBackend> | undefined;

/** The node:crypto back end; rejects outside Node.js. The specifier is computed so bundlers leave it alone. */
export async function loadNodeBackend(): Promise<CryptoBackend> {
  const specifier = "node:crypto";
  const nodeCrypto = await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
  const { createNodeBackend } = await import("./node.js");
  return createNodeBackend(nodeCrypto.default ?? nodeCrypto);
}

function isNode(): boolean {
  const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
  return typeof versions?.node === "string";
}

/** The back end every protocol function uses: node:crypto under Node.js, @noble + WebCrypto elsewhere. */
export function getCryptoBackend(): Promise<CryptoBackend> {
  selected ??= isNode() ? loadNodeBackend().catch(() => webBackend) : Promise.resolve(webBackend);
  return selected;
}

/** Forces a back end (tests run the same vectors through both; apps may pin "web"). */
export function setCryptoBackend(backend: CryptoBackend): void {
  selected = Promise.resolve(backend);
}
