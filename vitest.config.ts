import { defineConfig } from "vitest/config";

// The public SDK's interop suite runs twice: against one node, and (with PostgreSQL, as in CI) against three
// instances over one database behind HAProxy, which must behave as one node (docs/scale-out.md).
const interopSuite = "packages/node/test/interop/**/*.test.ts";
const clusterInterop = process.env.XMTP_TEST_POSTGRES_URL
  ? [
      {
        extends: true as const,
        test: {
          name: "interop-through-cluster",
          include: [interopSuite],
          env: { XMTP_TEST_INTEROP_CLUSTER: "1" },
        },
      },
    ]
  : [];

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript sources under the "source" condition, so tests need no build.
    conditions: ["source"],
  },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "default",
          include: [
            "packages/*/src/**/*.test.ts",
            "packages/*/test/**/*.test.ts",
            "apps/*/src/**/*.test.ts",
            "test/**/*.test.ts",
          ],
        },
      },
      ...clusterInterop,
    ],
  },
});
