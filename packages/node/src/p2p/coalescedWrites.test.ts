import { afterEach, describe, expect, it } from "vitest";
import { tcp } from "@libp2p/tcp";
import type { ComponentLogger, Connection, Logger, MessageStream, MultiaddrConnection, Upgrader } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { Socket } from "node:net";
import {
  MAX_COALESCED_BYTES,
  MIN_FLUSH_INTERVAL_MS,
  coalesceSends,
  coalesceSocketWrites,
  withCoalescedWrites,
} from "./coalescedWrites.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function silentLog(): Logger {
  const log = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {}, newScope: () => log });
  return log as unknown as Logger;
}
const logger: ComponentLogger = { forComponent: () => silentLog() };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Received bytes of a raw connection, concatenated, once at least `length` bytes have arrived. */
function bytesReceived(maConn: MultiaddrConnection, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise((resolve) => {
    maConn.addEventListener("message", (event) => {
      const chunk = Buffer.from(event.data.subarray());
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * A listener and a dialed connection of the real libp2p TCP transport, wrapped for coalescing, with an upgrader that
 * only hands over the raw connections (no encryption or muxing: the test looks at the socket writes themselves).
 */
async function rawConnectionPair() {
  let inbound: (maConn: MultiaddrConnection) => void = () => {};
  const inboundConnection = new Promise<MultiaddrConnection>((resolve) => (inbound = resolve));
  let outboundConnection: MultiaddrConnection | undefined;
  const upgrader = {
    async upgradeInbound(maConn: MultiaddrConnection) {
      inbound(maConn);
    },
    async upgradeOutbound(maConn: MultiaddrConnection) {
      outboundConnection = maConn;
      return {} as Connection;
    },
    createInboundAbortSignal: (signal: AbortSignal) => Object.assign(signal, { clear: () => {} }),
    getStreamMuxers: () => new Map(),
    getConnectionEncrypters: () => new Map(),
  } as unknown as Upgrader;
  const transport = withCoalescedWrites(tcp())({ logger });
  const listener = transport.createListener({ upgrader });
  await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0"));
  cleanup.push(() => listener.close());
  await transport.dial(listener.getAddrs()[0], { upgrader, signal: AbortSignal.timeout(5_000) });
  const dialed = outboundConnection!;
  const accepted = await inboundConnection;
  cleanup.push(() => dialed.abort(new Error("test over")));
  cleanup.push(() => accepted.abort(new Error("test over")));
  return { dialed, accepted };
}

describe("coalesced socket writes", () => {
  it("corks a TCP connection's socket from its first send until the end of the event-loop turn", async () => {
    const { dialed, accepted } = await rawConnectionPair();
    const socket = (dialed as unknown as { socket: unknown }).socket;
    // The libp2p TCP transport must still expose its socket, or the optimisation is silently gone.
    expect(socket).toBeInstanceOf(Socket);
    const received = bytesReceived(accepted, 9);
    dialed.send(Uint8Array.of(1, 2, 3));
    dialed.send(Uint8Array.of(4, 5, 6));
    expect((socket as Socket).writableCorked).toBe(1);
    // Still the same turn (promise jobs included): still corked, once.
    await Promise.resolve();
    dialed.send(Uint8Array.of(7, 8, 9));
    expect((socket as Socket).writableCorked).toBe(1);
    await nextTurn();
    expect((socket as Socket).writableCorked).toBe(0);
    expect([...(await received)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("wraps accepted connections too, and corks again in a later turn", async () => {
    const { dialed, accepted } = await rawConnectionPair();
    const socket = (accepted as unknown as { socket: Socket }).socket;
    const received = bytesReceived(dialed, 4);
    accepted.send(Uint8Array.of(1, 2));
    expect(socket.writableCorked).toBe(1);
    await nextTurn();
    expect(socket.writableCorked).toBe(0);
    accepted.send(Uint8Array.of(3, 4));
    expect(socket.writableCorked).toBe(1);
    expect([...(await received)]).toEqual([1, 2, 3, 4]);
  });

  it("leaves a connection without a Node.js socket as it is", () => {
    const send = () => true;
    const connection = { send } as unknown as MultiaddrConnection;
    expect(coalesceSocketWrites(connection)).toBe(connection);
    expect(connection.send).toBe(send);
  });
});

/** The connection below a muxer, reduced to what coalesceSends uses; records what reaches it. */
function fakeConnection() {
  const sent: number[][] = [];
  const events: string[] = [];
  const connection = {
    status: "open",
    writableNeedsDrain: false,
    failSends: false,
    send(data: Uint8Array) {
      if (connection.failSends) throw new Error("connection is closed");
      sent.push([...data]);
      events.push("send");
      return !connection.writableNeedsDrain;
    },
    async close() {
      events.push("close");
    },
  };
  return { connection, sent, events, stream: connection as unknown as MessageStream };
}

describe("coalesced frames", () => {
  it("passes what is sent during one turn on as one buffer, in order, at the end of the turn", async () => {
    const { sent, stream } = fakeConnection();
    coalesceSends(stream, { minFlushIntervalMs: 0 });
    expect(stream.send(Uint8Array.of(1, 2))).toBe(true);
    // A Uint8ArrayList (as yamux sends a header and its data) is iterable over its chunks.
    stream.send([Uint8Array.of(3), Uint8Array.of(4, 5)] as unknown as Uint8Array);
    await Promise.resolve();
    stream.send(Uint8Array.of(6));
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([[1, 2, 3, 4, 5, 6]]);
    stream.send(Uint8Array.of(7));
    await nextTurn();
    expect(sent).toEqual([[1, 2, 3, 4, 5, 6], [7]]);
  });

  it("under load, flushes no sooner than the interval after the previous flush; after a quiet interval, at once", async () => {
    const { sent, stream } = fakeConnection();
    coalesceSends(stream, { minFlushIntervalMs: 200 });
    stream.send(Uint8Array.of(1));
    await nextTurn();
    expect(sent).toEqual([[1]]);
    const flushedAt = performance.now();
    stream.send(Uint8Array.of(2));
    await nextTurn();
    stream.send(Uint8Array.of(3));
    expect(sent).toEqual([[1]]);
    while (sent.length < 2) await new Promise((resolve) => setTimeout(resolve, 2));
    // Timers run on the event loop's millisecond clock, which can be a little behind performance.now().
    expect(performance.now() - flushedAt).toBeGreaterThanOrEqual(180);
    expect(sent).toEqual([[1], [2, 3]]);
    await new Promise((resolve) => setTimeout(resolve, 205));
    stream.send(Uint8Array.of(4));
    await nextTurn();
    expect(sent).toEqual([[1], [2, 3], [4]]);
  });

  it("holds frames for MIN_FLUSH_INTERVAL_MS by default", async () => {
    expect(MIN_FLUSH_INTERVAL_MS).toBeGreaterThan(0);
    const { sent, stream } = fakeConnection();
    coalesceSends(stream);
    stream.send(Uint8Array.of(1));
    await nextTurn();
    stream.send(Uint8Array.of(2));
    await nextTurn();
    expect(sent).toEqual([[1]]);
    await new Promise((resolve) => setTimeout(resolve, MIN_FLUSH_INTERVAL_MS + 5));
    expect(sent).toEqual([[1], [2]]);
  });

  it("reports the backpressure of the connection below", async () => {
    const { connection, stream } = fakeConnection();
    coalesceSends(stream);
    expect(stream.send(Uint8Array.of(1))).toBe(true);
    connection.writableNeedsDrain = true;
    expect(stream.send(Uint8Array.of(2))).toBe(false);
    await nextTurn();
  });

  it("hands a large burst on at once instead of holding it", () => {
    const { sent, stream } = fakeConnection();
    coalesceSends(stream);
    stream.send(new Uint8Array(MAX_COALESCED_BYTES - 1));
    expect(sent).toHaveLength(0);
    stream.send(Uint8Array.of(9));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toHaveLength(MAX_COALESCED_BYTES);
    expect(sent[0].at(-1)).toBe(9);
  });

  it("passes on what is waiting before closing, and before sends on a connection that is no longer open", async () => {
    const { sent, events, stream } = fakeConnection();
    coalesceSends(stream);
    stream.send(Uint8Array.of(1));
    await stream.close();
    expect(events).toEqual(["send", "close"]);
    expect(sent).toEqual([[1]]);

    const second = fakeConnection();
    coalesceSends(second.stream);
    second.stream.send(Uint8Array.of(1));
    second.connection.status = "closing";
    second.stream.send(Uint8Array.of(2));
    expect(second.sent).toEqual([[1], [2]]);
  });

  it("drops what was waiting when the connection fails before the end of the turn, without an uncaught error", async () => {
    const { connection, sent, stream } = fakeConnection();
    coalesceSends(stream, { minFlushIntervalMs: 0 });
    stream.send(Uint8Array.of(1));
    connection.failSends = true;
    await nextTurn();
    expect(sent).toEqual([]);
    // Still usable afterwards (a fresh turn is scheduled for new data).
    connection.failSends = false;
    stream.send(Uint8Array.of(2));
    await nextTurn();
    expect(sent).toEqual([[2]]);
  });
});
