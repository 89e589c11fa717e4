// Following one node: its subscribe-all stream (docs/protocol/api.md §2.6, §3), with catch-up by query after every
// (re)connection, a durable cursor, and dedupe by digest in the store.
//
// The rules that make a delivery neither missed nor repeated:
// - Every envelope read (stream or catch-up) goes through store.ingest, which marks its digest seen and enqueues
//   its deliveries in one transaction; an envelope whose digest was seen before (from any node) is skipped.
// - The cursor is the newest envelope timestamp taken in, capped at this service's clock (a client-chosen future
//   timestamp cannot push it ahead). It is written in the same transaction as the envelopes that advance it.
// - On each connection the stream is opened first (the node registers it before answering), then every subscribed
//   topic is queried from cursor − lookback onwards. While that catch-up runs, the cursor is not advanced: stream
//   envelopes newer than the gap must not move it past envelopes of the gap not yet read. It is written once the
//   catch-up has read everything.
// - Ingests of one follower run one at a time, in order; once one fails the session ends (nothing after it is
//   taken in) and the next connection catches up again from the durable cursor.
import { setTimeout as wait } from "node:timers/promises";
import type { Logger } from "./log.js";
import type { NotifyMetrics } from "./metrics.js";
import { envelopeFromJson } from "./envelope.js";
import type { NodeCursor, NotifyEnvelope, NotifyStore } from "./store/NotifyStore.js";

/** Waits `ms`, or less when `signal` aborts first (then resolves too: a stop is not an error here). */
const sleepUnlessAborted = (ms: number, signal: AbortSignal): Promise<unknown> => wait(ms, undefined, { signal }).catch(() => undefined);

export interface FollowerOptions {
  store: NotifyStore;
  metrics: NotifyMetrics;
  logger: Logger;
  /** Called after an ingest enqueued deliveries. */
  onEnqueued: () => void;
  catchUpLookbackMs: number;
  streamIdleTimeoutMs: number;
  reconnectMaxDelayMs: number;
  now?: () => number;
  /** Topics queried at once during catch-up. */
  catchUpConcurrency?: number;
}

const QUERY_PAGE = 100;
const RECONNECT_MIN_MS = 100;
/** Stream batches waiting for the database before the stream is no longer read. */
const MAX_QUEUED_BATCHES = 64;

class SessionEnded extends Error {}

export class NodeFollower {
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private readonly now: () => number;
  /** The highest cursor taken in so far (durable or waiting for a catch-up to finish). */
  private best: NodeCursor | undefined;
  private connected = false;

  constructor(
    readonly nodeUrl: string,
    private readonly options: FollowerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** True while a stream is open and its catch-up has finished. */
  get live(): boolean {
    return this.connected;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { store, logger } = this.options;
    const stopSignal = this.stopController.signal;
    let delay = RECONNECT_MIN_MS;
    while (!stopSignal.aborted) {
      try {
        this.best = await store.getCursor(this.nodeUrl);
        if (!this.best) {
          // First time this node is followed: nothing before now is owed to anyone.
          this.best = { timestampNs: BigInt(this.now()) * 1_000_000n, digest: "", updatedAtMs: this.now() };
          await store.setCursor(this.nodeUrl, this.best);
        }
        const connectedOnce = await this.session();
        if (connectedOnce) delay = RECONNECT_MIN_MS;
      } catch (error) {
        if (!stopSignal.aborted) logger.warn("node stream failed", { node: this.nodeUrl, error: describeError(error) });
      }
      this.connected = false;
      if (stopSignal.aborted) break;
      const wait = Math.round(delay / 2 + (Math.random() * delay) / 2);
      await sleepUnlessAborted(wait, stopSignal);
      delay = Math.min(delay * 2, this.options.reconnectMaxDelayMs);
    }
  }

  /** One connection: returns true when the stream was opened (whatever ended it), throws when it could not be. */
  private async session(): Promise<boolean> {
    const { logger, metrics } = this.options;
    const controller = new AbortController();
    const abort = () => controller.abort();
    this.stopController.signal.addEventListener("abort", abort);
    let idleTimer: NodeJS.Timeout | undefined;
    const resetIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller.abort(new SessionEnded("stream idle")), this.options.streamIdleTimeoutMs);
    };
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown;
    let catchingUp = true;
    let opened = false;
    let catchUp: Promise<void> = Promise.resolve();
    let queued = 0;
    const ingest = (envelopes: NotifyEnvelope[], advanceCursor: boolean): Promise<void> => {
      queued++;
      chain = chain.then(async () => {
        queued--;
        if (failure !== undefined) return;
        try {
          await this.ingest(envelopes, advanceCursor && !catchingUp);
        } catch (error) {
          failure = error;
          controller.abort(error);
        }
      });
      return chain;
    };
    try {
      resetIdle();
      const response = await fetch(this.nodeUrl + "/message/v1/subscribe-all", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`subscribe-all answered HTTP ${response.status}`);
      }
      opened = true;
      metrics.countConnect(this.nodeUrl);
      logger.info("following node", { node: this.nodeUrl, cursorNs: this.best?.timestampNs });
      catchUp = this.catchUp(controller.signal, (envelopes) => ingest(envelopes, false)).then(async () => {
        await chain;
        if (failure !== undefined || controller.signal.aborted) return;
        catchingUp = false;
        // Everything up to the gap's end is in: the cursor may now move to the newest envelope seen.
        await ingest([], true);
        if (failure === undefined) this.connected = true;
        logger.info("caught up with node", { node: this.nodeUrl });
      });
      catchUp = catchUp.catch((error: unknown) => {
        if (failure === undefined && !controller.signal.aborted) failure = error;
        controller.abort(error);
      });
      // Backpressure: with too many stream batches waiting for the database, stop reading until they are in
      // (the node buffers, and past its limit ends the stream; the next connection catches up).
      await this.readStream(response.body, resetIdle, (envelopes) => {
        const done = ingest(envelopes, true);
        return queued > MAX_QUEUED_BATCHES ? done : undefined;
      });
      return true;
    } catch (error) {
      if (this.stopController.signal.aborted) return true;
      if (failure !== undefined) throw failure;
      if (!opened) throw error;
      logger.info("node stream ended; reconnecting", { node: this.nodeUrl, reason: describeError(controller.signal.reason ?? error) });
      return true;
    } finally {
      clearTimeout(idleTimer);
      this.stopController.signal.removeEventListener("abort", abort);
      controller.abort(new SessionEnded("session over"));
      await catchUp;
      await chain;
    }
  }

  private async readStream(
    body: ReadableStream<Uint8Array>,
    onActivity: () => void,
    onEnvelopes: (envelopes: NotifyEnvelope[]) => Promise<void> | undefined,
  ): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      onActivity();
      buffered += decoder.decode(chunk, { stream: true });
      const envelopes: NotifyEnvelope[] = [];
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === "") continue;
        let parsed: { result?: Record<string, unknown>; error?: unknown };
        try {
          parsed = JSON.parse(line);
        } catch {
          throw new Error("the node sent a line that is not JSON");
        }
        if (parsed.error !== undefined) throw new Error(`the node ended the stream: ${JSON.stringify(parsed.error)}`);
        const result = parsed.result;
        if (!result || (result.contentTopic === undefined && result.content_topic === undefined)) continue; // keep-alive
        envelopes.push(envelopeFromJson(result));
      }
      if (envelopes.length > 0) await onEnvelopes(envelopes);
    }
    throw new Error("the node ended the stream");
  }

  /** Queries every subscribed topic from cursor − lookback on, page by page, handing each page to `take`. */
  private async catchUp(signal: AbortSignal, take: (envelopes: NotifyEnvelope[]) => Promise<void>): Promise<void> {
    const topics = await this.options.store.allTopics();
    const lookbackNs = BigInt(this.options.catchUpLookbackMs) * 1_000_000n;
    const cursorNs = this.best?.timestampNs ?? 0n;
    const startNs = cursorNs > lookbackNs ? cursorNs - lookbackNs : 0n;
    let next = 0;
    const worker = async () => {
      while (next < topics.length && !signal.aborted) {
        const topic = topics[next++];
        await this.queryTopic(topic, startNs, signal, take);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.catchUpConcurrency ?? 4, topics.length) }, worker));
    if (signal.aborted) throw new SessionEnded("catch-up interrupted");
  }

  private async queryTopic(
    topic: string,
    startNs: bigint,
    signal: AbortSignal,
    take: (envelopes: NotifyEnvelope[]) => Promise<void>,
  ): Promise<void> {
    let cursor: unknown;
    for (;;) {
      // A node that does not answer a query within the stream idle timeout is treated like a silent stream.
      const response = await fetch(this.nodeUrl + "/message/v1/query", {
        method: "POST",
        headers: { "content-type": "application/json" },
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.streamIdleTimeoutMs)]),
        body: JSON.stringify({
          contentTopics: [topic],
          // 0 means "no bound" to the node, which is what a start of 0 should mean too.
          ...(startNs > 0n ? { startTimeNs: startNs.toString() } : {}),
          pagingInfo: { limit: QUERY_PAGE, direction: "SORT_DIRECTION_ASCENDING", ...(cursor ? { cursor } : {}) },
        }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`query of ${topic} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
      const page = JSON.parse(text) as { envelopes?: unknown[] | null; pagingInfo?: { cursor?: unknown } | null };
      const envelopes = (page.envelopes ?? []).map(envelopeFromJson);
      if (envelopes.length > 0) await take(envelopes);
      cursor = page.pagingInfo?.cursor;
      if (envelopes.length === 0 || !cursor) return;
    }
  }

  private async ingest(envelopes: NotifyEnvelope[], advanceCursor: boolean): Promise<void> {
    const { store, metrics } = this.options;
    const nowMs = this.now();
    const nowNs = BigInt(nowMs) * 1_000_000n;
    let best = this.best;
    for (const envelope of envelopes) {
      const timestampNs = envelope.timestampNs < nowNs ? envelope.timestampNs : nowNs;
      if (!best || timestampNs > best.timestampNs) best = { timestampNs, digest: envelope.digest, updatedAtMs: nowMs };
    }
    this.best = best;
    if (envelopes.length === 0 && !advanceCursor) return;
    const result = await store.ingest(this.nodeUrl, envelopes, advanceCursor ? best : undefined, nowMs);
    metrics.countReceived(this.nodeUrl, result.fresh, result.duplicates);
    metrics.enqueued += result.enqueued;
    if (result.enqueued > 0) this.options.onEnqueued();
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause ? `${error.message} (${cause.code ?? cause.message})` : error.message;
  }
  return String(error);
}
