// MessageApi over fetch (Node 20 and browsers; nothing Node-only): the four POST endpoints of docs/protocol/api.md §2
// with the SDK's headers, publish auth with one token refresh on UNAUTHENTICATED, and retries for transient failures
// only; and the postage quote (GET, docs/postage.md §4).
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";
import { GroupedSubscription } from "../streams/GroupedSubscription.js";
import { ResumableSubscription, type SubscriptionTuning } from "../streams/ResumableSubscription.js";
import type { SubscriptionTransport } from "../streams/transport.js";
import { backoffDelay, delay } from "./delay.js";
import { ApiError, GrpcCode, malformedResponse, type ApiCall } from "./errors.js";
import {
  checkPageSize,
  envelopeToJson,
  MAX_PAGE_SIZE,
  queryResponseFromJson,
  queryToJson,
  ResponseShapeError,
} from "./json.js";
import { queryPages } from "./paging.js";
import { postageQuoteFromJson, type PostageQuote } from "./postageQuote.js";
import type {
  AuthTokenProvider,
  Envelope,
  MessageApi,
  QueryPage,
  QueryParams,
  SubscribeOptions,
  Subscription,
} from "./types.js";
import { CLIENT_VERSION_HEADER } from "./version.js";

/** The node rejects batch-query requests with more sub-queries than this (docs/protocol/api.md §2.4). */
export const MAX_BATCH_SIZE = 50;

export interface RetryOptions {
  /** Attempts per call including the first; default 4. */
  attempts?: number;
  /** Backoff before the first retry, doubled for each further one; default 100 ms. */
  initialDelayMs?: number;
  /** Cap on the backoff; default 2,000 ms. */
  maxDelayMs?: number;
  /** A retry hint (Retry-After, RetryInfo) longer than this is not waited out: the error is thrown. Default 10 s. */
  maxRetryAfterMs?: number;
}

export interface HttpMessageApiOptions {
  /** Base URL of the node, e.g. `http://127.0.0.1:5555` (a trailing slash is ignored). */
  apiUrl: string;
  /** Sent as `X-App-Version`. */
  appVersion?: string;
  /** Supplies publish tokens; can also be set later with `setAuthTokenProvider`. */
  authTokenProvider?: AuthTokenProvider;
  /** Defaults to the global fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  retry?: RetryOptions;
  /** A publish/query/batch-query attempt without a complete answer after this long fails (and is retried). Default 30 s. */
  requestTimeoutMs?: number;
  /** Defaults for every subscription (stall timeout, reconnect backoff, dedupe window…). */
  subscription?: SubscriptionTuning;
}

type FetchFn = NonNullable<HttpMessageApiOptions["fetch"]>;

const STATUS_TO_CODE: Record<number, number> = {
  400: GrpcCode.INVALID_ARGUMENT,
  401: GrpcCode.UNAUTHENTICATED,
  403: GrpcCode.PERMISSION_DENIED,
  404: GrpcCode.NOT_FOUND,
  408: GrpcCode.DEADLINE_EXCEEDED,
  409: GrpcCode.ABORTED,
  429: GrpcCode.RESOURCE_EXHAUSTED,
  499: GrpcCode.CANCELLED,
  500: GrpcCode.INTERNAL,
  501: GrpcCode.UNIMPLEMENTED,
  502: GrpcCode.UNAVAILABLE,
  503: GrpcCode.UNAVAILABLE,
  504: GrpcCode.DEADLINE_EXCEEDED,
};

export class HttpMessageApi implements MessageApi {
  readonly apiUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: FetchFn;
  private readonly retry: Required<RetryOptions>;
  private readonly requestTimeoutMs: number;
  private readonly subscriptionTuning: SubscriptionTuning;
  private authTokenProvider: AuthTokenProvider | undefined;

  constructor(options: HttpMessageApiOptions) {
    if (typeof options?.apiUrl !== "string") throw new TypeError("apiUrl must be a string such as http://127.0.0.1:5555");
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new TypeError(`apiUrl ${JSON.stringify(options.apiUrl)} is not a valid URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`apiUrl ${JSON.stringify(options.apiUrl)} must use http or https`);
    }
    // The SDK concatenates as-is and so produces `//message/...` for a trailing slash; we do not.
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
    this.headers = { "Content-Type": "application/json", "X-Client-Version": CLIENT_VERSION_HEADER };
    if (options.appVersion !== undefined) this.headers["X-App-Version"] = options.appVersion;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const retry = options.retry ?? {};
    this.retry = {
      attempts: retry.attempts ?? 4,
      initialDelayMs: retry.initialDelayMs ?? 100,
      maxDelayMs: retry.maxDelayMs ?? 2_000,
      maxRetryAfterMs: retry.maxRetryAfterMs ?? 10_000,
    };
    if (!Number.isInteger(this.retry.attempts) || this.retry.attempts < 1) {
      throw new RangeError(`retry.attempts must be an integer of at least 1, got ${this.retry.attempts}`);
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    if (!(this.requestTimeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be a positive number, got ${options.requestTimeoutMs}`);
    }
    this.subscriptionTuning = options.subscription ?? {};
    this.authTokenProvider = options.authTokenProvider;
  }

  setAuthTokenProvider(provider: AuthTokenProvider | undefined): void {
    this.authTokenProvider = provider;
  }

  async publish(envelopes: Envelope[]): Promise<void> {
    if (!Array.isArray(envelopes) || envelopes.length === 0) {
      throw new TypeError("publish needs a non-empty array of envelopes");
    }
    const body = { envelopes: envelopes.map((envelope, i) => envelopeToJson(envelope, `envelopes[${i}]`)) };
    const provider = this.authTokenProvider;
    if (!provider) {
      throw new Error("publish needs an auth token: pass authTokenProvider to HttpMessageApi or call setAuthTokenProvider");
    }
    try {
      await this.post("publish", "/message/v1/publish", body, await this.token(provider, false));
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== GrpcCode.UNAUTHENTICATED) throw error;
      // The token expired or was revoked between creation and use: one fresh token, one more try (as the SDK).
      await this.post("publish", "/message/v1/publish", body, await this.token(provider, true));
    }
  }

  async query(params: QueryParams): Promise<QueryPage> {
    const body = queryToJson(params, "query");
    return this.readResponse("query", () => this.post("query", "/message/v1/query", body), (json) =>
      queryResponseFromJson(json, "response"),
    );
  }

  async queryAll(params: QueryParams & { limit?: number }): Promise<Envelope[]> {
    const { limit, ...query } = params ?? ({} as QueryParams);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
    }
    const pageSize =
      query.pageSize !== undefined
        ? checkPageSize(query.pageSize, "pageSize")
        : Math.min(limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const out: Envelope[] = [];
    for await (const envelopes of queryPages(this, { ...query, pageSize }, { limit })) out.push(...envelopes);
    return out;
  }

  async batchQuery(queries: QueryParams[]): Promise<Envelope[][]> {
    return (await this.batchQueryPages(queries)).map((page) => page.envelopes);
  }

  /** Like batchQuery, but keeps each first page's cursor so a caller can page on with `query`. */
  async batchQueryPages(queries: QueryParams[]): Promise<QueryPage[]> {
    if (!Array.isArray(queries)) throw new TypeError("batchQuery needs an array of queries");
    const requests = queries.map((query, i) => queryToJson(query, `queries[${i}]`));
    const batches: (typeof requests)[] = [];
    for (let i = 0; i < requests.length; i += MAX_BATCH_SIZE) batches.push(requests.slice(i, i + MAX_BATCH_SIZE));
    const answers = await Promise.all(
      batches.map((batch) =>
        this.readResponse(
          "batchQuery",
          () => this.post("batchQuery", "/message/v1/batch-query", { requests: batch }),
          (json) => {
            const responses = (json as { responses?: unknown } | null)?.responses;
            if (!Array.isArray(responses)) throw new ResponseShapeError("responses is missing");
            if (responses.length !== batch.length) {
              throw new ResponseShapeError(`${responses.length} responses for ${batch.length} queries`);
            }
            return responses.map((response, i) => queryResponseFromJson(response, `responses[${i}]`));
          },
        ),
      ),
    );
    return answers.flat();
  }

  /**
   * `GET /postage/v1/quote[?payer=]` (docs/postage.md §4), retried like a query. A node without postage support
   * answers 404 or 501: that ApiError is thrown as is, and the postage layer reads it as postage off.
   */
  async postageQuote(payer?: string): Promise<PostageQuote> {
    if (payer !== undefined && (typeof payer !== "string" || !isAddress(payer))) {
      throw new TypeError(`payer must be an Ethereum address, got ${JSON.stringify(payer)}`);
    }
    const path = payer === undefined ? "/postage/v1/quote" : `/postage/v1/quote?payer=${toChecksumAddress(payer)}`;
    return this.readResponse("postageQuote", () => this.request("postageQuote", "GET", path, undefined), (json) =>
      postageQuoteFromJson(json),
    );
  }

  subscribe(topics: string[], options: SubscribeOptions & SubscriptionTuning = {}): Subscription {
    const tuning = { ...this.subscriptionTuning, ...options };
    return new GroupedSubscription(topics, (group) => new ResumableSubscription(this.transport, group, tuning), tuning.maxTopicsPerStream);
  }

  /** What a ResumableSubscription needs from us. */
  get transport(): SubscriptionTransport {
    return {
      openStream: (topics, signal) => this.openStream(topics, signal),
      batchQueryPages: (queries) => this.batchQueryPages(queries),
      query: (params) => this.query(params),
    };
  }

  /** Opens `/subscribe`; resolves with the NDJSON body once the node has answered 200, i.e. registered it. */
  async openStream(topics: string[], signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.fetchOnce("subscribe", "/message/v1/subscribe", JSON.stringify({ contentTopics: topics }), {
      signal,
    });
    if (!response.ok) throw await this.errorFromResponse("subscribe", response);
    if (!response.body) throw malformedResponse("subscribe", "the stream response has no body", response.status);
    return response.body;
  }

  private async token(provider: AuthTokenProvider, refresh: boolean): Promise<string> {
    const token = await provider({ refresh });
    if (typeof token !== "string" || token.length === 0) {
      throw new TypeError(`the auth token provider returned ${token === "" ? "an empty string" : typeof token}, not a token`);
    }
    return token;
  }

  private async readResponse<T>(call: ApiCall, send: () => Promise<unknown>, read: (json: unknown) => T): Promise<T> {
    const json = await send();
    try {
      return read(json);
    } catch (error) {
      if (error instanceof ResponseShapeError) throw malformedResponse(call, error.message);
      throw error;
    }
  }

  /** POSTs with retries for transient failures; resolves with the parsed JSON body of a 2xx answer. */
  private post(call: ApiCall, path: string, body: unknown, token?: string): Promise<unknown> {
    return this.request(call, "POST", path, JSON.stringify(body), token);
  }

  private async request(call: ApiCall, method: "GET" | "POST", path: string, text: string | undefined, token?: string): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const timeout = AbortSignal.timeout(this.requestTimeoutMs);
        const response = await this.fetchOnce(call, path, text, { token, timeout, method });
        if (!response.ok) throw await this.errorFromResponse(call, response, timeout);
        const answer = await this.readBody(call, response, timeout);
        try {
          return JSON.parse(answer);
        } catch {
          throw malformedResponse(call, `not JSON: ${snippet(answer)}`, response.status);
        }
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient || attempt >= this.retry.attempts) throw error;
        if (error.retryAfterMs !== undefined && error.retryAfterMs > this.retry.maxRetryAfterMs) throw error;
        await delay(error.retryAfterMs ?? backoffDelay(attempt, this.retry.initialDelayMs, this.retry.maxDelayMs));
      }
    }
  }

  private async fetchOnce(
    call: ApiCall,
    path: string,
    body: string | undefined,
    { token, signal, timeout, method = "POST" }: { token?: string; signal?: AbortSignal; timeout?: AbortSignal; method?: "GET" | "POST" },
  ): Promise<Response> {
    const headers = token ? { ...this.headers, Authorization: `Bearer ${token}` } : this.headers;
    try {
      return await this.fetchImpl(this.apiUrl + path, { method, headers, body, signal: signal ?? timeout });
    } catch (cause) {
      if (signal?.aborted) throw signal.reason ?? cause;
      throw this.networkError(call, cause, timeout);
    }
  }

  private async readBody(call: ApiCall, response: Response, timeout?: AbortSignal): Promise<string> {
    try {
      return await response.text();
    } catch (cause) {
      throw this.networkError(call, cause, timeout, response.status);
    }
  }

  private networkError(call: ApiCall, cause: unknown, timeout: AbortSignal | undefined, httpStatus?: number): ApiError {
    if (timeout?.aborted) {
      return new ApiError({
        call,
        code: GrpcCode.DEADLINE_EXCEEDED,
        serverMessage: `no complete answer within ${this.requestTimeoutMs} ms`,
        httpStatus,
        transient: true,
        cause,
      });
    }
    const reason = cause instanceof Error ? describeNetworkError(cause) : String(cause);
    return new ApiError({
      call,
      code: GrpcCode.UNAVAILABLE,
      serverMessage: `network error: ${reason}`,
      httpStatus,
      transient: true,
      cause,
    });
  }

  private async errorFromResponse(call: ApiCall, response: Response, timeout?: AbortSignal): Promise<ApiError> {
    const text = await this.readBody(call, response, timeout);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    // grpc-gateway v1 wrapped stream errors as {"error":{…}}.
    const error = (typeof fields.error === "object" && fields.error !== null ? fields.error : fields) as Record<
      string,
      unknown
    >;
    const status = response.status;
    const code = Number.isInteger(error.code) ? (error.code as number) : STATUS_TO_CODE[status];
    const details = Array.isArray(error.details) ? error.details : [];
    const serverMessage =
      typeof error.message === "string" && error.message.length > 0
        ? error.message
        : `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ""}${text ? `: ${snippet(text)}` : ""}`;
    const transient =
      (status >= 500 && status !== 501) ||
      status === 408 ||
      status === 429 ||
      code === GrpcCode.UNAVAILABLE ||
      code === GrpcCode.RESOURCE_EXHAUSTED;
    return new ApiError({
      call,
      code,
      serverMessage,
      httpStatus: status,
      details,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after"), details),
      transient,
    });
  }
}

function describeNetworkError(error: Error): string {
  // Node's fetch says only "fetch failed"; the socket-level reason is in the cause.
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? ((cause as { code?: string }).code ?? cause.message) : undefined;
  return detail ? `${error.message} (${detail})` : error.message;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? flat.slice(0, 200) + "…" : flat;
}

/** Reads a wait hint: `Retry-After` (seconds or an HTTP date) or a google.rpc.RetryInfo detail ("1.5s"). */
function retryAfterMs(header: string | null, details: unknown[]): number | undefined {
  if (header) {
    if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  for (const detail of details) {
    const retryDelay = (detail as { retryDelay?: unknown } | null)?.retryDelay;
    const match = typeof retryDelay === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(retryDelay) : null;
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}
