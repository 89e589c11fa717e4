// A subscription that never misses an envelope and never yields one twice.
//
// The node's stream is best effort: it drops when the connection does, and whatever is published meanwhile is
// never pushed again. So every (re)connection goes: open the stream (the node registers it before answering),
// hold back what it delivers, query each topic from where delivery stopped, deliver what was not delivered yet,
// then release what the stream held back. Everything is deduplicated by sha256(topic ‖ message). A topic change is
// the same move, made before the old stream is closed, so neither old nor new topics lose anything.
//
// A gap query reaches back a clock-skew allowance, so it also finds envelopes the node held before the topic was
// subscribed, which must never be delivered. Before a topic's first stream opens, its recent window is queried and
// those envelopes are remembered as "known before start"; gap queries never go back past that window and skip what
// it held. Whatever arrives after that query is delivered: by the first gap fill or by the stream.
import { XmtpClientError } from "../errors/XmtpClientError.js";
import { backoffDelay, delay } from "../api/delay.js";
import { envelopeDigestHex } from "../api/digests.js";
import { ApiError } from "../api/errors.js";
import { MAX_PAGE_SIZE } from "../api/json.js";
import type { Envelope, QueryParams, SubscribeOptions, Subscription } from "../api/types.js";
import { LineDecoder, parseStreamLine, StreamDroppedError } from "./ndjson.js";
import type { SubscriptionTransport } from "./transport.js";

export interface SubscriptionTuning {
  /**
   * A stream that sends no bytes at all, not even keep-alives, for this long counts as dropped. Our node sends a
   * keep-alive at least every 30 s; default 90 s (Node's fetch would give up silently after 300 s).
   */
  stallTimeoutMs?: number;
  /** First reconnect delay, doubled for each failed attempt in a row; default 100 ms. */
  reconnectInitialDelayMs?: number;
  /** Cap on the reconnect delay; default 5 s. */
  reconnectMaxDelayMs?: number;
  /**
   * Envelope timestamps come from the senders' clocks, so a gap query starts this much before the newest delivered
   * timestamp to catch senders whose clocks lag (repeats are dropped), but never before the topic's start window,
   * whose earlier contents are never delivered. Default 10 s, the SDK's own allowance.
   */
  clockSkewAllowanceMs?: number;
  /** How many recent digests are kept to drop repeats; default 10,000. */
  dedupeWindow?: number;
  /**
   * Envelopes queued for a slow consumer before the stream stops reading. The node buffers after that and drops the
   * stream when its buffer is full; the gap query then catches up. Default 1,000.
   */
  maxQueuedEnvelopes?: number;
  /**
   * Topics per stream: a bigger topic set is split into several streams, merged (GroupedSubscription). Default 5,000
   * (a node's default cap is 10,000 per subscription).
   */
  maxTopicsPerStream?: number;
  /**
   * Recording where topics start costs one query per topic (and a node's read rate limit counts topics), twice
   * with the first gap fill. Above this many new topics at once, their start is instead the moment their stream
   * opens: no queries, at the price that a reconnect within the first clock-skew allowance may deliver an envelope
   * the node held just before. Default 500.
   */
  startSnapshotMaxTopics?: number;
}

export type ResumableSubscriptionOptions = SubscribeOptions & SubscriptionTuning;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface Connection {
  controller: AbortController;
  /** False while the gap is being filled: envelopes wait in `held` so they come after the gap's older ones. */
  live: boolean;
  held: Envelope[];
  /** Set once the stream has stopped, with the reason. */
  endedWith?: unknown;
  /** Resolves with the reason when the stream stops. */
  ended: Promise<unknown>;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;


function isRetryable(error: unknown): boolean {
  return error instanceof StreamDroppedError || (error instanceof ApiError && error.transient);
}

export class SubscriptionClosedError extends XmtpClientError {
  readonly code = "subscription_closed";
  constructor(message = "the subscription was closed") {
    super(message);
    this.name = "SubscriptionClosedError";
  }
}

export class ResumableSubscription implements Subscription {
  /** Resolves once the node has registered the subscription (the first stream is open); rejects if it never will. */
  readonly ready: Promise<void>;

  private readonly stallTimeoutMs: number;
  private readonly reconnectInitialDelayMs: number;
  private readonly reconnectMaxDelayMs: number;
  private readonly skewNs: bigint;
  private readonly dedupeWindow: number;
  private readonly maxQueued: number;
  private readonly startSnapshotMaxTopics: number;
  private readonly startTimeNs: bigint | undefined;
  private readonly onConnectionLost: ((error: unknown) => void) | undefined;

  private topics: Set<string>;
  private generation = 0;
  private liveGeneration = -1;
  private topicsChanged = deferred<void>();
  /** Per topic, the earliest time a gap query reaches back to: the start of the window queried before it opened. */
  private readonly topicStart = new Map<string, bigint>();
  /** Topics whose start has not been recorded yet (done before their first stream opens). */
  private readonly unstarted = new Set<string>();
  /** Topics whose start is their first stream's opening (too many to query): that stream has no gap to fill. */
  private readonly startingAtStream = new Set<string>();
  /** Per topic, digest → timestamp of the envelopes the node held when the topic's start was recorded. */
  private readonly knownBeforeStart = new Map<string, Map<string, bigint>>();
  /** Newest timestamp delivered per topic, never later than when it was delivered (senders' clocks run ahead too). */
  private readonly lastDelivered = new Map<string, bigint>();
  private readonly seen = new Set<string>();

  private readonly queue: Envelope[] = [];
  private readonly readers: Deferred<IteratorResult<Envelope>>[] = [];
  private spaceWaiters: (() => void)[] = [];
  private generationWaiters: { generation: number; done: Deferred<void> }[] = [];
  private readonly readyDeferred = deferred<void>();
  private current: Connection | undefined;
  private readonly closeController = new AbortController();
  private closed = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly transport: SubscriptionTransport,
    topics: string[],
    options: ResumableSubscriptionOptions = {},
  ) {
    this.topics = new Set(checkTopics(topics, "subscribe"));
    this.stallTimeoutMs = positive(options.stallTimeoutMs ?? 90_000, "stallTimeoutMs");
    this.reconnectInitialDelayMs = positive(options.reconnectInitialDelayMs ?? 100, "reconnectInitialDelayMs");
    this.reconnectMaxDelayMs = positive(options.reconnectMaxDelayMs ?? 5_000, "reconnectMaxDelayMs");
    this.skewNs = BigInt(Math.round(nonNegative(options.clockSkewAllowanceMs ?? 10_000, "clockSkewAllowanceMs") * 1e6));
    this.dedupeWindow = positive(options.dedupeWindow ?? 10_000, "dedupeWindow");
    this.maxQueued = positive(options.maxQueuedEnvelopes ?? 1_000, "maxQueuedEnvelopes");
    this.startSnapshotMaxTopics = nonNegative(options.startSnapshotMaxTopics ?? 500, "startSnapshotMaxTopics");
    if (options.startTimeNs !== undefined && (typeof options.startTimeNs !== "bigint" || options.startTimeNs < 0n)) {
      throw new TypeError(`startTimeNs must be a non-negative bigint, got ${String(options.startTimeNs)}`);
    }
    this.startTimeNs = options.startTimeNs;
    this.onConnectionLost = options.onConnectionLost;

    // With a start time the caller asks for everything since then; without, only for what arrives from now on.
    for (const topic of this.topics) {
      if (this.startTimeNs !== undefined) this.topicStart.set(topic, this.startTimeNs);
      else this.unstarted.add(topic);
    }

    this.ready = this.readyDeferred.promise;
    this.ready.catch(() => undefined); // nobody has to watch `ready`
    if (options.signal) {
      if (options.signal.aborted) void this.close();
      else options.signal.addEventListener("abort", () => void this.close(), { once: true });
    }
    void this.run();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Envelope>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.queue.length < this.maxQueued) this.releaseSpace();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    const reader = deferred<IteratorResult<Envelope>>();
    this.readers.push(reader);
    return reader.promise;
  }

  async return(): Promise<IteratorResult<Envelope>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Stops the subscription: aborts the stream and ends the iteration. */
  async close(): Promise<void> {
    this.shutDown(new SubscriptionClosedError());
    this.queue.length = 0;
  }

  /**
   * Switches to a new topic set. The new stream is opened and the gap filled before the old stream closes, so
   * nothing published on old or new topics meanwhile is lost. Resolves once the new stream is live.
   */
  updateTopics(topics: string[]): Promise<void> {
    const next = new Set(checkTopics(topics, "updateTopics"));
    if (this.closed) return Promise.reject(new SubscriptionClosedError("updateTopics on a closed subscription"));
    const same = next.size === this.topics.size && [...next].every((topic) => this.topics.has(topic));
    if (!same) {
      for (const topic of next) if (!this.topics.has(topic)) this.unstarted.add(topic);
      for (const topic of this.topics) {
        if (next.has(topic)) continue;
        this.topicStart.delete(topic);
        this.unstarted.delete(topic);
        this.knownBeforeStart.delete(topic);
        this.lastDelivered.delete(topic);
        this.startingAtStream.delete(topic);
      }
      this.topics = next;
      this.generation++;
      const changed = this.topicsChanged;
      this.topicsChanged = deferred<void>();
      changed.resolve();
    }
    return this.whenLive(this.generation);
  }

  /** The topics currently subscribed to. */
  get contentTopics(): string[] {
    return [...this.topics];
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const generation = this.generation;
      const topics = [...this.topics];
      const topicsChanged = this.topicsChanged.promise;
      let connection: Connection | undefined;
      let retryAfterMs = 0;
      try {
        await this.recordStart(topics.filter((topic) => this.unstarted.has(topic)));
        if (this.closed) break;
        connection = await this.connect(topics);
        // Even the first stream fills the gap: what arrived while it was being opened belongs to it.
        await this.fillGap(topics.filter((topic) => !this.startingAtStream.has(topic)));
        if (this.closed) break;
        if (connection.endedWith !== undefined) throw connection.endedWith;
        this.goLive(connection);
        for (const topic of topics) this.startingAtStream.delete(topic);
        this.markLive(generation);
        failures = 0;
        const outcome = await Promise.race([
          connection.ended.then((reason) => ({ dropped: reason })),
          topicsChanged.then(() => undefined),
        ]);
        // New topics: connect again; this stream stays up until the next one is live.
        if (outcome === undefined) continue;
        if (this.closed) break;
        if (this.current === connection) this.current = undefined;
        this.connectionLost(outcome.dropped);
      } catch (error) {
        if (connection && connection !== this.current) connection.controller.abort(error);
        if (this.closed) break;
        if (!isRetryable(error)) {
          this.fail(error);
          break;
        }
        if (error instanceof ApiError && error.retryAfterMs !== undefined) retryAfterMs = error.retryAfterMs;
        this.connectionLost(error);
      }
      failures++;
      try {
        await delay(
          Math.max(retryAfterMs, backoffDelay(failures, this.reconnectInitialDelayMs, this.reconnectMaxDelayMs)),
          this.closeController.signal,
        );
      } catch {
        break;
      }
    }
  }

  private async connect(topics: string[]): Promise<Connection> {
    const controller = new AbortController();
    const abortOnClose = () => controller.abort(this.closeController.signal.reason);
    this.closeController.signal.addEventListener("abort", abortOnClose, { once: true });
    const headersTimer = setTimeout(
      () => controller.abort(new StreamDroppedError(`the node did not answer the subscribe within ${this.stallTimeoutMs} ms`)),
      this.stallTimeoutMs,
    );
    try {
      const body = await this.transport.openStream(topics, controller.signal);
      clearTimeout(headersTimer);
      const connection: Connection = { controller, live: false, held: [], ended: Promise.resolve(undefined) };
      connection.ended = this.read(connection, body).then((reason) => {
        connection.endedWith = reason;
        this.closeController.signal.removeEventListener("abort", abortOnClose);
        return reason;
      });
      return connection;
    } catch (error) {
      clearTimeout(headersTimer);
      this.closeController.signal.removeEventListener("abort", abortOnClose);
      throw controller.signal.aborted && controller.signal.reason !== undefined ? controller.signal.reason : error;
    }
  }

  /** Reads the stream until it stops; resolves (never rejects) with the reason it stopped. */
  private async read(connection: Connection, body: ReadableStream<Uint8Array>): Promise<unknown> {
    const reader = body.getReader();
    const lines = new LineDecoder();
    let stalled: StreamDroppedError | undefined;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    try {
      for (;;) {
        stallTimer = setTimeout(() => {
          stalled = new StreamDroppedError(`the stream sent nothing for ${this.stallTimeoutMs} ms`);
          connection.controller.abort(stalled);
        }, this.stallTimeoutMs);
        const { done, value } = await reader.read();
        clearTimeout(stallTimer);
        if (done) return new StreamDroppedError("the node closed the stream");
        for (const line of lines.push(value)) {
          const envelope = parseStreamLine(line);
          if (!envelope) continue;
          if (connection.live) this.deliver(envelope);
          else connection.held.push(envelope);
        }
        // A slow consumer: stop reading so TCP pushes back on the node instead of our memory growing.
        while (connection.live && this.queue.length >= this.maxQueued && !this.closed) {
          await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
        }
      }
    } catch (error) {
      if (stalled) return stalled;
      const signal = connection.controller.signal;
      if (signal.aborted && signal.reason !== undefined) return signal.reason;
      if (error instanceof StreamDroppedError) return error;
      return new StreamDroppedError(`the stream failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    } finally {
      clearTimeout(stallTimer);
      reader.cancel().catch(() => undefined);
    }
  }

  /**
   * Records where `topics` start: the window a gap query could reach back to, and what the node already holds in
   * it, which no gap query will deliver. Runs before their stream opens, so nothing that arrives later is in it.
   */
  private async recordStart(topics: string[]): Promise<void> {
    if (topics.length === 0) return;
    const start = this.maxWithStart(nowNs() - this.skewNs);
    if (topics.length > this.startSnapshotMaxTopics) {
      for (const topic of topics) {
        this.topicStart.set(topic, start);
        this.unstarted.delete(topic);
        this.startingAtStream.add(topic);
      }
      return;
    }
    const held = await this.queryFrom(topics.map((topic) => ({ topic, start })));
    topics.forEach((topic, i) => {
      // updateTopics may have dropped the topic while it was being queried.
      if (!this.topics.has(topic) || !this.unstarted.has(topic)) return;
      const known = new Map<string, bigint>();
      for (const envelope of held[i]) known.set(envelopeDigestHex(envelope), envelope.timestampNs);
      if (known.size > 0) this.knownBeforeStart.set(topic, known);
      this.topicStart.set(topic, start);
      this.unstarted.delete(topic);
    });
  }

  /** Queries every topic from where its delivery stopped and delivers, in order, what was not delivered yet. */
  private async fillGap(topics: string[]): Promise<void> {
    const ranges = topics.map((topic) => ({ topic, start: this.gapStart(topic) }));
    for (const { topic, start } of ranges) this.forgetKnownBefore(topic, start);
    const results = await this.queryFrom(ranges);
    for (const envelopes of results) for (const envelope of envelopes) this.deliver(envelope);
  }

  /** Every envelope of each topic from its start time on, oldest first, one array per topic. */
  private async queryFrom(ranges: { topic: string; start: bigint }[]): Promise<Envelope[][]> {
    const queries: QueryParams[] = ranges.map(({ topic, start }) => {
      const query: QueryParams = { contentTopic: topic, direction: "ascending", pageSize: MAX_PAGE_SIZE };
      if (start > 0n) query.startTimeNs = start;
      return query;
    });
    if (queries.length === 0) return [];
    const firstPages = await this.transport.batchQueryPages(queries);
    const results = await Promise.all(
      firstPages.map(async (page, i) => {
        const envelopes = [...page.envelopes];
        let cursor = page.cursor;
        if (!cursor && envelopes.length >= MAX_PAGE_SIZE) {
          // A node that gives no cursors in batch answers: page this topic again with plain queries.
          envelopes.length = 0;
          const first = await this.transport.query(queries[i]);
          envelopes.push(...first.envelopes);
          cursor = first.cursor;
        }
        while (cursor) {
          const next = await this.transport.query({ ...queries[i], cursor });
          if (next.envelopes.length === 0) break;
          envelopes.push(...next.envelopes);
          cursor = next.cursor;
        }
        return envelopes;
      }),
    );
    return results;
  }

  /** Never before the topic's start: what the node held before that was there before the subscription. */
  private gapStart(topic: string): bigint {
    const floor = this.topicStart.get(topic) ?? this.maxWithStart(nowNs() - this.skewNs);
    const last = this.lastDelivered.get(topic);
    return last !== undefined && last - this.skewNs > floor ? last - this.skewNs : floor;
  }

  /** Gap queries only move forward, so what the start window held before `start` can never come back. */
  private forgetKnownBefore(topic: string, start: bigint): void {
    const known = this.knownBeforeStart.get(topic);
    if (!known) return;
    for (const [digest, timestampNs] of known) if (timestampNs < start) known.delete(digest);
    if (known.size === 0) this.knownBeforeStart.delete(topic);
  }

  private maxWithStart(time: bigint): bigint {
    const floor = this.startTimeNs ?? 0n;
    return time > floor ? time : floor;
  }

  private goLive(connection: Connection): void {
    const previous = this.current;
    this.current = connection;
    for (const envelope of connection.held) this.deliver(envelope);
    connection.held = [];
    connection.live = true;
    if (previous && previous !== connection) previous.controller.abort(new StreamDroppedError("replaced"));
  }

  private deliver(envelope: Envelope): void {
    if (this.closed || !this.topics.has(envelope.contentTopic)) return;
    if (this.startTimeNs !== undefined && envelope.timestampNs < this.startTimeNs) return;
    const key = envelopeDigestHex(envelope);
    if (this.seen.has(key) || this.knownBeforeStart.get(envelope.contentTopic)?.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > this.dedupeWindow) this.seen.delete(this.seen.values().next().value!);
    // A sender whose clock runs ahead must not push the next gap query past envelopes that arrive after this one.
    const now = nowNs();
    const deliveredAt = envelope.timestampNs < now ? envelope.timestampNs : now;
    const last = this.lastDelivered.get(envelope.contentTopic);
    if (last === undefined || deliveredAt > last) this.lastDelivered.set(envelope.contentTopic, deliveredAt);
    const reader = this.readers.shift();
    if (reader) reader.resolve({ value: envelope, done: false });
    else this.queue.push(envelope);
  }

  private markLive(generation: number): void {
    this.liveGeneration = Math.max(this.liveGeneration, generation);
    this.readyDeferred.resolve();
    const waiting = this.generationWaiters;
    this.generationWaiters = [];
    for (const waiter of waiting) {
      if (waiter.generation <= this.liveGeneration) waiter.done.resolve();
      else this.generationWaiters.push(waiter);
    }
  }

  private whenLive(generation: number): Promise<void> {
    if (this.liveGeneration >= generation) return Promise.resolve();
    const done = deferred<void>();
    this.generationWaiters.push({ generation, done });
    return done.promise;
  }

  private connectionLost(error: unknown): void {
    try {
      this.onConnectionLost?.(error);
    } catch {
      // A failing callback must not stop the subscription from reconnecting.
    }
  }

  private releaseSpace(): void {
    const waiting = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiting) resolve();
  }

  /** A failure that reconnecting cannot fix (e.g. the node rejects the topics): the iteration throws it. */
  private fail(error: unknown): void {
    this.shutDown(error);
    const reader = this.readers.shift();
    if (reader) reader.reject(error);
    else this.failure = { error };
  }

  private shutDown(reason: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.closeController.abort(reason);
    this.current?.controller.abort(reason);
    this.current = undefined;
    this.releaseSpace();
    this.readyDeferred.reject(reason);
    for (const waiter of this.generationWaiters) waiter.done.reject(reason);
    this.generationWaiters = [];
    // `fail` hands the error to the first waiting reader; the others (and `close`) just end.
    const readers = reason instanceof SubscriptionClosedError ? this.readers.splice(0) : this.readers.splice(1);
    for (const reader of readers) reader.resolve({ value: undefined, done: true });
  }
}

function checkTopics(topics: unknown, call: string): string[] {
  if (!Array.isArray(topics) || topics.length === 0) {
    throw new TypeError(`${call} needs a non-empty array of content topics`);
  }
  topics.forEach((topic, i) => {
    if (typeof topic !== "string" || topic.length === 0) {
      throw new TypeError(`${call}: topics[${i}] must be a non-empty string`);
    }
  });
  return topics as string[];
}

function positive(value: number, name: string): number {
  if (!(typeof value === "number" && value > 0 && Number.isFinite(value))) {
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(typeof value === "number" && value >= 0 && Number.isFinite(value))) {
    throw new RangeError(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}
