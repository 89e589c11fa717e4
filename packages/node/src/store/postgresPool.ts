// A node-postgres pool set up so that no database fault can reach the process: every connection has an 'error'
// listener for its whole life (idle in the pool, or checked out by us), every connection and statement has a time
// limit, a connection that failed is discarded rather than reused, and ending the pool cannot hang. Faults are
// turned into StoreUnavailableError (postgresFaults.ts). Shared by the envelope store and the authz lists.
import pg from "pg";
import { asStoreError } from "./postgresFaults.js";
import { StoreUnavailableError, type StoreOperation } from "./storeErrors.js";

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
/** Idle pooled connections are probed by TCP keep-alive after this long, so a vanished server is noticed. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

export interface PostgresPoolOptions {
  connectionString: string;
  max: number;
  applicationName: string;
  /** Extra `-c name=value` session settings, after the URL's own `options` (so ours win). */
  sessionSettings?: Record<string, string>;
  /** Connecting (and waiting for a free pooled connection) fails after this long. */
  connectTimeoutMs?: number;
  /** A statement fails after this long: statement_timeout on the server, and a client-side timer for a hung server. */
  queryTimeoutMs?: number;
}

export interface PostgresPool {
  pool: pg.Pool;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  /** pool.end() that resolves within about `boundMs` even when the server hangs, destroying sockets if it must. */
  end(boundMs?: number): Promise<void>;
}

export function createPostgresPool(options: PostgresPoolOptions): PostgresPool {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  // node-postgres lets the URL's parameters override the pool's, so a URL `options` would replace ours: take it out
  // and put it first.
  let connectionString = options.connectionString;
  let urlOptions = "";
  try {
    const url = new URL(connectionString);
    urlOptions = url.searchParams.get("options") ?? "";
    if (url.searchParams.has("options")) {
      url.searchParams.delete("options");
      connectionString = url.toString();
    }
  } catch {
    // not a URL: node-postgres reports it when connecting
  }
  const settings: Record<string, string> = {
    // The server cancels a statement after this (57014) while it is alive to do so; the client-side timer below is a
    // little later, for a server that answers nothing at all (stopped, partitioned).
    statement_timeout: String(queryTimeoutMs),
    // A transaction whose client vanished without closing its socket would hold its locks (the writers' advisory
    // lock) until TCP gives up; ours never wait between statements.
    idle_in_transaction_session_timeout: String(2 * queryTimeoutMs),
    ...options.sessionSettings,
  };
  const sessionOptions = [urlOptions, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)]
    .filter((part) => part.length > 0)
    .join(" ");
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    application_name: options.applicationName,
    options: sessionOptions,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs + Math.min(1_000, Math.max(100, Math.round(queryTimeoutMs / 10))),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
  });
  // An idle connection that breaks is removed by the pool, which then emits it here: without a listener that would
  // be an uncaught exception. The next request simply gets a new connection.
  pool.on("error", () => undefined);
  const clients = new Set<pg.PoolClient>();
  pool.on("connect", (client) => clients.add(client));
  pool.on("remove", (client) => clients.delete(client));

  let ending: Promise<void> | undefined;
  const end = (boundMs = Math.min(connectTimeoutMs + queryTimeoutMs, 5_000)) =>
    (ending ??= (async () => {
      const ended = pool.end().catch(() => undefined);
      if (await settlesWithin(ended, boundMs)) return;
      // A server that does not answer never acknowledges the goodbye of an idle connection, and a checked-out one may
      // wait on a statement: cut the sockets; every waiter then fails at once.
      for (const client of clients) destroySocket(client);
      await settlesWithin(ended, 1_000);
    })());
  return { pool, connectTimeoutMs, queryTimeoutMs, end };
}

/**
 * Runs `work` on a checked-out connection. While it is out, the connection has an 'error' listener (a socket error
 * or a server's FATAL message between statements is emitted on it, and with no listener would crash the process).
 * A connection that failed, or whose work threw, is released with the error so the pool discards it; it is never
 * reused. Faults are thrown as StoreUnavailableError.
 */
export async function withConnection<T>(
  pool: pg.Pool,
  operation: StoreOperation,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw asStoreError(error, operation);
  }
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onError);
  let failure: unknown;
  try {
    return await work(client);
  } catch (error) {
    failure = error;
    const during = error instanceof CommitOutcomeUnknown ? error.during : undefined;
    const underlying = error instanceof CommitOutcomeUnknown ? error.cause : error;
    // When the connection broke between statements, the next one only says "not queryable"; the error that broke
    // it (e.g. "terminating connection due to unexpected postmaster exit") says why.
    const fromBroken = broken ? asStoreError(broken, operation, during) : undefined;
    throw fromBroken instanceof StoreUnavailableError ? fromBroken : asStoreError(underlying, operation, during);
  } finally {
    client.off("error", onError);
    // Closing the connection also rolls back whatever transaction it had open.
    const discard = broken ?? (failure === undefined ? undefined : failure instanceof Error ? failure : true);
    client.release(discard);
  }
}

/**
 * BEGIN, `work`, COMMIT on one connection (see withConnection). A COMMIT whose answer was lost is reported as a
 * failure "during COMMIT": it may or may not have been applied, so the caller must not acknowledge it; the client's
 * retry is safe where writes are idempotent.
 */
export function inTransaction<T>(
  pool: pg.Pool,
  operation: StoreOperation,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withConnection(pool, operation, async (client) => {
    await client.query("BEGIN");
    const result = await work(client);
    try {
      await client.query("COMMIT");
    } catch (error) {
      throw new CommitOutcomeUnknown(error);
    }
    return result;
  });
}

/** A COMMIT that failed: withConnection reports it as a fault "during COMMIT" (or rethrows the cause if not a fault). */
class CommitOutcomeUnknown extends Error {
  readonly during = "COMMIT (it may or may not have been applied; retrying is safe)";
  constructor(cause: unknown) {
    super("COMMIT failed", { cause });
  }
}

/** pool.query with faults thrown as StoreUnavailableError (pool.query itself listens for errors and discards). */
export async function poolQuery<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  operation: StoreOperation,
  query: pg.QueryConfig,
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(query);
  } catch (error) {
    throw asStoreError(error, operation);
  }
}

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

function destroySocket(client: pg.PoolClient): void {
  // node-postgres has no public way to abandon a connection; pg-pool's own connect timeout does the same.
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  try {
    stream?.destroy();
  } catch {
    // already gone
  }
}
