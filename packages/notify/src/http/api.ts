// The service's HTTP API (packages/notify/README.md "HTTP API"): installations, their topics and dead letters,
// /metrics and /healthz. Errors are {"error":{"code","message","field"?}} with a fitting status.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { envelopeToJson } from "../envelope.js";
import type { Logger } from "../log.js";
import type { NotifyMetrics } from "../metrics.js";
import { TopicLimitError, type DeliveryTarget, type Installation, type NotifyStore } from "../store/NotifyStore.js";
import { InputError, parseTarget } from "../targets.js";

export const MAX_TOPIC_BYTES = 300;
export const TOPIC_PREFIX = "/xmtp/0/";
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
/** Dead letters listed by GET /v1/installations/:id (the count is always complete). */
export const DEAD_LETTERS_LISTED = 100;

export interface ApiDeps {
  store: NotifyStore;
  metrics: NotifyMetrics;
  logger: Logger;
  maxTopicsPerInstallation: number;
  maxBodyBytes: number;
  now: () => number;
  /** Each followed node and whether its stream is open and caught up. */
  nodes?: () => { url: string; live: boolean }[];
  /** The VAPID public key (base64url, uncompressed P-256) browsers subscribe with. */
  vapidPublicKey?: string;
}

/**
 * Browsers may call the API from any origin (a web app registers its own Web Push subscription). Access is by bearer
 * key, never by cookie, so allowing every origin lends no ambient authority to a foreign page.
 */
const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-max-age": "600",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** sha256 of an access key, hex: what the store keeps. */
export function hashAccessKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

function send(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const headers = { ...CORS_HEADERS, ...extraHeaders };
  if (status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  const tooLarge = () =>
    new HttpError(413, "body_too_large", `request body exceeds ${maxBytes} bytes`, undefined, { connection: "close" });
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = await new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop reading; the answer says why and closes the connection (the rest of the body is never read).
        req.off("data", onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      received.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(received));
    req.once("error", reject);
  });
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, "invalid_json", "request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function parseTopics(value: unknown, field: string, maxCount: number): string[] {
  if (!Array.isArray(value)) throw new InputError(field, "must be an array of topic strings");
  if (value.length > maxCount) throw new InputError(field, `at most ${maxCount} topics per installation`);
  return value.map((topic, i) => {
    if (typeof topic !== "string") throw new InputError(`${field}[${i}]`, "must be a string");
    const bytes = Buffer.byteLength(topic, "utf8");
    if (bytes < 1 || bytes > MAX_TOPIC_BYTES) throw new InputError(`${field}[${i}]`, `must be 1 to ${MAX_TOPIC_BYTES} bytes`);
    if (!topic.startsWith(TOPIC_PREFIX)) {
      throw new InputError(`${field}[${i}]`, `must start with ${TOPIC_PREFIX} (the only topics a node's subscribe-all stream carries)`);
    }
    return topic;
  });
}

function parseSecret(value: unknown, target: DeliveryTarget): string {
  if (target.kind === "webpush") {
    // Nothing to sign with it: a push message is encrypted to the subscription's own keys (RFC 8291).
    if (value !== undefined) throw new InputError("secret", "is not used by webpush targets; leave it out");
    return "";
  }
  if (typeof value !== "string") throw new InputError("secret", "must be a string");
  if (value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
    throw new InputError("secret", `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`);
  }
  return value;
}

function rejectUnknownFields(body: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new InputError(key, `unknown field (expected ${allowed.join(", ")})`);
  }
}

const ROUTE = /^\/v1\/installations\/([^/]+)(\/subscribe|\/unsubscribe|\/dead-letters)?$/;

export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { store } = deps;

  /** The installation named in the path, if the request carries its access key. */
  async function authorize(req: IncomingMessage, id: string): Promise<Installation> {
    const header = req.headers.authorization;
    if (!header) throw new HttpError(401, "unauthenticated", "missing Authorization: Bearer <access key>", undefined, { "www-authenticate": "Bearer" });
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    if (!match) throw new HttpError(401, "unauthenticated", "Authorization must be Bearer <access key>", undefined, { "www-authenticate": "Bearer" });
    const installation = await store.getInstallation(id);
    if (!installation) throw new HttpError(404, "not_found", `no installation ${id}`);
    const given = Buffer.from(hashAccessKey(match[1]), "hex");
    const expected = Buffer.from(installation.accessKeyHash, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(403, "forbidden", "this access key does not belong to the installation");
    }
    return installation;
  }

  async function describe(installation: Installation) {
    const [topics, counts, dead] = await Promise.all([
      store.topicsOf(installation.id),
      store.deliveryCounts(installation.id),
      store.deadLetters(installation.id, DEAD_LETTERS_LISTED),
    ]);
    return {
      id: installation.id,
      target: installation.target,
      topics,
      createdAt: new Date(installation.createdAtMs).toISOString(),
      deliveries: counts,
      deadLetters: dead.map((d) => ({
        digest: d.envelope.digest,
        envelope: envelopeToJson(d.envelope),
        attempts: d.attempts,
        lastError: d.lastError,
        deadAt: new Date(d.updatedAtMs).toISOString(),
      })),
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    if (method === "OPTIONS") return send(res, 204, undefined);
    if (path === "/v1/webpush/vapid-public-key") {
      if (method !== "GET") throw new HttpError(405, "method_not_allowed", `use GET ${path}`, undefined, { allow: "GET" });
      if (!deps.vapidPublicKey) throw new HttpError(404, "not_found", "this service has no VAPID key");
      return send(res, 200, { publicKey: deps.vapidPublicKey });
    }
    if (path === "/healthz" && method === "GET") return send(res, 200, { ok: true, nodes: deps.nodes?.() ?? [] });
    if (path === "/metrics" && method === "GET") {
      const text = await deps.metrics.render(store);
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "content-length": String(Buffer.byteLength(text)) });
      res.end(text);
      return;
    }
    if (path === "/v1/installations") {
      if (method !== "POST") throw new HttpError(405, "method_not_allowed", "use POST /v1/installations", undefined, { allow: "POST" });
      const body = await readJson(req, deps.maxBodyBytes);
      rejectUnknownFields(body, ["target", "secret", "topics"]);
      const target = parseTarget(body.target);
      const secret = parseSecret(body.secret, target);
      const topics = body.topics === undefined ? [] : parseTopics(body.topics, "topics", deps.maxTopicsPerInstallation);
      const id = randomBytes(16).toString("hex");
      const accessKey = randomBytes(32).toString("base64url");
      await store.createInstallation({ id, target, secret, accessKeyHash: hashAccessKey(accessKey), createdAtMs: deps.now() });
      if (topics.length > 0) await store.subscribe(id, topics, deps.maxTopicsPerInstallation);
      deps.logger.info("installation registered", { installation: id, targetKind: target.kind, topics: topics.length });
      return send(res, 201, { id, accessKey, topics: [...new Set(topics)].sort() });
    }
    const match = ROUTE.exec(path);
    if (!match) throw new HttpError(404, "not_found", `no route ${method} ${path}`);
    const id = decodeURIComponent(match[1]);
    const action = match[2];
    if (action === "/subscribe" || action === "/unsubscribe") {
      if (method !== "POST") throw new HttpError(405, "method_not_allowed", `use POST ${path}`, undefined, { allow: "POST" });
      const installation = await authorize(req, id);
      const body = await readJson(req, deps.maxBodyBytes);
      rejectUnknownFields(body, ["topics"]);
      const topics = parseTopics(body.topics, "topics", deps.maxTopicsPerInstallation);
      const result =
        action === "/subscribe"
          ? await store.subscribe(installation.id, topics, deps.maxTopicsPerInstallation)
          : await store.unsubscribe(installation.id, topics);
      return send(res, 200, result);
    }
    if (action === "/dead-letters") {
      if (method !== "DELETE") throw new HttpError(405, "method_not_allowed", `use DELETE ${path}`, undefined, { allow: "DELETE" });
      const installation = await authorize(req, id);
      return send(res, 200, { removed: await store.clearDeadLetters(installation.id) });
    }
    if (method === "GET") return send(res, 200, await describe(await authorize(req, id)));
    if (method === "DELETE") {
      const installation = await authorize(req, id);
      await store.deleteInstallation(installation.id);
      deps.logger.info("installation deleted", { installation: installation.id });
      return send(res, 204, undefined);
    }
    throw new HttpError(405, "method_not_allowed", `use GET or DELETE ${path}`, undefined, { allow: "GET, DELETE" });
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      let failure: HttpError;
      if (error instanceof HttpError) failure = error;
      else if (error instanceof InputError) failure = new HttpError(400, "invalid_argument", error.message, error.field);
      else if (error instanceof TopicLimitError) failure = new HttpError(400, "too_many_topics", `topics: ${error.message}`, "topics");
      else {
        deps.logger.error("request failed", { error, path: req.url });
        failure = new HttpError(500, "internal", "internal error");
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(
        res,
        failure.status,
        { error: { code: failure.code, message: failure.message, ...(failure.field ? { field: failure.field } : {}) } },
        failure.headers,
      );
    });
  };
}
