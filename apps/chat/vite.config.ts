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
  worker: {
    rolldownOptions: {
      output: {
        // The service worker (src/serviceWorker.ts, imported with ?worker&url) goes to the app's root as sw.js: a
        // service worker controls only pages under its own directory, and the app is the directory of index.html.
        // The other workers keep vite's usual place.
        entryFileNames: (chunk) => (chunk.name === "serviceWorker" ? "sw.js" : "assets/[name]-[hash].js"),
      },
    },
  },
  // In development vite serves the service worker from /src/: this header lets it control the whole app.
  server: { host: "127.0.0.1", port: 5173, headers: { "Service-Worker-Allowed": "/" } },
  preview: { host: "127.0.0.1", port: 4173 },
  build: { target: "es2022", sourcemap: true },
});
