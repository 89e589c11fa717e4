// One request, one answer, on a stream that may misbehave: late, cut short, or silent (js-waku opens streams in
// advance and may never use them; that is aborted without a warning).
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Stream } from "@libp2p/interface";
import { serveOneRequest } from "./requestResponse.js";

/** A stream whose incoming side yields `chunks` and then stays open and silent (or ends, if `end`). */
function fakeStream(chunks: Uint8Array[], end = false) {
  const sent: Uint8Array[] = [];
  const state = { closed: false, aborted: undefined as Error | undefined };
  const stream = {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
      if (!end) await new Promise(() => {});
    },
    send: (bytes: Uint8Array) => (sent.push(bytes), true),
    onDrain: async () => {},
    close: async () => void (state.closed = true),
    abort: (error: Error) => void (state.aborted = error),
  };
  return { stream: stream as unknown as Stream, sent, state };
}

function serve(stream: Stream) {
  const warnings: Record<string, unknown>[] = [];
  const answer = async (request: Uint8Array) => new Uint8Array([...request].reverse());
  const done = serveOneRequest(stream, 16, answer, { warn: (fields) => void warnings.push(fields) }, "/test/1");
  return { done, warnings };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("serveOneRequest", () => {
  it("answers one request and closes", async () => {
    const { stream, sent, state } = fakeStream([new Uint8Array([3, 1, 2, 3])]);
    const { done, warnings } = serve(stream);
    await done;
    expect(Buffer.concat(sent)).toEqual(Buffer.from([3, 3, 2, 1]));
    expect(state).toEqual({ closed: true, aborted: undefined });
    expect(warnings).toEqual([]);
  });

  it("closes quietly when the peer ends without a request", async () => {
    const { stream, sent, state } = fakeStream([], true);
    const { done, warnings } = serve(stream);
    await done;
    expect(sent).toEqual([]);
    expect(state.closed).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("aborts a stream that stays silent until the timeout, without a warning", async () => {
    vi.useFakeTimers();
    const { stream, sent, state } = fakeStream([]);
    const { done, warnings } = serve(stream);
    await vi.advanceTimersByTimeAsync(10_001);
    await done;
    expect(sent).toEqual([]);
    expect(state.aborted?.message).toBe("timed out waiting for the peer");
    expect(warnings).toEqual([]);
  });

  it("aborts with a warning a request cut short by the timeout", async () => {
    vi.useFakeTimers();
    const { stream, state } = fakeStream([new Uint8Array([5, 1])]);
    const { done, warnings } = serve(stream);
    await vi.advanceTimersByTimeAsync(10_001);
    await done;
    expect(state.aborted?.message).toBe("timed out waiting for the peer");
    expect(warnings).toEqual([{ protocol: "/test/1", error: "FrameError: timed out waiting for the peer" }]);
  });

  it("aborts with a warning a request over the size limit", async () => {
    const { stream, sent, state } = fakeStream([new Uint8Array([17, ...new Uint8Array(17)])]);
    const { done, warnings } = serve(stream);
    await done;
    expect(sent).toEqual([]);
    expect(state.aborted?.message).toMatch(/frame of 17 bytes exceeds the limit of 16/);
    expect(warnings).toHaveLength(1);
  });
});
