// The message API over plain node:http: routing, CORS, JSON bodies and errors, and the two stream routes.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { gzip as gzipCallback, constants as zlibConstants } from "node:zlib";
import { promisify } from "node:util";
import { ApiError, GrpcCode, UnavailableError } from "../errors.js";
import { isStoreUnavailable } from "../store/storeErrors.js";
import type { Logger } from "../log.js";
import type { PostageGate } from "../postage/postageGate.js";
import type { EnvelopePage, EnvelopeStore } from "../store/EnvelopeStore.js";
import type { SubscriptionHub } from "../hub.js";
import type { EnvelopeIngest } from "../ingest.js";
import { authorizeTopic, type AuthenticatedCaller, type Authenticator } from "../auth.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import { readBody } from "./body.js";
import { BodyBudgetExceededError, type BodyBudget } from "./bodyBudget.js";
import {
  BATCH_RESPONSE_HEAD,
  BATCH_RESPONSE_TAIL,
  MAX_MESSAGE_BYTES,
  decodeBatchQueryRequest,
  decodePublishRequest,
  decodeQueryRequest,
  decodeSubscribeRequest,
  encodeError,
  encodeQueryResponse,
  parseJsonBody,
  type ParsedQuery,
} from "./codec.js";
import { EnvelopeStream } from "./stream.js";
import { RefusalLog, refusalKindOf } from "./refusalLog.js";
import { JsonAnswer } from "./jsonAnswer.js";

const gzip = promisify(gzipCallback);
/** Smaller responses go out uncompressed: gzip costs more CPU than it saves on loopback-sized pages. */
const GZIP_MIN_BYTES = 16 * 1024;
/** A query page with fewer message bytes than this is encoded in one string straight away (the common, fast path). */
const WHOLE_PAGE_MAX_MESSAGE_BYTES = 128 * 1024;
/**
 * A streamed answer whose reader takes none of it for this long is cut (its connection closed): a client that stops
 * reading would otherwise keep its page in memory for as long as it keeps the connection. A slow but moving reader
 * empties the socket buffer, and so lets the next piece go, far more often than this.
 */
export const DEFAULT_ANSWER_STALL_MS = 30_000;

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
  /**
   * query and batch-query, once per request: the message bytes the store returned for it (what the answer carries,
   * or began to carry when the client left mid-answer). Not called when nothing was read. Must not throw.
   */
  afterRead?(messageBytes: number, req: IncomingMessage): void;
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
  /**
   * Postage (docs/postage.md): publishes pass it after authorization, right before storage; it refuses with 402 or
   * returns the envelopes with the proofs they are kept with.
   */
  postage?: Pick<PostageGate, "admit">;
  hub: SubscriptionHub;
  /**
   * When several processes share the store, the hub is fed from the commit order and may lag what another process
   * has already acknowledged: a new stream waits for this before it registers and answers, so it never receives
   * what was committed before its request (docs/scale-out.md). Absent for a node alone with its store.
   */
  commitsCaughtUp?: () => Promise<void>;
  ingest: EnvelopeIngest;
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
  /** Bounds the request-body bytes held per client and in total; absent: only maxBodyBytes per request. */
  bodyBudget?: { budget: BodyBudget; clientKeyOf: (req: IncomingMessage) => string };
  streamKeepAliveMs: number;
  maxStreamBufferBytes: number;
  /**
   * Message bytes in one query page (EnvelopeQuery.maxBytes): a page ends with the envelope that reaches this and
   * carries a cursor, so clients page on.
   */
  maxPageBytes: number;
  /**
   * Message bytes in one batch-query answer: each entry gets at most what is left of this (and at most maxPageBytes),
   * but always at least one envelope when its topic has any.
   */
  maxBatchBytes: number;
  /** A streamed answer whose reader takes nothing for this long is cut; default DEFAULT_ANSWER_STALL_MS. */
  answerStallMs?: number;
  hooks?: ApiHooks;
  /** Where refused requests are logged (info, rate-limited per kind); default a RefusalLog on `logger`. */
  refusalLog?: RefusalLog;
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

/** Serves the message API over HTTP (docs/protocol/api.md); the client's MessageApi is what calls it. */
export class MessageApiServer {
  private readonly streams = new Set<EnvelopeStream>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private readonly refusals: RefusalLog;

  constructor(private readonly deps: ApiDependencies) {
    this.refusals = deps.refusalLog ?? new RefusalLog({ logger: deps.logger });
  }

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
    this.refusals.flush();
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
        return this.answerQuery(exchange, query);
      }
      case API_PATHS.batchQuery: {
        const queries = decodeBatchQueryRequest(body);
        const checked = this.deps.hooks?.beforeRead?.(queries, req);
        if (checked) await checked;
        return this.answerBatchQuery(exchange, queries);
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
    const postage = this.deps.postage;
    const admitted = postage
      ? (await postage.admit(envelopes, { door: { kind: "token", wallet: caller.walletAddress }, accepting: true })).envelopes
      : envelopes;
    await this.deps.ingest.ingest(admitted, "local");
    return this.sendJson(exchange, EMPTY_OBJECT_JSON);
  }

  private async answerQuery(exchange: Exchange, query: ParsedQuery): Promise<void> {
    // A ParsedQuery is an EnvelopeQuery already (same fields, validated); the byte budget is the node's.
    query.maxBytes = this.deps.maxPageBytes;
    const page = await this.deps.store.query(query);
    const bytes = messageBytesOf(page);
    if (bytes > 0) this.deps.hooks?.afterRead?.(bytes, exchange.req);
    if (bytes < WHOLE_PAGE_MAX_MESSAGE_BYTES) return this.sendJson(exchange, encodeQueryResponse(page, query));
    const answer = this.jsonAnswer(exchange);
    await answer.page(page, query);
    return answer.end();
  }

  /**
   * The entries in request order, within the batch's byte budget: entry i is read with a budget of what the entries
   * before it left (at most maxPageBytes, at least 1 byte, i.e. one envelope). Pages are written out in order as
   * they come, so the answer is never held whole. Reads run ahead of the writing only while the budget left is sure
   * to give them a whole page budget even if every entry before them overshoots its own by a full message; each
   * entry therefore gets exactly the budget it would get if the entries were read one after another.
   */
  private async answerBatchQuery(exchange: Exchange, queries: ParsedQuery[]): Promise<void> {
    const { maxPageBytes, maxBatchBytes, store } = this.deps;
    const answer = this.jsonAnswer(exchange);
    const started: Array<{ page: Promise<EnvelopePage>; reserved: number } | undefined> = [];
    let reserved = 0; // budgets, plus one message each, of the entries read or being read but not yet written
    let spent = 0; // message bytes of the entries read and taken off `started`
    try {
      await answer.write(BATCH_RESPONSE_HEAD);
      for (let i = 0; i < queries.length; i++) {
        while (
          started.length < queries.length &&
          (started.length === i || maxBatchBytes - spent - reserved >= maxPageBytes + MAX_MESSAGE_BYTES)
        ) {
          const maxBytes = Math.max(1, Math.min(maxPageBytes, maxBatchBytes - spent - reserved));
          const query = queries[started.length];
          query.maxBytes = maxBytes;
          const page = store.query(query);
          // Awaited below, in order; if an earlier entry fails first, this one's failure must not go unhandled.
          page.catch(() => {});
          started.push({ page, reserved: maxBytes + MAX_MESSAGE_BYTES });
          reserved += maxBytes + MAX_MESSAGE_BYTES;
        }
        const entry = started[i]!;
        started[i] = undefined;
        const page = await entry.page;
        reserved -= entry.reserved;
        spent += messageBytesOf(page);
        if (answer.abandoned) return;
        if (i > 0) await answer.write(",");
        await answer.page(page, queries[i]);
      }
      await answer.write(BATCH_RESPONSE_TAIL);
      await answer.end();
    } finally {
      if (spent > 0) this.deps.hooks?.afterRead?.(spent, exchange.req);
    }
  }

  private jsonAnswer(exchange: Exchange): JsonAnswer {
    return new JsonAnswer(exchange, {
      sendWhole: (body) => this.sendJson(exchange, body),
      closing: () => this.closing,
      stallMs: this.deps.answerStallMs ?? DEFAULT_ANSWER_STALL_MS,
      onStalled: () => this.deps.logger.debug("stalled answer cut", { requestId: exchange.requestId }),
    });
  }

  private async subscribe(exchange: Exchange, topics: string[] | "all"): Promise<void> {
    const { req, res, requestId } = exchange;
    // Alone with its store, no await unless the hook returns a promise: the subscription is registered in the same
    // tick the body was parsed.
    const checked = this.deps.hooks?.beforeSubscribe?.(topics, req);
    const release = (checked instanceof Promise ? await checked : checked) ?? undefined;
    if (this.deps.commitsCaughtUp) {
      try {
        await this.deps.commitsCaughtUp();
      } catch (error) {
        release?.();
        throw error;
      }
    }
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
      // Info, so operators see who is refused and why; rate-limited per kind (refusalLog.ts) against floods.
      this.refusals.refused(refusalKindOf(error.code, error.httpStatus), "request refused", {
        requestId,
        path: exchange.path,
        status: error.httpStatus,
        code: error.code,
        client: this.deps.bodyBudget?.clientKeyOf(exchange.req) ?? exchange.req.socket.remoteAddress,
        error: error.message,
      });
    } else if (isStoreUnavailable(error)) {
      // A database or disk fault, not a bug: the client should retry later (possibly at another instance).
      // Rate-limited too: during an outage every request would otherwise write its own line.
      this.refusals.refused(
        "storage_unavailable",
        "storage unavailable",
        { requestId, operation: error.operation, error: error.message },
        "warn",
      );
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

function messageBytesOf(page: EnvelopePage): number {
  let bytes = 0;
  for (const envelope of page.envelopes) bytes += envelope.message.byteLength;
  return bytes;
}
