// The message API over plain node:http: routing, CORS, JSON bodies and errors, and the two stream routes.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { gzip as gzipCallback, constants as zlibConstants } from "node:zlib";
import { promisify } from "node:util";
import { ApiError, GrpcCode, UnavailableError } from "../errors.js";
import { isStoreUnavailable } from "../store/storeErrors.js";
import type { Logger } from "../log.js";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import type { SubscriptionHub } from "../hub.js";
import type { EnvelopeIngest } from "../ingest.js";
import { authorizeTopic, type AuthenticatedCaller, type Authenticator } from "../auth.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import { readBody } from "./body.js";
import { BodyBudgetExceededError, type BodyBudget } from "./bodyBudget.js";
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
const EMPTY_OBJECT_JSON = "{}";
const CONNECTION_CLOSE = { connection: "close" } as const;

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
  /** Bounds the request-body bytes held per client and in total; absent: only maxBodyBytes per request. */
  bodyBudget?: { budget: BodyBudget; clientKeyOf: (req: IncomingMessage) => string };
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

/** One request's state, passed along instead of kept in per-response maps. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly requestId: string;
  readonly startedMs: number;
  /** The gRPC code the request was refused with, if it was. */
  refusedCode: number | undefined;
  /** A stream route that got as far as opening its stream. */
  streaming: boolean;
}

export class MessageApi {
  private readonly streams = new Set<EnvelopeStream>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closing = false;

  constructor(private readonly deps: ApiDependencies) {}

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    const offered = req.headers["x-request-id"];
    const exchange: Exchange = {
      req,
      res,
      path: normalizePath(req.url),
      requestId: typeof offered === "string" && REQUEST_ID_RE.test(offered) ? offered : randomUUID(),
      startedMs: performance.now(),
      refusedCode: undefined,
      streaming: false,
    };
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
    res.once("close", done);
    res.once("finish", () => this.answered(exchange));
    this.route(exchange).then(
      () => {
        // A stream counts as in flight only until it is set up; shutdown ends streams separately.
        if (exchange.streaming) done();
      },
      (error) => this.fail(exchange, error),
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

  private answered({ req, res, path, requestId, startedMs, refusedCode }: Exchange): void {
    const durationMs = performance.now() - startedMs;
    this.deps.logger.debug("request", { requestId, method: req.method, path, status: res.statusCode, durationMs });
    this.deps.hooks?.onResponse?.({ path, status: res.statusCode, code: refusedCode, durationMs, req });
  }

  // Every answer of the message API sets its headers in one writeHead(status, object): a header set beforehand
  // with setHeader() would send Node down its slow path, re-validating and copying every header one by one.
  private async route(exchange: Exchange): Promise<void> {
    const { req, res, path } = exchange;
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        ...CORS_PREFLIGHT_HEADERS,
        "x-request-id": exchange.requestId,
        ...(this.closing ? CONNECTION_CLOSE : undefined),
      });
      res.end();
      return;
    }
    if (!KNOWN_PATHS.has(path)) {
      const handleOther = this.deps.hooks?.handleOther;
      if (handleOther) {
        // Other routes write their own headers; this one is added to whatever they send.
        res.setHeader("x-request-id", exchange.requestId);
        if (await handleOther(req, res, path)) return;
      }
      throw new ApiError(GrpcCode.NOT_FOUND, `unknown path ${JSON.stringify(path)}`);
    }
    if (req.method !== "POST") {
      res.setHeader("allow", "POST, OPTIONS");
      throw new ApiError(GrpcCode.UNIMPLEMENTED, `method ${req.method} is not allowed on ${path}; use POST`, 405);
    }
    if (this.closing) throw new ApiError(GrpcCode.UNAVAILABLE, "the node is shutting down");

    const bodyBudget = this.deps.bodyBudget;
    const account = bodyBudget && { budget: bodyBudget.budget, clientKey: bodyBudget.clientKeyOf(req) };
    const body = parseJsonBody(await readBody(req, this.deps.maxBodyBytes, account));
    switch (path) {
      case API_PATHS.publish:
        return this.publish(exchange, body);
      case API_PATHS.query: {
        const query = decodeQueryRequest(body);
        const checked = this.deps.hooks?.beforeRead?.([query], req);
        if (checked) await checked;
        return this.sendJson(exchange, await this.runQuery(query));
      }
      case API_PATHS.batchQuery: {
        const queries = decodeBatchQueryRequest(body);
        const checked = this.deps.hooks?.beforeRead?.(queries, req);
        if (checked) await checked;
        const responses = await Promise.all(queries.map((q) => this.runQuery(q)));
        return this.sendJson(exchange, encodeBatchQueryResponse(responses));
      }
      case API_PATHS.subscribe:
        return this.subscribe(exchange, decodeSubscribeRequest(body));
      case API_PATHS.subscribeAll:
        return this.subscribe(exchange, "all");
    }
  }

  private async publish(exchange: Exchange, body: unknown): Promise<void> {
    const { req } = exchange;
    const envelopes = decodePublishRequest(body);
    this.deps.hooks?.validatePublish?.(envelopes, req);
    const caller = this.deps.authenticator.authenticate(req.headers.authorization);
    // The whole request is refused if any envelope is refused: nothing is stored before every check passed.
    for (const envelope of envelopes) authorizeTopic(envelope.contentTopic, caller.walletAddress);
    const authorized = this.deps.hooks?.authorizePublish?.(caller, envelopes, req);
    if (authorized) await authorized;
    await this.deps.ingest.ingest(envelopes, "local");
    return this.sendJson(exchange, EMPTY_OBJECT_JSON);
  }

  private async runQuery(query: ParsedQuery): Promise<string> {
    // A ParsedQuery is an EnvelopeQuery already (same fields, validated).
    return encodeQueryResponse(await this.deps.store.query(query), query);
  }

  private async subscribe(exchange: Exchange, topics: string[] | "all"): Promise<void> {
    const { req, res, requestId } = exchange;
    // No await unless the hook returns a promise: the subscription is registered in the same tick the body was parsed.
    const checked = this.deps.hooks?.beforeSubscribe?.(topics, req);
    const release = (checked instanceof Promise ? await checked : checked) ?? undefined;
    if (res.destroyed || res.writableEnded) {
      release?.();
      return; // the client left while we read its request
    }
    exchange.streaming = true;
    let unsubscribe = () => {};
    const stream = new EnvelopeStream(res, {
      keepAliveMs: this.deps.streamKeepAliveMs,
      maxBufferBytes: this.deps.maxStreamBufferBytes,
      requestId,
      onClose: () => {
        unsubscribe();
        this.streams.delete(stream);
        release?.();
      },
      onCutOff: (pendingBytes) => {
        unsubscribe();
        this.deps.logger.warn("slow subscriber cut off", { pendingBytes, requestId });
        this.deps.hooks?.onStreamCutOff?.();
      },
    });
    this.streams.add(stream);
    const listener = (envelope: Parameters<typeof stream.send>[0]) => stream.send(envelope);
    unsubscribe = topics === "all" ? this.deps.hub.subscribeAll(listener) : this.deps.hub.subscribe(topics, listener);
  }

  /** Answers 200 with a JSON body: gzipped when large and accepted. */
  private sendJson({ req, res, requestId }: Exchange, body: string): void | Promise<void> {
    if (body.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
      return this.sendGzippedJson(res, requestId, body);
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "x-request-id": requestId,
      "content-length": Buffer.byteLength(body),
      ...(this.closing ? CONNECTION_CLOSE : undefined),
    });
    // A string body goes out in the same write as the headers (Node joins them); measured cheaper than a Buffer.
    res.end(body);
  }

  private async sendGzippedJson(res: ServerResponse, requestId: string, body: string): Promise<void> {
    const payload = await gzip(body, { level: zlibConstants.Z_BEST_SPEED });
    res.writeHead(200, {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "x-request-id": requestId,
      "content-encoding": "gzip",
      vary: "accept-encoding",
      "content-length": payload.length,
      ...(this.closing ? CONNECTION_CLOSE : undefined),
    });
    res.end(payload);
  }

  private fail(exchange: Exchange, error: unknown): void {
    const { res, requestId } = exchange;
    let apiError: ApiError;
    if (error instanceof ApiError) {
      apiError = error;
      this.deps.logger.debug("request refused", { requestId, code: error.code, error: error.message });
    } else if (isStoreUnavailable(error)) {
      // A database or disk fault, not a bug: the client should retry later (possibly at another instance).
      this.deps.logger.warn("storage unavailable", { requestId, operation: error.operation, error: error.message });
      apiError = new UnavailableError(`storage unavailable, retry later: ${error.message}`);
    } else {
      this.deps.logger.error("request failed", { requestId, error });
      apiError = new ApiError(GrpcCode.INTERNAL, "internal error");
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    exchange.refusedCode = apiError.code;
    const body = encodeError(apiError.code, apiError.message, apiError.details);
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "x-request-id": requestId,
      "content-length": Buffer.byteLength(body),
    };
    // An oversized body is left unread; closing the connection stops the client from sending the rest.
    if (apiError.httpStatus === 413 || apiError instanceof BodyBudgetExceededError || this.closing) {
      headers.connection = "close";
    }
    // Rate-limit refusals carry their wait (security/limits.ts RateLimitedError).
    const retryAfterSeconds = (apiError as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
    res.writeHead(apiError.httpStatus, headers);
    res.end(body);
  }
}
