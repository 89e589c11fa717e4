// Live streams for a session's lifetime: restarted (and the failure reported) when one fails, closed with the
// session; and a poll that waits for the node to answer again.
import type { ChatStream } from "../xmtp.js";

/** How long to wait before opening a failed stream again, or asking a silent node again. */
export const RESTART_STREAM_MS = 3000;

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What owns the streams: they run until it closes, and it keeps the open ones so that closing can end them. */
export interface StreamOwner {
  readonly closed: boolean;
  streams: ChatStream<unknown>[];
}

/**
 * Runs a live stream for the owner's lifetime: `onItem` for each item; when the stream fails, `onFailure` and a new
 * stream after RESTART_STREAM_MS.
 */
export function superviseStream<T>(
  owner: StreamOwner,
  open: () => Promise<ChatStream<T>>,
  onItem: (item: T) => void,
  onFailure: (error: unknown) => void,
): void {
  const run = async () => {
    while (!owner.closed) {
      try {
        const stream = await open();
        if (owner.closed) {
          await stream.return(undefined);
          return;
        }
        owner.streams.push(stream as ChatStream<unknown>);
        for await (const item of stream) {
          if (owner.closed) break;
          onItem(item);
        }
        owner.streams = owner.streams.filter((s) => s !== (stream as ChatStream<unknown>));
        if (owner.closed) return;
      } catch (err) {
        if (owner.closed) return;
        onFailure(err);
      }
      await delay(RESTART_STREAM_MS);
    }
  };
  void run();
}

/** Ends the owner's open streams; resolves once they have all stopped (whether or not they ended cleanly). */
export async function closeStreams(owner: StreamOwner): Promise<void> {
  await Promise.allSettled(owner.streams.map((stream) => stream.return(undefined)));
}

/**
 * While `wanted()`, waits RESTART_STREAM_MS and asks `probe`; `onAnswer` each time it resolves (a rejection means
 * no answer yet). Resolves once no longer wanted.
 */
export async function pollUntilUnwanted(wanted: () => boolean, probe: () => Promise<void>, onAnswer: () => void): Promise<void> {
  while (wanted()) {
    await delay(RESTART_STREAM_MS);
    try {
      await probe();
      onAnswer();
    } catch {
      // No answer yet; ask again.
    }
  }
}
