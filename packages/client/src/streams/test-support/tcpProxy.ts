// A loopback TCP proxy that tests can cut: sever every connection, refuse new ones, freeze traffic without closing
// (a stall), or point at another port (a restarted node).
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export interface TcpProxy {
  url: string;
  /** Points new connections at another port on 127.0.0.1. */
  setTargetPort(port: number): void;
  /** Destroys every open connection, both sides, like a network cut. */
  sever(): void;
  /** While down, connections are accepted and destroyed at once, so clients see a connection reset. */
  setDown(down: boolean): void;
  /** Stops forwarding bytes on the open connections without closing them; new connections are not affected. */
  freeze(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const frozen = new Set<{ client: Socket; upstream: Socket }>();
  let down = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    if (down) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
      frozen.delete(pair);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: TcpProxy = {
    url: `http://127.0.0.1:${port}`,
    setTargetPort(port) {
      targetPort = port;
    },
    sever() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    setDown(value) {
      down = value;
    },
    freeze() {
      for (const pair of pairs) {
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
        frozen.add(pair);
      }
      pairs.clear();
    },
    get accepted() {
      return accepted;
    },
    async close() {
      down = true;
      proxy.sever();
      for (const { client, upstream } of frozen) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
