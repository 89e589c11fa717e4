// GET /metrics (Prometheus text), /healthz (the process answers) and /readyz (the store answers a query in time and
// is not known to be failing writes).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import type { NodeMetrics } from "./nodeMetrics.js";
import { PROMETHEUS_CONTENT_TYPE } from "./registry.js";

export const OPS_PATHS = ["/metrics", "/healthz", "/readyz"] as const;

// Not a valid /xmtp/0/ topic, so no client can ever publish to it; the probe only proves the store answers.
const READINESS_PROBE_TOPIC = "/xmtp-ts/readiness-probe";

export interface OpsRoutesOptions {
  metrics?: NodeMetrics;
  store: EnvelopeStore;
  /** Default 2000 ms. */
  readinessTimeoutMs?: number;
  /** True while shutting down, so load balancers stop sending new requests. */
  isDraining?: () => boolean;
  /** Why the store cannot write now (a full disk, a lost database), if it cannot: the node is then not ready. */
  writeFault?: () => string | undefined;
}

export type OpsResponse = { status: number; contentType: string; body: string };

export async function checkReadiness(options: OpsRoutesOptions): Promise<{ ready: boolean; reason?: string }> {
  if (options.isDraining?.()) return { ready: false, reason: "node is shutting down" };
  const writeFault = options.writeFault?.();
  if (writeFault !== undefined) return { ready: false, reason: `store cannot write: ${writeFault}` };
  const timeoutMs = options.readinessTimeoutMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      options.store.query({ topic: READINESS_PROBE_TOPIC, limit: 1, direction: "descending" }),
      timeout,
    ]);
    return { ready: true };
  } catch (err) {
    return { ready: false, reason: `store unreachable: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The answer for an ops path, or undefined when the path is not one of them. */
export async function answerOpsRequest(
  method: string,
  path: string,
  options: OpsRoutesOptions,
): Promise<OpsResponse | undefined> {
  if (!(OPS_PATHS as readonly string[]).includes(path)) return undefined;
  if (method !== "GET" && method !== "HEAD") {
    return json(405, { status: "error", message: `${path} answers GET and HEAD, not ${method}` });
  }
  switch (path) {
    case "/healthz":
      return json(200, { status: "ok" });
    case "/readyz": {
      const readiness = await checkReadiness(options);
      return readiness.ready ? json(200, { status: "ready" }) : json(503, { status: "unavailable", reason: readiness.reason });
    }
    default:
      if (!options.metrics) return json(404, { status: "error", message: "metrics are disabled on this node" });
      return { status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: options.metrics.render() };
  }
}

export async function serveOpsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  options: OpsRoutesOptions,
): Promise<boolean> {
  const answer = await answerOpsRequest(req.method ?? "GET", path, options);
  if (!answer) return false;
  res.writeHead(answer.status, {
    "Content-Type": answer.contentType,
    "Cache-Control": "no-store",
    ...(answer.status === 405 ? { Allow: "GET, HEAD" } : {}),
  });
  res.end(req.method === "HEAD" ? undefined : answer.body);
  return true;
}

function json(status: number, body: unknown): OpsResponse {
  return { status, contentType: "application/json", body: JSON.stringify(body) };
}
