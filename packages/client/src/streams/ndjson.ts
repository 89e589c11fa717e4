// The subscribe stream's body: one JSON object per line (docs/protocol/api.md §3). `{"result":Envelope}` carries an
// envelope, `{"result":{}}` is a keep-alive; anything else means the stream is broken and must be reconnected.
import { XmtpClientError } from "../errors/XmtpClientError.js";
import { ApiError } from "../api/errors.js";
import { envelopeFromJson, ResponseShapeError } from "../api/json.js";
import type { Envelope } from "../api/types.js";

/** The stream stopped delivering (closed, errored, stalled or garbled); the subscription reconnects. */
export class StreamDroppedError extends XmtpClientError {
  readonly code = "stream_dropped";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StreamDroppedError";
  }
}

/** An envelope is at most ~1 MiB, i.e. ~1.4 M base64 characters; anything far longer is not a real line. */
export const MAX_LINE_LENGTH = 4 * 1024 * 1024;

/** Splits a byte stream into text lines; bytes after the last newline wait for the next chunk. */
export class LineDecoder {
  private readonly decoder = new TextDecoder();
  private partial = "";

  constructor(private readonly maxLineLength = MAX_LINE_LENGTH) {}

  push(chunk: Uint8Array): string[] {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.partial = lines.pop()!;
    if (this.partial.length > this.maxLineLength) {
      throw new StreamDroppedError(`a stream line exceeds ${this.maxLineLength} characters`);
    }
    return lines;
  }
}

function describeLine(line: string): string {
  return JSON.stringify(line.length > 80 ? line.slice(0, 80) + "…" : line);
}

/** Returns the envelope of a line, undefined for a keep-alive or blank line; throws StreamDroppedError otherwise. */
export function parseStreamLine(line: string): Envelope | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new StreamDroppedError(`the stream sent a line that is not JSON: ${describeLine(line)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StreamDroppedError(`the stream sent a line that is not an object: ${describeLine(line)}`);
  }
  const fields = value as Record<string, unknown>;
  if (fields.error !== undefined && fields.error !== null) {
    const error = (typeof fields.error === "object" ? fields.error : { message: String(fields.error) }) as Record<
      string,
      unknown
    >;
    const cause = new ApiError({
      call: "subscribe",
      code: Number.isInteger(error.code) ? (error.code as number) : undefined,
      serverMessage: typeof error.message === "string" ? error.message : "stream error",
      details: Array.isArray(error.details) ? error.details : [],
      transient: true,
    });
    throw new StreamDroppedError(`the node ended the stream: ${cause.message}`, { cause });
  }
  const result = fields.result;
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new StreamDroppedError(`the stream sent a line without a result: ${describeLine(line)}`);
  }
  // Keep-alive: nothing to deliver (the SDK likewise skips results without a message).
  if ((result as Record<string, unknown>).message === undefined) return undefined;
  try {
    return envelopeFromJson(result, "result");
  } catch (error) {
    if (error instanceof ResponseShapeError) {
      throw new StreamDroppedError(`the stream sent a malformed envelope: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
