// A subscribe or subscribe-all stream read over real HTTP (NDJSON lines, docs/protocol/api.md §3), collecting the
// envelopes it delivers, for tests that watch what reaches subscribers.

export interface StreamedEnvelope {
  contentTopic: string;
  timestampNs: string;
  message: string;
}

export interface EnvelopeStreamReader {
  /** Every envelope delivered so far, in arrival order. */
  readonly envelopes: StreamedEnvelope[];
  /** Resolves once at least `count` envelopes (that `filter` keeps, if given) arrived; fails after 20 s. */
  atLeast(count: number, what: string, filter?: (e: StreamedEnvelope) => boolean): Promise<StreamedEnvelope[]>;
  /** Resolves when the server ends the stream (or it breaks). */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens the stream; resolves once the response headers arrived (the node has registered the subscription). */
export async function openEnvelopeStream(baseUrl: string, path: string, body: unknown): Promise<EnvelopeStreamReader> {
  const controller = new AbortController();
  const response = await fetch(baseUrl + path, { method: "POST", body: JSON.stringify(body), signal: controller.signal });
  if (!response.ok || !response.body) throw new Error(`${path} on ${baseUrl} answered HTTP ${response.status}: ${await response.text()}`);
  const envelopes: StreamedEnvelope[] = [];
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const waker of wakers) waker();
  };
  const reader = response.body.getReader();
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const parsed = JSON.parse(line) as { result?: Partial<StreamedEnvelope> };
          // Keep-alives carry no message.
          if (parsed.result?.message) envelopes.push(parsed.result as StreamedEnvelope);
        }
        wake();
      }
    } catch {
      // aborted or cut: `ended` resolves either way
    } finally {
      wake();
    }
  })();
  return {
    envelopes,
    ended,
    async atLeast(count, what, filter = () => true) {
      const deadline = Date.now() + 20_000;
      let finished = false;
      void ended.then(() => (finished = true));
      for (;;) {
        const kept = envelopes.filter(filter);
        if (kept.length >= count) return kept;
        if (finished) throw new Error(`${what}: the stream ended after ${kept.length} of ${count} envelopes`);
        if (Date.now() > deadline) throw new Error(`${what}: ${kept.length} of ${count} envelopes after 20 s`);
        await new Promise<void>((resolve) => {
          const waker = () => {
            wakers.delete(waker);
            resolve();
          };
          wakers.add(waker);
          setTimeout(waker, 250);
        });
      }
    },
    close: () => controller.abort(),
  };
}
