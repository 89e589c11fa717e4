// Builds the node's security layer from its configuration: the authz store in the node's own database (SQLite
// file or PostgreSQL), the access control watching it, and the guard the HTTP layer consults.
import type { NodeConfig, StorageConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { NodeMetrics } from "../metrics/nodeMetrics.js";
import { AccessControl } from "./accessControl.js";
import type { AuthzStore } from "./authzStore.js";
import { SecurityGuard } from "./guard.js";
import type { SecurityConfig } from "./limits.js";
import { openSqliteAuthzStore } from "./sqliteAuthzStore.js";

/**
 * The allow/deny lists live next to the envelopes: same SQLite file (own tables) or same PostgreSQL database, with
 * the node's database timeouts (`config.database`; the PostgreSQL defaults when absent).
 */
export async function openAuthzStore(
  storage: StorageConfig,
  database?: NodeConfig["database"],
  options: { create?: boolean } = {},
): Promise<AuthzStore> {
  // create false: a database that does not exist is refused (AuthzDatabaseMissingError) instead of created.
  if (storage.kind === "sqlite") return openSqliteAuthzStore(storage.path, { create: options.create });
  // Loaded on demand, as the envelope store is (server.ts): a SQLite node never loads the PostgreSQL driver.
  const { openPostgresAuthzStore } = await import("./postgresAuthzStore.js");
  return openPostgresAuthzStore(storage.url, {
    connectTimeoutMs: database?.connectTimeoutMs,
    queryTimeoutMs: database?.queryTimeoutMs,
    create: options.create,
  });
}

export interface SecurityLayer {
  guard: SecurityGuard;
  accessControl: AccessControl;
  close(): Promise<void>;
}

export interface SecurityLayerOptions {
  config: SecurityConfig;
  storage: StorageConfig;
  /** Database timeouts for a PostgreSQL authz store (`config.database`); the store's defaults when absent. */
  database?: NodeConfig["database"];
  metrics?: NodeMetrics;
  logger?: Logger;
  /** Injected lists (tests); by default opened from `storage`. Closed by close() either way. */
  authzStore?: AuthzStore;
}

export async function startSecurityLayer(options: SecurityLayerOptions): Promise<SecurityLayer> {
  const store = options.authzStore ?? (await openAuthzStore(options.storage, options.database));
  try {
    const accessControl = new AccessControl(store, {
      mode: options.config.accessMode,
      refreshIntervalMs: options.config.authzRefreshMs,
      logger: options.logger,
    });
    const guard = new SecurityGuard({ config: options.config, accessControl, metrics: options.metrics });
    await guard.start();
    return {
      guard,
      accessControl,
      async close() {
        guard.stop();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
