// The whole service in one process: the store, the HTTP API, one follower per node, the delivery loop and the
// pruning of old seen digests.
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { storageLocation, type NotifyConfig } from "./config.js";
import { Deliverer } from "./delivery/deliverer.js";
import { createTargetSender, type Sender } from "./delivery/sender.js";
import { NodeFollower } from "./follower.js";
import { createApiHandler } from "./http/api.js";
import { silentLogger, type Logger } from "./log.js";
import { NotifyMetrics } from "./metrics.js";
import type { NotifyStore } from "./store/NotifyStore.js";
import { openPostgresNotifyStore, redactPostgresUrl } from "./store/postgres.js";
import { SqliteNotifyStore } from "./store/sqlite.js";
import { loadVapidKeys } from "./webpush/vapidKeyStore.js";
import { VapidSigner } from "./webpush/vapid.js";

/** Seen digests are kept at least this long after they were first seen, whatever their timestamp. */
export const SEEN_RETENTION_MS = 24 * 3_600_000;
/** Delivered deliveries (without their message bytes) are kept this long. */
export const DELIVERED_RETENTION_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

export interface NotifyComponents {
  logger?: Logger;
  now?: () => number;
  random?: () => number;
  sender?: Sender;
  store?: NotifyStore;
}

export interface RunningNotifyService {
  url: string;
  port: number;
  store: NotifyStore;
  metrics: NotifyMetrics;
  followers: NodeFollower[];
  deliverer: Deliverer;
  /** Where the store lives, for logs (a PostgreSQL URL without its password). */
  storage: string;
  close(): Promise<void>;
}

export async function openNotifyStore(config: NotifyConfig): Promise<{ store: NotifyStore; storage: string }> {
  const location = storageLocation(config);
  if (location.kind === "postgres") return { store: await openPostgresNotifyStore(location.url), storage: redactPostgresUrl(location.url) };
  mkdirSync(config.dataDir, { recursive: true });
  return { store: new SqliteNotifyStore(location.path), storage: location.path };
}

export async function startNotifyService(config: NotifyConfig, components: NotifyComponents = {}): Promise<RunningNotifyService> {
  const logger = components.logger ?? silentLogger;
  const now = components.now ?? Date.now;
  const opened = components.store ? { store: components.store, storage: components.store.kind } : await openNotifyStore(config);
  const { store, storage } = opened;
  const metrics = new NotifyMetrics();
  let vapid: VapidSigner;
  try {
    vapid = new VapidSigner(await loadVapidKeys(store), config.vapidSubject, now);
  } catch (error) {
    await store.close();
    throw error;
  }
  const deliverer = new Deliverer({
    store,
    metrics,
    logger,
    retry: config.retry,
    timeoutMs: config.deliveryTimeoutMs,
    concurrency: config.deliveryConcurrency,
    now,
    random: components.random,
    sender: components.sender ?? createTargetSender({ webPush: { vapid, ttlSeconds: config.pushTtlSeconds } }),
  });
  const followers = config.nodes.map(
    (node) =>
      new NodeFollower(node, {
        store,
        metrics,
        logger,
        onEnqueued: () => deliverer.wake(),
        catchUpLookbackMs: config.catchUpLookbackMs,
        streamIdleTimeoutMs: config.streamIdleTimeoutMs,
        reconnectMaxDelayMs: config.reconnectMaxDelayMs,
        now,
      }),
  );

  const server: Server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    createApiHandler({ store, metrics, logger, maxTopicsPerInstallation: config.maxTopicsPerInstallation, maxBodyBytes: config.maxBodyBytes, now, nodes: () => followers.map((f) => ({ url: f.nodeUrl, live: f.live })), vapidPublicKey: Buffer.from(vapid.keys.publicKey).toString("base64url") }),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const prune = async () => {
    const delivered = await store.pruneDelivered(now() - DELIVERED_RETENTION_MS);
    if (delivered > 0) logger.info("pruned delivered deliveries", { removed: delivered });
    const cursors = await store.cursors();
    const followed = config.nodes.map((node) => cursors.get(node)?.timestampNs).filter((t): t is bigint => t !== undefined);
    if (followed.length < config.nodes.length || followed.length === 0) return;
    const oldest = followed.reduce((a, b) => (a < b ? a : b));
    // Anything a catch-up can still return is at or after oldest − lookback; keep an hour more for good measure.
    const marginNs = BigInt(config.catchUpLookbackMs + 3_600_000) * 1_000_000n;
    const before = oldest > marginNs ? oldest - marginNs : 0n;
    const removed = await store.pruneSeen(before, now() - SEEN_RETENTION_MS);
    if (removed > 0) logger.info("pruned seen digests", { removed });
  };
  const pruneTimer = setInterval(() => prune().catch((error: unknown) => logger.warn("pruning seen digests failed", { error })), PRUNE_EVERY_MS);
  pruneTimer.unref();

  deliverer.start();
  for (const follower of followers) follower.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    metrics,
    followers,
    deliverer,
    storage,
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all(followers.map((f) => f.stop()));
        await deliverer.stop(config.shutdownGraceMs);
        server.closeAllConnections();
        await serverClosed;
        await store.close();
      })();
      return closing;
    },
  };
}
