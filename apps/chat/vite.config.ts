import { secp256k1WasmFile } from "@xmtp-ts/crypto/secp256k1-wasm-file";
import { defineConfig, defaultClientConditions } from "vite";

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript sources under "source": the app bundles them without a tsc build.
    conditions: ["source", ...defaultClientConditions],
    // libsecp256k1 as WebAssembly (packages/crypto/README.md): tiny-secp256k1's exports map hides its .wasm, so the
    // app imports it under this name and vite emits the installed file as an asset, giving the app its URL.
    alias: [{ find: /^@xmtp-ts\/crypto\/secp256k1\.wasm(?=\?|$)/, replacement: secp256k1WasmFile() }],
  },
  server: { host: "127.0.0.1", port: 5173 },
  preview: { host: "127.0.0.1", port: 4173 },
  build: { target: "es2022", sourcemap: true },
});
