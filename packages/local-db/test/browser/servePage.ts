// Builds test/browser/page.ts with vite's JS API (as test/browser/support/chatApp.ts builds the chat app) and serves
// the build on a free loopback port. The build also checks that the package bundles for browsers on its own: vite
// must not have had to externalize (or polyfill) a Node.js built-in, and no static import of one may remain.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, createLogger, defaultClientConditions, preview, type InlineConfig, type Plugin } from "vite";

const pageRoot = dirname(fileURLToPath(import.meta.url));

export interface ServedPage {
  url: string;
  /** Everything vite warned about while bundling. */
  warnings: string[];
  /**
   * Node.js built-ins or better-sqlite3 that the bundle imports statically: what vite had to resolve (it would
   * stub them out for browsers without a word), and what remains in the output.
   */
  nodeImports: string[];
  close(): Promise<void>;
}

export async function serveLocalDbPage(): Promise<ServedPage> {
  const outDir = mkdtempSync(join(tmpdir(), "xmtp-local-db-page-"));
  const warnings: string[] = [];
  const logger = createLogger("warn");
  const customLogger = {
    ...logger,
    warn(message: string, options?: Parameters<typeof logger.warn>[1]) {
      warnings.push(message);
      logger.warn(message, options);
    },
    warnOnce(message: string, options?: Parameters<typeof logger.warn>[1]) {
      warnings.push(message);
      logger.warnOnce(message, options);
    },
  };
  const nodeImports: string[] = [];
  const config: InlineConfig = {
    root: pageRoot,
    configFile: false,
    logLevel: "warn",
    customLogger,
    // Workspace packages export their TypeScript sources under "source", as in apps/chat.
    resolve: { conditions: ["source", ...defaultClientConditions] },
    build: { outDir, emptyOutDir: true, target: "es2022", minify: false },
    plugins: [recordNodeImports(nodeImports)],
  };
  await build(config);
  nodeImports.push(...findNodeImportsInOutput(outDir));
  const server = await preview({ ...config, preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false } });
  const address = server.httpServer.address();
  if (!address || typeof address === "string") throw new Error("vite preview did not listen on a TCP port");
  return {
    url: `http://127.0.0.1:${address.port}/`,
    warnings,
    nodeImports,
    async close() {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

const NODE_ONLY_MODULES = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`), "better-sqlite3"]);

/** A plugin that records every Node.js-only module the build resolves (computed dynamic imports are never resolved). */
function recordNodeImports(found: string[]): Plugin {
  return {
    name: "local-db-test:record-node-imports",
    enforce: "pre",
    resolveId(source, importer) {
      if (NODE_ONLY_MODULES.has(source) || source.startsWith("node:")) found.push(`${source}, imported by ${importer}`);
      return null;
    },
  };
}

function findNodeImportsInOutput(outDir: string): string[] {
  const staticImport = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']((?:node:)?(?:fs|path|crypto|os|url|module|child_process|worker_threads)|node:[\w/]+|better-sqlite3)["']/g;
  const found: string[] = [];
  for (const file of readdirSync(outDir, { recursive: true }) as string[]) {
    if (!file.endsWith(".js")) continue;
    const code = readFileSync(join(outDir, file), "utf8");
    for (const match of code.matchAll(staticImport)) found.push(`${file}: ${match[0]}`);
    // vite's stand-in for a Node.js module in a browser build (named with dashes or, once bundled, underscores).
    for (const match of code.matchAll(/__vite[-_]browser[-_]external[\w:-]*/g)) found.push(`${file}: ${match[0]}`);
  }
  return found;
}
