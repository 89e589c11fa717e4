import { defineConfig, defaultClientConditions } from "vite";

export default defineConfig({
  // Workspace packages export their TypeScript sources under "source": the app bundles them without a tsc build.
  resolve: { conditions: ["source", ...defaultClientConditions] },
  server: { host: "127.0.0.1", port: 5173 },
  preview: { host: "127.0.0.1", port: 4173 },
  build: { target: "es2022", sourcemap: true },
});
