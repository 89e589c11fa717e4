// Length-prefixed frames (unsigned varint length, then the frame bytes) over a libp2p stream, the framing libp2p
// protocols conventionally use. Reads are bounded in size and in time so a misbehaving peer cannot stall or bloat us.
// libp2p streams call Promise.withResolvers (Node.js 22+) while reading and draining.
import "./promiseWithResolvers.js";
import type { Stream } from "@libp2p/interface";
import { copyBytes, encodeLengthPrefix } from "./protobufWire.js";

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

const SEND_BATCH_BYTES = 256 * 1024;

export class FramedStream {
  private readonly source: AsyncIterator<Uint8Array | { subarray(): Uint8Array }>;
  // Received bytes not yet returned as frames; joined only once a whole frame is present, so a large frame that
  // arrives in many small chunks is copied once.
  private chunks: Uint8Array[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private received = 0;
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;

  constructor(
    readonly stream: Stream,
    private readonly maxFrameBytes: number,
  ) {
    this.source = stream[Symbol.asyncIterator]();
  }

  /** Bytes received so far, frames and prefixes alike. */
  get receivedBytes(): number {
    return this.received;
  }

  /** Sends one frame now. */
  async write(frame: Uint8Array): Promise<void> {
    await this.queue(frame);
    await this.flush();
  }

  /**
   * Adds a frame to the outgoing batch, sending the batch once it reaches SEND_BATCH_BYTES. Many small frames go out
   * as one muxer frame and one encryption instead of one each.
   */
  async queue(frame: Uint8Array): Promise<void> {
    const prefix = encodeLengthPrefix(frame.length);
    this.outgoing.push(prefix, frame);
    this.outgoingBytes += prefix.length + frame.length;
    if (this.outgoingBytes >= SEND_BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.outgoingBytes === 0) return;
    const batch = concat(this.outgoing, this.outgoingBytes);
    this.outgoing = [];
    this.outgoingBytes = 0;
    if (!this.stream.send(batch)) await this.stream.onDrain();
  }

  /** The next frame, or undefined when the remote closed its side cleanly between frames. */
  async read(timeoutMs: number): Promise<Uint8Array | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.takeFrame();
      if (frame) return frame;
      if (this.ended) {
        if (this.bufferedBytes > 0) throw new FrameError("stream ended in the middle of a frame");
        return undefined;
      }
      await this.pull(deadline - Date.now());
    }
  }

  private byteAt(index: number): number {
    for (const chunk of this.chunks) {
      if (index < chunk.length) return chunk[index];
      index -= chunk.length;
    }
    throw new RangeError("index past buffered bytes");
  }

  private takeFrame(): Uint8Array | undefined {
    let length = 0;
    let prefixLength = 0;
    for (;;) {
      if (prefixLength >= this.bufferedBytes) return undefined;
      if (prefixLength >= 5) throw new FrameError("frame length prefix is longer than 5 bytes");
      const byte = this.byteAt(prefixLength);
      length += (byte & 0x7f) * 2 ** (7 * prefixLength);
      prefixLength++;
      if ((byte & 0x80) === 0) break;
    }
    if (length > this.maxFrameBytes) {
      throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    if (this.bufferedBytes < prefixLength + length) return undefined;
    const whole = this.chunks.length === 1 ? this.chunks[0] : concat(this.chunks, this.bufferedBytes);
    const frame = copyBytes(whole.subarray(prefixLength, prefixLength + length));
    const rest = whole.subarray(prefixLength + length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return frame;
  }

  private async pull(timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0) throw new FrameError("timed out waiting for the peer");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FrameError("timed out waiting for the peer")), timeoutMs);
    });
    try {
      const next = await Promise.race([this.source.next(), timeout]);
      if (next.done) {
        this.ended = true;
        return;
      }
      const chunk = next.value instanceof Uint8Array ? next.value : next.value.subarray();
      if (chunk.length === 0) return;
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
      this.received += chunk.length;
    } finally {
      clearTimeout(timer);
    }
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
