// Assembles a node from its configuration and (optionally injected) components, and runs its HTTP API.
// Tests start nodes in-process with this; main.ts wraps it in a process with signals and logs.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Authenticator, systemClock, type Clock } from "./auth.js";
import type { NodeConfig } from "./config.js";
import { SubscriptionHub } from "./hub.js";
import { EnvelopeIngest } from "./ingest.js";
import { describeRetentionPolicy, isExpired, isKeepForever } from "./retention/retentionPolicy.js";
import { RetentionPruner } from "./retention/retentionPruner.js";
import { createJsonLogger, type Logger } from "./log.js";
import { MessageApiServer, type ApiHooks } from "./http/api.js";
import { BodyBudget } from "./http/bodyBudget.js";
import { CONNECTION_CHECK_INTERVAL_MS, ConnectionLimits } from "./http/connectionLimits.js";
import { clientAddressOf, limitKeyOfAddress } from "./security/clientAddress.js";
import { isSharedEnvelopeStore, type CommitFollower, type EnvelopeStore, type WakuEnvelopeStore } from "./store/EnvelopeStore.js";
import { openSqliteStore } from "./store/sqlite.js";
import type { Network } from "./network.js";
import { NodeMetrics, instrumentStore } from "./metrics/nodeMetrics.js";
import { StoreHealth } from "./store/storeHealth.js";
import { wakuHasherFor } from "./waku/messageHash.js";
import { combineHooks, createSecurityHooks } from "./security/hooks.js";
import { startSecurityLayer, type SecurityLayer } from "./security/layer.js";
import { startPostage, type PostageService } from "./postage/postageService.js";
import { peerAdmission } from "./postage/peerAdmission.js";
import type { PostageLedger } from "./store/postageLedger.js";

export interface NodeComponents {
  /** Storage; by default opened from `config.storage`. The node closes it on close(). */
  store: EnvelopeStore;
  clock: Clock;
  logger: Logger;
  hub: SubscriptionHub;
  authenticator: Authenticator;
  /** Request-path extension points, run after the security layer's own. */
  hooks: ApiHooks;
  metrics: NodeMetrics;
}

export interface RunningNode {
  /** Base URL for clients (`apiUrl`), e.g. http://127.0.0.1:5555. A 0.0.0.0/:: bind is reported as 127.0.0.1. */
  url: string;
  /** The address actually bound. */
  host: string;
  port: number;
  config: NodeConfig;
  store: EnvelopeStore;
  hub: SubscriptionHub;
  ingest: EnvelopeIngest;
  authenticator: Authenticator;
  logger: Logger;
  server: Server;
  api: MessageApiServer;
  /** Prometheus metrics served at /metrics; components can add series or feed gauges (e.g. relayPeers.collect). */
  metrics: NodeMetrics;
  /** Access control (allow/deny lists), rate limits and abuse limits. */
  security: SecurityLayer;
  /** Postage (docs/postage.md); absent when an injected store keeps no postage ledger. */
  postage?: PostageService;
  /** The libp2p relay and catch-up sync; absent unless config.p2p.port is set. */
  network?: Network;
  /** Applies config.retention (docs/storage.md); absent when everything is kept forever. */
  pruner?: RetentionPruner;
  /**
   * Registers work for close(): run after HTTP has stopped and before the store closes (e.g. stop a relay
   * that feeds the ingest). Runs in reverse order of registration.
   */
  onClose(task: () => void | Promise<void>): void;
  /**
   * Graceful stop: refuse new connections, end streams, let in-flight requests finish (cut after
   * config.http.shutdownGraceMs), then close the store. Safe to call twice.
   */
  close(): Promise<void>;
}

export async function openConfiguredStore(config: NodeConfig): Promise<EnvelopeStore> {
  const wakuHasher = wakuHasherFor(config);
  if (config.storage.kind === "sqlite") {
    return openSqliteStore(config.storage.path, { synchronous: config.storage.synchronous, wakuHasher });
  }
  // Loaded on demand so a SQLite node never loads the PostgreSQL driver.
  const { openPostgresStore } = await import("./store/postgres.js");
  return openPostgresStore(config.storage.url, {
    connectTimeoutMs: config.database.connectTimeoutMs,
    queryTimeoutMs: config.database.queryTimeoutMs,
    maxConnections: config.database.poolSize,
    wakuHasher,
  });
}

export async function startNode(config: NodeConfig, components: Partial<NodeComponents> = {}): Promise<RunningNode> {
  const logger = components.logger ?? createJsonLogger({ level: config.logLevel });
  const clock = components.clock ?? systemClock;
  const metrics = components.metrics ?? new NodeMetrics();
  const openedStore = components.store ?? (await openConfiguredStore(config));
  const storeHealth = new StoreHealth(openedStore, { logger });
  const store = instrumentStore(storeHealth.observe(openedStore), metrics);
  let security: SecurityLayer;
  try {
    security = await startSecurityLayer({
      config: config.security,
      storage: config.storage,
      database: config.database,
      metrics,
      logger,
    });
  } catch (error) {
    if (!components.store) await store.close();
    throw error;
  }
  // Postage lives in the store's database (proofs, relationships, vouchers); an injected store may have none.
  const ledger = (openedStore as { postage?: PostageLedger }).postage;
  let postage: PostageService | undefined;
  try {
    if (ledger) postage = await startPostage(config.postage, ledger, { logger, metrics });
    else if (config.postage.mode === "required") throw new Error("postage: this store keeps no postage ledger");
  } catch (error) {
    await security.close();
    if (!components.store) await store.close();
    throw error;
  }
  let draining = false;
  const hub = components.hub ?? new SubscriptionHub(logger);
  const authenticator = components.authenticator ?? new Authenticator({ clock });
  // Several processes may serve a shared store: its follower, not this process's publishes, feeds the subscribers.
  const sharedStore = isSharedEnvelopeStore(openedStore) ? openedStore : undefined;
  let follower: CommitFollower | undefined;
  if (sharedStore) {
    try {
      follower = await sharedStore.follow((envelopes) => hub.publish(envelopes), { logger: logger.child({ component: "follower" }) });
    } catch (error) {
      await postage?.stop();
      await security.close();
      if (!components.store) await store.close();
      throw error;
    }
  }
  const retentionPolicy = config.retention.policy;
  // Kept forever (the default): envelopes from peers are not classed one by one for nothing.
  const ingest = new EnvelopeIngest(
    store,
    hub,
    logger,
    sharedStore,
    isKeepForever(retentionPolicy)
      ? undefined
      : {
          expiredClassOf: (envelope) => isExpired(retentionPolicy, envelope.contentTopic, envelope.timestampNs, clock.nowNs()),
          onExpired: (topicClass) => metrics.retentionRefused.inc({ class: topicClass }),
        },
  );
  const api = new MessageApiServer({
    store,
    postage: postage?.gate,
    hub,
    commitsCaughtUp: follower ? follower.caughtUp.bind(follower) : undefined,
    ingest,
    authenticator,
    logger,
    maxBodyBytes: config.http.maxBodyBytes,
    bodyBudget: {
      budget: new BodyBudget(
        { perClientBytes: config.http.maxBodyBufferBytesPerIp, totalBytes: config.http.maxBodyBufferBytes },
        (limit) => metrics.abuseLimitRejections.inc({ limit }),
      ),
      clientKeyOf: (req) => limitKeyOfAddress(clientAddressOf(req, config.security.trustProxy)),
    },
    streamKeepAliveMs: config.http.streamKeepAliveMs,
    maxStreamBufferBytes: config.http.maxStreamBufferBytes,
    maxPageBytes: config.http.maxPageBytes,
    maxBatchBytes: config.http.maxBatchBytes,
    hooks: combineHooks(
      createSecurityHooks({
        guard: security.guard,
        accessControl: security.accessControl,
        metrics,
        store,
        isDraining: () => draining,
        writeFault: () => storeHealth.writeFault,
      }),
      combineHooks(postage ? { handleOther: postage.handleQuote } : {}, components.hooks),
    ),
  });
  metrics.activeStreams.collect(() => api.activeStreams);

  // Streams live indefinitely once their request is in; only receiving a request is under deadlines.
  const connectionLimits = new ConnectionLimits({
    maxConnectionsPerIp: config.http.maxConnectionsPerIp,
    idleConnectionTimeoutMs: config.http.idleConnectionTimeoutMs,
    headerTimeoutMs: config.http.headerTimeoutMs,
    bodyTimeoutMs: config.http.bodyTimeoutMs,
    trustProxy: config.security.trustProxy,
    logger,
    onRefused: (limit) => metrics.abuseLimitRejections.inc({ limit }),
  });
  const server = createServer(
    { keepAliveTimeout: 65_000, connectionsCheckingInterval: CONNECTION_CHECK_INTERVAL_MS },
    connectionLimits.guard(api.handle),
  );
  connectionLimits.attach(server);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await follower?.close();
    await postage?.stop();
    await security.close();
    if (!components.store) await store.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const urlHost = isWildcard(address.address) ? "127.0.0.1" : address.address;
  const url = `http://${urlHost.includes(":") ? `[${urlHost}]` : urlHost}:${address.port}`;

  // libp2p is imported only when the relay is on, so a node without --p2p-port never loads it.
  let network: Network | undefined;
  const gate = postage?.gate;
  if (config.p2p.port !== undefined) {
    try {
      const { startNetwork } = await import("./network.js");
      network = await startNetwork({
        dataDir: config.dataDir,
        listenHost: config.p2p.host,
        listenPort: config.p2p.port,
        peers: config.p2p.peers,
        store,
        ingest,
        durabilityBarrier: () => store.flushCommitted(),
        logger: logger.child({ component: "p2p" }),
        syncIntervalMs: config.p2p.syncIntervalMs,
        wsPort: config.p2p.wsPort,
        waku: {
          sharding: { clusterId: config.p2p.wakuClusterId, shardCount: config.p2p.wakuShardCount },
          localIngest: ingest,
          hub,
          store: store as Partial<WakuEnvelopeStore>,
          maxPageBytes: config.http.maxPageBytes,
          accessMode: () => config.security.accessMode,
          rateLimits: config.security.rateLimits,
          admit: gate && (async (envelope) => (await gate.admit([envelope], { door: { kind: "untrusted" }, accepting: true })).envelopes[0]),
        },
        postage: gate && ledger && { admit: peerAdmission(gate), proofs: ledger },
      });
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await follower?.close();
      await postage?.stop();
      await security.close();
      if (!components.store) await store.close();
      throw error;
    }
    ingest.addRelay(network);
    const connectedPeers = network.libp2p;
    metrics.relayPeers.collect(() => connectedPeers.getPeers().length);
  }

  // Started last: nothing above can fail after it. Every instance over a shared store prunes; deleting what another
  // already deleted is harmless.
  let pruner: RetentionPruner | undefined;
  if (!isKeepForever(retentionPolicy)) {
    pruner = new RetentionPruner({
      store,
      policy: retentionPolicy,
      clock,
      intervalMs: config.retention.pruneIntervalMs,
      batchSize: config.retention.pruneBatch,
      logger: logger.child({ component: "retention" }),
      onPruned: (topicClass, result) => {
        metrics.retentionPrunedEnvelopes.inc({ class: topicClass }, result.envelopes);
        metrics.retentionPrunedBytes.inc({ class: topicClass }, result.messageBytes);
      },
    });
    logger.info("retention policy", { retention: describeRetentionPolicy(retentionPolicy) });
    pruner.start();
  }

  const closeTasks: Array<() => void | Promise<void>> = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      // Still serving, but not ready: a load balancer's health check moves traffic away before we stop listening.
      if (config.http.drainDelayMs > 0) {
        logger.info("draining before shutdown", { drainDelayMs: config.http.drainDelayMs });
        await new Promise((resolve) => setTimeout(resolve, config.http.drainDelayMs));
      }
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const grace = setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs);
      await api.shutdown();
      // Every request has been answered and every stream ended; what is left are idle keep-alive connections,
      // including ones a client opened without sending a request yet, which closeIdleConnections() skips.
      server.closeAllConnections();
      await stopped;
      clearTimeout(grace);
      for (const task of closeTasks.reverse()) {
        try {
          await task();
        } catch (error) {
          logger.error("close task failed", { error });
        }
      }
      // After HTTP and before the store: nothing may ingest from peers into a closed store. Each step is tried even
      // when an earlier one failed (a full disk, a lost database): shutdown does what it can and reports the rest.
      storeHealth.stop();
      const step = async (name: string, run: () => Promise<void> | undefined) => {
        try {
          await run();
        } catch (error) {
          logger.error(`shutdown: ${name} failed`, { error });
        }
      };
      await step("stopping the retention pruner", () => pruner?.close());
      await step("stopping the relay", () => network?.stop());
      await step("stopping the commit follower", () => follower?.close());
      await step("stopping postage", () => postage?.stop());
      await step("closing the security layer", () => security.close());
      await step("closing the store", () => store.close());
    })());

  return {
    url,
    host: address.address,
    port: address.port,
    config,
    store,
    hub,
    ingest,
    authenticator,
    logger,
    server,
    api,
    metrics,
    security,
    network,
    postage,
    pruner,
    onClose: (task) => void closeTasks.push(task),
    close,
  };
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::" || address === "::0";
}
