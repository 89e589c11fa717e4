// The message API over plain node:http: routing, CORS, JSON bodies and errors, and the two stream routes.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { gzip as gzipCallback, constants as zlibConstants } from "node:zlib";
import { promisify } from "node:util";
import { ApiError, GrpcCode } from "../errors.js";
import type { Logger } from "../log.js";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import type { SubscriptionHub } from "../hub.js";
import type { EnvelopeIngest } from "../ingest.js";
import { authorizeTopic, type AuthenticatedCaller, type Authenticator } from "../auth.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import { readBody } from "./body.js";
import {
  decodeBatchQueryRequest,
  decodePublishRequest,
  decodeQueryRequest,
  decodeSubscribeRequest,
  encodeBatchQueryResponse,
  encodeError,
  encodeQueryResponse,
  parseJsonBody,
  type ParsedQuery,
} from "./codec.js";
import { EnvelopeStream } from "./stream.js";

const gzip = promisify(gzipCallback);
/** Smaller responses go out uncompressed: gzip costs more CPU than it saves on loopback-sized pages. */
const GZIP_MIN_BYTES = 16 * 1024;

const CORS_PREFLIGHT_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET,HEAD,POST,PUT,PATCH,DELETE",
  "access-control-allow-headers":
    "Content-Type, Accept, Authorization, X-Client-Version, X-App-Version, Baggage, DNT, Sec-CH-UA, " +
    "Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sentry-Trace, User-Agent",
  "access-control-max-age": "86400",
};

export const API_PATHS = {
  publish: "/message/v1/publish",
  query: "/message/v1/query",
  batchQuery: "/message/v1/batch-query",
  subscribe: "/message/v1/subscribe",
  subscribeAll: "/message/v1/subscribe-all",
} as const;

const KNOWN_PATHS: ReadonlySet<string> = new Set(Object.values(API_PATHS));

/**
 * Extension points for layers that sit on the request path (access control, rate limits, metrics, extra routes).
 * Each check throws an ApiError to refuse the request; all are optional.
 */
export interface ApiHooks {
  /** Routes outside the message API (e.g. /metrics, /admin/...). Return true when the request was answered. */
  handleOther?(req: IncomingMessage, res: ServerResponse, path: string): boolean | Promise<boolean>;
  /** Publish, after decoding and validation, before authentication. */
  validatePublish?(envelopes: readonly Envelope[], req: IncomingMessage): void;
  /** Publish, after authentication and the topic ownership rule, right before storage. */
  authorizePublish?(caller: AuthenticatedCaller, envelopes: readonly Envelope[], req: IncomingMessage): void | Promise<void>;
  /** query and batch-query, after decoding, before the store is read. */
  beforeRead?(queries: readonly ParsedQuery[], req: IncomingMessage): void | Promise<void>;
  /** subscribe and subscribe-all, after decoding; may return a release function, called when the stream closes. */
  beforeSubscribe?(topics: readonly string[] | "all", req: IncomingMessage): void | (() => void) | Promise<void | (() => void)>;
  /** Every answered message-API request (not streams' later life): path, HTTP status, gRPC code when refused. */
  onResponse?(info: { path: string; status: number; code?: number; durationMs: number; req: IncomingMessage }): void;
  /** A stream was ended because its reader fell too far behind. */
  onStreamCutOff?(): void;
}

/** A client-chosen X-Request-Id is kept if it is short and plain; otherwise the node makes one. */
const REQUEST_ID_RE = /^[\w.:-]{8,128}$/;

export interface ApiDependencies {
  store: EnvelopeStore;
  hub: SubscriptionHub;
  ingest: EnvelopeIngest;
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
  streamKeepAliveMs: number;
  maxStreamBufferBytes: number;
  hooks?: ApiHooks;
}

/** The path without query string, with the doubled leading slash of an `apiUrl` ending in "/" folded. */
export function normalizePath(url: string | undefined): string {
  let path = url ?? "/";
  const q = path.indexOf("?");
  if (q >= 0) path = path.slice(0, q);
  if (path.startsWith("//")) path = "/" + path.replace(/^\/+/, "");
  return path;
}

export class MessageApi {
  private readonly streams = new Set<EnvelopeStream>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private readonly streamResponses = new WeakSet<ServerResponse>();
  private readonly refusedWith = new WeakMap<ServerResponse, number>();
  private readonly requestIds = new WeakMap<ServerResponse, string>();

  constructor(private readonly deps: ApiDependencies) {}

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
    res.once("close", done);
    const offered = req.headers["x-request-id"];
    const requestId = typeof offered === "string" && REQUEST_ID_RE.test(offered) ? offered : randomUUID();
    this.requestIds.set(res, requestId);
    res.setHeader("x-request-id", requestId);
    const onResponse = this.deps.hooks?.onResponse;
    const started = performance.now();
    res.once("finish", () => {
      const path = normalizePath(req.url);
      const durationMs = performance.now() - started;
      this.deps.logger.debug("request", { requestId, method: req.method, path, status: res.statusCode, durationMs });
      onResponse?.({ path, status: res.statusCode, code: this.refusedWith.get(res), durationMs, req });
    });
    this.route(req, res).then(
      () => {
        // A stream counts as in flight only until it is set up; shutdown ends streams separately.
        if (this.streamResponses.has(res)) done();
      },
      (error) => this.fail(res, error),
    );
  };

  get activeStreams(): number {
    return this.streams.size;
  }

  /** Stop serving: new requests get 503, streams end now, resolves when in-flight requests are answered. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const stream of [...this.streams]) stream.end();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }


  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = normalizePath(req.url);
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...CORS_PREFLIGHT_HEADERS, ...(this.closing ? { connection: "close" } : {}) });
      res.end();
      return;
    }
    if (!KNOWN_PATHS.has(path) && this.deps.hooks?.handleOther && (await this.deps.hooks.handleOther(req, res, path))) return;
    if (!KNOWN_PATHS.has(path)) throw new ApiError(GrpcCode.NOT_FOUND, `unknown path ${JSON.stringify(path)}`);
    if (req.method !== "POST") {
      res.setHeader("allow", "POST, OPTIONS");
      throw new ApiError(GrpcCode.UNIMPLEMENTED, `method ${req.method} is not allowed on ${path}; use POST`, 405);
    }
    if (this.closing) throw new ApiError(GrpcCode.UNAVAILABLE, "the node is shutting down");

    const body = parseJsonBody(await readBody(req, this.deps.maxBodyBytes));
    switch (path) {
      case API_PATHS.publish:
        return this.publish(req, res, body);
      case API_PATHS.query: {
        const query = decodeQueryRequest(body);
        await this.deps.hooks?.beforeRead?.([query], req);
        return this.sendJson(req, res, 200, await this.runQuery(query));
      }
      case API_PATHS.batchQuery: {
        const queries = decodeBatchQueryRequest(body);
        await this.deps.hooks?.beforeRead?.(queries, req);
        const responses = await Promise.all(queries.map((q) => this.runQuery(q)));
        return this.sendJson(req, res, 200, encodeBatchQueryResponse(responses));
      }
      case API_PATHS.subscribe:
        return this.subscribe(req, res, decodeSubscribeRequest(body));
      case API_PATHS.subscribeAll:
        return this.subscribe(req, res, "all");
    }
  }

  private async publish(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const envelopes = decodePublishRequest(body);
    this.deps.hooks?.validatePublish?.(envelopes, req);
    const caller = this.deps.authenticator.authenticate(req.headers.authorization);
    // The whole request is refused if any envelope is refused: nothing is stored before every check passed.
    for (const envelope of envelopes) authorizeTopic(envelope.contentTopic, caller.walletAddress);
    await this.deps.hooks?.authorizePublish?.(caller, envelopes, req);
    await this.deps.ingest.ingest(envelopes, "local");
    this.sendJson(req, res, 200, "{}");
  }

  private async runQuery(query: ParsedQuery): Promise<string> {
    const page = await this.deps.store.query({
      topic: query.topic,
      startTimeNs: query.startTimeNs,
      endTimeNs: query.endTimeNs,
      limit: query.limit,
      direction: query.direction,
      cursor: query.cursor,
    });
    return encodeQueryResponse(page, query);
  }

  private async subscribe(req: IncomingMessage, res: ServerResponse, topics: string[] | "all"): Promise<void> {
    // No await without a hook: the subscription is registered in the same tick the body was parsed.
    const hook = this.deps.hooks?.beforeSubscribe;
    const release = (hook ? await hook(topics, req) : undefined) ?? undefined;
    if (res.destroyed || res.writableEnded) {
      release?.();
      return; // the client left while we read its request
    }
    this.streamResponses.add(res);
    let unsubscribe = () => {};
    const stream = new EnvelopeStream(res, {
      keepAliveMs: this.deps.streamKeepAliveMs,
      maxBufferBytes: this.deps.maxStreamBufferBytes,
      onClose: () => {
        unsubscribe();
        this.streams.delete(stream);
        release?.();
      },
      onCutOff: (pendingBytes) => {
        unsubscribe();
        this.deps.logger.warn("slow subscriber cut off", { pendingBytes, requestId: this.requestIds.get(res) });
        this.deps.hooks?.onStreamCutOff?.();
      },
    });
    this.streams.add(stream);
    const listener = (envelope: Parameters<typeof stream.send>[0]) => stream.send(envelope);
    unsubscribe = topics === "all" ? this.deps.hub.subscribeAll(listener) : this.deps.hub.subscribe(topics, listener);
  }

  private async sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: string): Promise<void> {
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
    };
    if (this.closing) headers.connection = "close";
    let payload: string | Buffer = body;
    if (body.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
      payload = await gzip(body, { level: zlibConstants.Z_BEST_SPEED });
      headers["content-encoding"] = "gzip";
      headers.vary = "accept-encoding";
    }
    headers["content-length"] = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
    res.writeHead(status, headers);
    res.end(payload);
  }

  private fail(res: ServerResponse, error: unknown): void {
    let apiError: ApiError;
    const requestId = this.requestIds.get(res);
    if (error instanceof ApiError) {
      apiError = error;
      this.deps.logger.debug("request refused", { requestId, code: error.code, error: error.message });
    } else {
      this.deps.logger.error("request failed", { requestId, error });
      apiError = new ApiError(GrpcCode.INTERNAL, "internal error");
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.refusedWith.set(res, apiError.code);
    const body = encodeError(apiError.code, apiError.message, apiError.details);
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "content-length": Buffer.byteLength(body),
    };
    // An oversized body is left unread; closing the connection stops the client from sending the rest.
    if (apiError.httpStatus === 413 || this.closing) headers.connection = "close";
    // Rate-limit refusals carry their wait (security/limits.ts RateLimitedError).
    const retryAfterSeconds = (apiError as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
    res.writeHead(apiError.httpStatus, headers);
    res.end(body);
  }
}
