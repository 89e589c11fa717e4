// The shape of the Waku service protocols (Metadata, LightPush, Store): on a fresh stream the client sends one
// varint-length-prefixed request, the server answers with one varint-length-prefixed response and closes.
import type { Stream } from "@libp2p/interface";
import { FrameError, FramedStream } from "../p2p/framedStream.js";

/** How long a client may take to send its request. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Where failed requests are reported (throttled: a peer sending garbage must not flood the log). */
export interface RequestResponseLogger {
  warn(fields: Record<string, unknown>): void;
}

/**
 * Reads one request of at most `maxRequestBytes`, answers with what `answer` returns, then closes the stream. A
 * request that is too large, late or cut short aborts the stream (there is no request to answer).
 */
export async function serveOneRequest(
  stream: Stream,
  maxRequestBytes: number,
  answer: (request: Uint8Array) => Promise<Uint8Array>,
  logger: RequestResponseLogger,
  protocol: string,
): Promise<void> {
  const framed = new FramedStream(stream, maxRequestBytes);
  try {
    const request = await framed.read(REQUEST_TIMEOUT_MS);
    if (!request) {
      await stream.close();
      return;
    }
    await framed.write(await answer(request));
    await stream.close();
  } catch (error) {
    // js-waku opens a stream per protocol in advance of a request it may never make: a stream that stays silent
    // until the timeout is that, not a fault worth a warning. It is aborted all the same.
    const silent = framed.receivedBytes === 0 && error instanceof FrameError;
    if (!silent) logger.warn({ protocol, error: String(error) });
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}
