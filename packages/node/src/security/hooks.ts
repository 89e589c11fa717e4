// The security layer and metrics as ApiHooks on the message API's request path:
//   publish: validate (abuse limits, failed-token limit) → authenticate → ownership → access control → rate limit
//            → store
//   query / batch-query: topic limit → read-bytes debt → read rate limit → store → charge the bytes returned
//   subscribe: topic limit → rate limit → streams per client
// plus the extra routes /metrics, /healthz, /readyz and /admin/v1/…, and per-request metrics.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiHooks } from "../http/api.js";
import { readBody } from "../http/body.js";
import { NodeMetrics } from "../metrics/nodeMetrics.js";
import { serveOpsRequest } from "../metrics/opsRoutes.js";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import { answerAdminRequest, isAdminPath } from "./adminApi.js";
import type { AccessControl } from "./accessControl.js";
import { clientAddressOf } from "./clientAddress.js";
import type { SecurityGuard } from "./guard.js";

/** Admin requests are tiny JSON objects; anything bigger is refused unread. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export interface SecurityHooksOptions {
  guard: SecurityGuard;
  accessControl: AccessControl | undefined;
  metrics: NodeMetrics;
  store: EnvelopeStore;
  /** True once the node is shutting down (readiness turns 503). */
  isDraining?: () => boolean;
  /** Why the store cannot write now, if it cannot (readiness turns 503). */
  writeFault?: () => string | undefined;
}

export function createSecurityHooks(options: SecurityHooksOptions): ApiHooks {
  const { guard, metrics } = options;
  const trustProxy = guard.config.trustProxy;
  const clientOf = (req: IncomingMessage) => clientAddressOf(req, trustProxy);

  return {
    async handleOther(req: IncomingMessage, res: ServerResponse, path: string) {
      if (isAdminPath(path)) {
        const answer = await answerAdminRequest(
          {
            method: req.method ?? "GET",
            path,
            authorization: req.headers.authorization,
            body: await readBody(req, MAX_ADMIN_BODY_BYTES),
          },
          { adminToken: guard.config.adminToken, accessControl: options.accessControl },
        );
        const body = JSON.stringify(answer.body);
        res.writeHead(answer.status, {
          "content-type": "application/json",
          "cache-control": "no-store",
          "content-length": Buffer.byteLength(body),
        });
        res.end(body);
        return true;
      }
      return serveOpsRequest(req, res, path, {
        metrics,
        store: options.store,
        isDraining: options.isDraining,
        writeFault: options.writeFault,
      });
    },

    validatePublish(envelopes, req) {
      guard.checkPublishSize(envelopes.length);
      guard.checkAuthFailures(clientOf(req));
    },

    authorizePublish(caller, envelopes) {
      guard.authorizePublish(
        caller.walletAddress,
        envelopes.map((e) => e.contentTopic),
      );
      guard.limitPublish(caller.walletAddress, envelopes.length);
      metrics.envelopesPublished.inc(undefined, envelopes.length);
    },

    beforeRead(queries, req) {
      guard.checkQueryTopics(queries.length);
      const client = clientOf(req);
      // An address in debt for bytes is refused before any topic token is taken.
      guard.checkReadBytes(client);
      guard.limitRead(client, queries.length);
    },

    afterRead(messageBytes, req) {
      guard.chargeReadBytes(clientOf(req), messageBytes);
    },

    beforeSubscribe(topics, req) {
      if (topics !== "all") guard.checkSubscriptionTopics(topics.length);
      const client = clientOf(req);
      guard.limitSubscribe(client);
      return guard.openStream(client);
    },

    onStreamCutOff() {
      metrics.streamsCut.inc({ reason: "slow_reader" });
    },

    onResponse({ path, status, durationMs, req }) {
      const endpoint = NodeMetrics.endpointOf(path);
      if (status === 401 && endpoint === "publish") guard.recordAuthFailure(clientOf(req));
      metrics.requests.inc({ endpoint, code: status });
      metrics.requestDuration.observe(durationMs / 1000, { endpoint });
    },
  };
}

/** Both sets of hooks: checks run `first` then `second`; a route is answered by the first that answers it. */
export function combineHooks(first: ApiHooks, second: ApiHooks | undefined): ApiHooks {
  if (!second) return first;
  return {
    async handleOther(req, res, path) {
      return ((await first.handleOther?.(req, res, path)) ?? false) || ((await second.handleOther?.(req, res, path)) ?? false);
    },
    validatePublish(envelopes, req) {
      first.validatePublish?.(envelopes, req);
      second.validatePublish?.(envelopes, req);
    },
    async authorizePublish(caller, envelopes, req) {
      await first.authorizePublish?.(caller, envelopes, req);
      await second.authorizePublish?.(caller, envelopes, req);
    },
    async beforeRead(queries, req) {
      await first.beforeRead?.(queries, req);
      await second.beforeRead?.(queries, req);
    },
    afterRead(messageBytes, req) {
      first.afterRead?.(messageBytes, req);
      second.afterRead?.(messageBytes, req);
    },
    async beforeSubscribe(topics, req) {
      const releaseFirst = (await first.beforeSubscribe?.(topics, req)) ?? undefined;
      let releaseSecond;
      try {
        releaseSecond = (await second.beforeSubscribe?.(topics, req)) ?? undefined;
      } catch (error) {
        releaseFirst?.();
        throw error;
      }
      if (!releaseFirst && !releaseSecond) return undefined;
      return () => {
        releaseFirst?.();
        releaseSecond?.();
      };
    },
    onStreamCutOff() {
      first.onStreamCutOff?.();
      second.onStreamCutOff?.();
    },
    onResponse(info) {
      first.onResponse?.(info);
      second.onResponse?.(info);
    },
  };
}
