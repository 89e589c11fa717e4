// Adapts a SubscriptionHub listener to a grpc-gateway server stream: HTTP 200 with headers flushed at once, one
// `{"result":Envelope}\n` line per envelope, `{"result":{}}\n` keep-alives (the SDK ignores them; they stop
// Node's fetch from dropping an idle stream after 300 s).
import type { ServerResponse } from "node:http";
import type { Envelope } from "../store/EnvelopeStore.js";
import { formatEnvelope } from "./codec.js";
import { GrpcCode } from "../errors.js";

const KEEP_ALIVE_LINE = Buffer.from('{"result":{}}\n');
/** After a cut-off stream's final line, how long a stalled reader may hold the socket. */
const CUT_OFF_DESTROY_MS = 5_000;

// Every subscriber of a topic gets the same bytes: encode each envelope once per publish, not once per stream.
const lineCache = new WeakMap<Envelope, Buffer>();
function lineOf(envelope: Envelope): Buffer {
  let line = lineCache.get(envelope);
  if (!line) {
    line = Buffer.from(`{"result":${formatEnvelope(envelope)}}\n`);
    lineCache.set(envelope, line);
  }
  return line;
}

export interface EnvelopeStreamOptions {
  keepAliveMs: number;
  maxBufferBytes: number;
  /** Sent as X-Request-Id. */
  requestId: string;
  /** Called once when the response closes, for whatever reason. */
  onClose: () => void;
  /** Called when the stream is cut because the reader is too slow. */
  onCutOff?: (pendingBytes: number) => void;
}

export class EnvelopeStream {
  private ended = false;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: EnvelopeStreamOptions,
  ) {
    res.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "no-cache",
      "access-control-allow-origin": "*",
      "grpc-metadata-subscribed": "true",
      "x-request-id": options.requestId,
    });
    res.flushHeaders();
    // Only an idle stream needs a keep-alive: with bytes still unsent the line would add nothing, and it must never
    // be what pushes a slow reader over its buffer limit (only envelopes that do not fit are refused).
    this.keepAlive = setInterval(() => {
      if (res.writableLength === 0) this.write(KEEP_ALIVE_LINE);
    }, options.keepAliveMs);
    this.keepAlive.unref();
    // The response's close (not the request's) is the moment the client is gone (docs/protocol/api.md §3).
    res.once("close", () => {
      this.ended = true;
      clearInterval(this.keepAlive);
      // The client went away mid-response: release the socket now (a half-closed one would otherwise linger,
      // and hold up server.close(), until the next write fails).
      if (!res.writableFinished) res.destroy();
      options.onClose();
    });
  }

  send(envelope: Envelope): void {
    this.write(lineOf(envelope));
  }

  /** Ends the stream normally (node shutdown). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepAlive);
    this.res.end();
  }

  private write(line: Buffer): void {
    if (this.ended) return;
    const pending = this.res.writableLength;
    // A line always fits an empty buffer (a 1 MiB envelope is a ~1.4 MB line); the bound is cap + one line.
    if (pending > 0 && pending + line.length > this.options.maxBufferBytes) {
      this.cutOff(pending);
      return;
    }
    this.res.write(line);
  }

  private cutOff(pendingBytes: number): void {
    this.ended = true;
    clearInterval(this.keepAlive);
    this.options.onCutOff?.(pendingBytes);
    const error = {
      error: {
        code: GrpcCode.RESOURCE_EXHAUSTED,
        message: `stream closed: the subscriber is too slow (${pendingBytes} bytes not yet read)`,
        details: [],
      },
    };
    // Closing the connection after the final line (rather than keeping it alive) frees its socket buffers too.
    const socket = this.res.socket; // detached from the response once it finishes
    this.res.end(JSON.stringify(error) + "\n", () => socket?.end());
    // A reader that never reads would keep the buffered bytes alive; cut the connection if it does not catch up.
    const destroy = setTimeout(() => this.res.destroy(), CUT_OFF_DESTROY_MS);
    destroy.unref();
    this.res.once("close", () => clearTimeout(destroy));
  }
}
