// Payload compression of EncodedContent (docs/protocol/content.md §4): DEFLATE is the zlib format (RFC 1950) and GZIP
// is RFC 1952, exactly what the web CompressionStream calls "deflate" and "gzip". Those streams exist in Node 18+ and
// in browsers, so no Node-only module is needed.
import { XmtpClientError } from "../errors/XmtpClientError.js";
import { concatBytes } from "@xmtp-ts/crypto";
import { Compression } from "@xmtp-ts/proto";

export { Compression };

/** Default cap on the decompressed size of a received payload, so a small "zip bomb" cannot exhaust memory. */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 10 * 1024 * 1024;

export class DecompressionError extends XmtpClientError {
  readonly code = "decompression_failed";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DecompressionError";
  }
}

export function compressionFormat(compression: number): CompressionFormat {
  if (compression === Compression.DEFLATE) return "deflate";
  if (compression === Compression.GZIP) return "gzip";
  throw new RangeError(
    `unsupported compression ${compression}: expected ${Compression.DEFLATE} (deflate) or ${Compression.GZIP} (gzip)`,
  );
}

function requireStreams(): void {
  if (typeof CompressionStream === "undefined" || typeof DecompressionStream === "undefined") {
    throw new Error("compressed content needs CompressionStream/DecompressionStream (Node.js 18+ or a current browser)");
  }
}

export async function compress(bytes: Uint8Array, compression: number): Promise<Uint8Array> {
  requireStreams();
  return pipe(bytes, new CompressionStream(compressionFormat(compression)), Number.POSITIVE_INFINITY);
}

/** Inflates `bytes`, failing with a DecompressionError on corrupt input or once the output passes `maxSize`. */
export async function decompress(
  bytes: Uint8Array,
  compression: number,
  maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE,
): Promise<Uint8Array> {
  requireStreams();
  const format = compressionFormat(compression);
  try {
    return await pipe(bytes, new DecompressionStream(format), maxSize);
  } catch (error) {
    if (error instanceof DecompressionError) throw error;
    throw new DecompressionError(`invalid ${format} data: ${(error as Error).message}`, { cause: error });
  }
}

async function pipe(
  input: Uint8Array,
  transform: { writable: WritableStream<BufferSource>; readable: ReadableStream<Uint8Array> },
  maxSize: number,
): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  // The write settles only as the output is read, so it is awaited after the read loop; its rejection (corrupt
  // input) is seen by the reader too and must not surface as an unhandled rejection.
  const written = writer.write(input as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => undefined);
  const reader = transform.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxSize) {
      await reader.cancel().catch(() => undefined);
      throw new DecompressionError(`decompressed content exceeds the maximum of ${maxSize} bytes`);
    }
    chunks.push(value);
  }
  await written;
  return chunks.length === 1 ? chunks[0] : concatBytes(...chunks);
}
