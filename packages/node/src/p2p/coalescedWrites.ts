// Write coalescing for libp2p connections, at two layers.
//
// Every libp2p message is its own unit all the way down: one gossipsub message is a yamux frame, which Noise
// encrypts into a frame of its own (one AEAD call, and one on the receiver to decrypt it), which the TCP transport
// writes as two buffers, i.e. two syscalls; the receiver answers each yamux data frame with a window update that
// takes the same path back. Relaying one envelope therefore cost a node about four writes and as many Noise frames,
// the largest item in its profile besides gossipsub itself.
//
// 1. Frames (withCoalescedFrames): what the stream muxer sends over the encrypted connection during one event-loop
//    turn is collected and handed to Noise at the end of the turn as one buffer, so a burst of relayed envelopes
//    (a store commit's worth, or everything one read from a peer brought) becomes one Noise frame per 64 KiB.
// 2. Socket writes (withCoalescedWrites): a raw TCP connection's socket is corked from its first write in a turn to
//    the end of that turn, so the Noise frames, their length prefixes and anything else written in between leave in
//    one writev.
//
// "The end of the turn" is setImmediate: it runs after the promise jobs of the current turn (gossipsub publishes and
// forwards in promise jobs) and never waits for I/O (an event loop with a pending immediate does not block in poll).
// Backpressure is unchanged: a held-back send still reports whether the connection below needs draining, a corked
// socket.write() still returns false past its high-water mark, and 'drain' follows the flush.
//
// Under load, frames are also held until MIN_FLUSH_INTERVAL_MS have passed since the previous flush on the same
// connection. A node's cost per relayed envelope is dominated by what it pays per wake-up (a read, a Noise frame,
// yamux and gossipsub dispatch, a store transaction, a forward), not per envelope: at a steady 2 500 envelopes/s,
// the CPU per envelope of the middle node of A - B - C was ~173 us flushing every turn, ~154 us with 4 ms and ~125 us
// with 10 ms, and of the last ~142, ~133 and ~107 us, because every hop then wakes up for tens of envelopes instead of
// a few. A connection that was quiet for the interval flushes at the end of the turn as before, so light traffic
// waits for nothing; under load an envelope waits at most the interval per hop.
import { Socket } from "node:net";
import type {
  Connection,
  CreateListenerOptions,
  DialTransportOptions,
  Listener,
  MessageStream,
  MultiaddrConnection,
  StreamMuxerFactory,
  Transport,
  Upgrader,
} from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";

/**
 * Wraps a transport factory (e.g. `tcp()`) so that the connections it dials and accepts coalesce their writes per
 * event-loop turn. Connections whose transport exposes no Node.js socket are left as they are.
 */
export function withCoalescedWrites<Components>(factory: (components: Components) => Transport): (components: Components) => Transport {
  return (components) => {
    const transport = factory(components);
    const dial = transport.dial.bind(transport);
    const createListener = transport.createListener.bind(transport);
    transport.dial = (address: Multiaddr, options: DialTransportOptions) =>
      dial(address, { ...options, upgrader: coalescingUpgrader(options.upgrader) });
    transport.createListener = (options: CreateListenerOptions): Listener =>
      createListener({ ...options, upgrader: coalescingUpgrader(options.upgrader) });
    return transport;
  };
}

const wrappedUpgraders = new WeakMap<Upgrader, Upgrader>();

/** The same upgrader, except that it turns on write coalescing for each raw connection before upgrading it. */
function coalescingUpgrader(upgrader: Upgrader): Upgrader {
  let wrapped = wrappedUpgraders.get(upgrader);
  if (wrapped) return wrapped;
  const upgradeInbound = (maConn: MultiaddrConnection, options: Parameters<Upgrader["upgradeInbound"]>[1]): Promise<void> =>
    upgrader.upgradeInbound(coalesceSocketWrites(maConn), options as never);
  const upgradeOutbound = (maConn: MultiaddrConnection, options: Parameters<Upgrader["upgradeOutbound"]>[1]): Promise<Connection> =>
    upgrader.upgradeOutbound(coalesceSocketWrites(maConn), options as never);
  wrapped = new Proxy(upgrader, {
    get(target, property) {
      if (property === "upgradeInbound") return upgradeInbound;
      if (property === "upgradeOutbound") return upgradeOutbound;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  wrappedUpgraders.set(upgrader, wrapped);
  return wrapped;
}

/**
 * Makes every `send` on a raw TCP connection cork its socket until the end of the event-loop turn. Returns the same
 * connection. The libp2p TCP connection keeps its Node.js socket in a `socket` field; anything else is returned
 * untouched, so a transport without one (or a future version that hides it) merely loses the optimisation.
 */
export function coalesceSocketWrites<T extends MultiaddrConnection>(maConn: T): T {
  const socket: unknown = (maConn as { socket?: unknown }).socket;
  if (!(socket instanceof Socket)) return maConn;
  const send = maConn.send.bind(maConn);
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  maConn.send = (data) => {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return send(data);
  };
  return maConn;
}

/** Held-back frames are handed on at once when they reach this size (one Noise frame holds 65 519 bytes). */
export const MAX_COALESCED_BYTES = 64 * 1024;
/** The shortest time between two flushes of a connection's held frames (see the top of this file). */
export const MIN_FLUSH_INTERVAL_MS = 10;

export interface CoalesceOptions {
  /** Default MIN_FLUSH_INTERVAL_MS; 0 flushes at the end of every turn. */
  minFlushIntervalMs?: number;
}

/**
 * Wraps a stream muxer factory (e.g. `yamux()`) so that everything a muxer sends during one event-loop turn reaches
 * the connection below it (Noise) in one piece.
 */
export function withCoalescedFrames<Components>(
  factory: (components: Components) => StreamMuxerFactory,
  options: CoalesceOptions = {},
): (components: Components) => StreamMuxerFactory {
  return (components) => {
    const muxerFactory = factory(components);
    const createStreamMuxer = muxerFactory.createStreamMuxer.bind(muxerFactory);
    muxerFactory.createStreamMuxer = (connection) => createStreamMuxer(coalesceSends(connection, options));
    return muxerFactory;
  };
}

/**
 * Makes `send` on a connection collect what it is given until the end of the event-loop turn, but no sooner than
 * `minFlushIntervalMs` after the previous flush (or until MAX_COALESCED_BYTES are waiting), and pass it on as one
 * buffer, in order. Returns the same connection.
 * `close()` first passes on what is waiting; a connection that is no longer open gets each send directly, after
 * what was waiting; if the connection fails before the end of the turn, what was waiting is dropped with it.
 */
export function coalesceSends<T extends MessageStream>(connection: T, options: CoalesceOptions = {}): T {
  const minFlushIntervalMs = options.minFlushIntervalMs ?? MIN_FLUSH_INTERVAL_MS;
  const send = connection.send.bind(connection);
  const close = connection.close.bind(connection);
  let waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  let scheduled = false;
  let lastFlushAt = -Infinity;
  const flush = (): boolean => {
    if (waiting.length === 0) return !connection.writableNeedsDrain;
    const data = waiting.length === 1 ? waiting[0] : Buffer.concat(waiting, waitingBytes);
    waiting = [];
    waitingBytes = 0;
    lastFlushAt = performance.now();
    return send(data);
  };
  const flushAtEndOfTurn = () => {
    scheduled = false;
    try {
      flush();
    } catch {
      // The connection closed or failed during the turn; what was waiting goes with it, as it would have if it had
      // been sent, since the peer never reads it.
    }
  };
  connection.send = (data) => {
    if (connection.status !== "open") {
      flush();
      return send(data);
    }
    if (data instanceof Uint8Array) {
      waiting.push(data);
      waitingBytes += data.byteLength;
    } else {
      for (const chunk of data) {
        waiting.push(chunk);
        waitingBytes += chunk.byteLength;
      }
    }
    if (waitingBytes >= MAX_COALESCED_BYTES) return flush();
    if (!scheduled) {
      scheduled = true;
      const wait = lastFlushAt + minFlushIntervalMs - performance.now();
      if (wait > 0) setTimeout(flushAtEndOfTurn, wait);
      else setImmediate(flushAtEndOfTurn);
    }
    return !connection.writableNeedsDrain;
  };
  connection.close = (options) => {
    try {
      flush();
    } catch {
      // Closing anyway; close() reports the state of the connection.
    }
    return close(options);
  };
  return connection;
}
