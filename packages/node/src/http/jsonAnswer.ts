// A 200 JSON answer that may be too large to build whole: query pages and batch-query answers are written through it
// envelope by envelope, so what the node holds for a slow reader stays about one envelope beyond the page itself.
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline, type Writable } from "node:stream";
import { createGzip, constants as zlibConstants } from "node:zlib";
import type { EnvelopePage } from "../store/EnvelopeStore.js";
import { QUERY_RESPONSE_HEAD, encodeEnvelope, encodeQueryResponseTail, type ParsedQuery } from "./codec.js";

/**
 * Answers up to this much JSON are built whole and sent with a Content-Length (gzipped whole from GZIP_MIN_BYTES);
 * larger ones are streamed (see JsonAnswer).
 */
const STREAM_MIN_BYTES = 256 * 1024;
/** While streaming, JSON is handed to the socket (or gzip) in pieces of about this size, or one envelope if larger. */
const STREAM_CHUNK_BYTES = 64 * 1024;
const CONNECTION_CLOSE = { connection: "close" } as const;

/** The request an answer belongs to. */
export interface AnswerExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
}

const STREAMED_GZIP_HEADERS = { "content-encoding": "gzip", vary: "accept-encoding" } as const;

/**
 * A 200 JSON answer written piece by piece. Up to STREAM_MIN_BYTES it is only collected, then sent whole with a
 * Content-Length (gzipped whole when large enough and accepted), exactly as answers always were. Past that it is
 * streamed: headers without a length (chunked), gzip through a zlib stream when the client accepts it, and every
 * write that fills the socket's (or gzip's) buffer waits for 'drain', so an answer holds about one envelope's JSON
 * beyond the page the store returned, however slowly it is read. A client that leaves ends the wait at once
 * (`abandoned`); the gzip stream is destroyed with the response.
 */
export class JsonAnswer {
  private pending = "";
  private out: Writable | undefined;

  constructor(
    private readonly exchange: AnswerExchange,
    private readonly options: {
      /** Sends an answer that stayed small, whole (the fast path of small answers). */
      sendWhole: (body: string) => void | Promise<void>;
      /** The node is shutting down (the answer asks the client to close the connection). */
      closing: () => boolean;
      stallMs: number;
      onStalled: () => void;
    },
  ) {}

  /** The client went away or the connection failed: stop producing. */
  get abandoned(): boolean {
    return this.exchange.res.destroyed || (this.out !== undefined && this.out.destroyed);
  }

  /** Adds JSON text; the promise, when there is one, resolves once more may be written. */
  write(text: string): void | Promise<void> {
    this.pending += text;
    if (this.pending.length >= (this.out ? STREAM_CHUNK_BYTES : STREAM_MIN_BYTES)) return this.flush();
  }

  /** A QueryResponse: the same bytes as encodeQueryResponse(page, query). */
  async page(page: EnvelopePage, query: ParsedQuery): Promise<void> {
    const envelopes = page.envelopes;
    for (let i = 0; i < envelopes.length; i++) {
      if (this.abandoned) return;
      const wait = this.write((i === 0 ? QUERY_RESPONSE_HEAD : ",") + encodeEnvelope(envelopes[i]));
      if (wait) await wait;
    }
    const tail = encodeQueryResponseTail(page, query);
    const wait = this.write(envelopes.length === 0 ? QUERY_RESPONSE_HEAD + tail : tail);
    if (wait) await wait;
  }

  end(): void | Promise<void> {
    const body = this.pending;
    this.pending = "";
    if (!this.out) return this.options.sendWhole(body);
    if (!this.abandoned) this.out.end(body);
  }

  private flush(): void | Promise<void> {
    const out = this.out ?? this.start();
    const chunk = this.pending;
    this.pending = "";
    if (this.abandoned) return;
    if (!out.write(chunk)) return this.drained(out);
  }

  private start(): Writable {
    const { req, res, requestId } = this.exchange;
    const gzipped = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    res.writeHead(200, {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "x-request-id": requestId,
      ...(gzipped ? STREAMED_GZIP_HEADERS : undefined),
      ...(this.options.closing() ? CONNECTION_CLOSE : undefined),
    });
    if (!gzipped) return (this.out = res);
    const zipper = createGzip({ level: zlibConstants.Z_BEST_SPEED, chunkSize: 64 * 1024 });
    // Ends the response after the last compressed bytes; a response closed early destroys the gzip stream with it.
    pipeline(zipper, res, () => {});
    return (this.out = zipper);
  }

  /**
   * Resolves on 'drain', or as soon as the response or the gzip stream closes. A reader that lets nothing drain for
   * stallMs has its response destroyed (which closes it, and resolves this).
   */
  private drained(out: Writable): Promise<void> {
    const res = this.exchange.res;
    return new Promise((resolve) => {
      const stalled = setTimeout(() => {
        this.options.onStalled();
        res.destroy();
      }, this.options.stallMs);
      const done = () => {
        clearTimeout(stalled);
        out.off("drain", done);
        out.off("close", done);
        res.off("close", done);
        resolve();
      };
      out.on("drain", done);
      out.on("close", done);
      if (out !== res) res.on("close", done);
    });
  }
}
