// A TCP proxy between the service and a node, for the connection-fault tests: cut() drops every connection open
// now; blackHole() makes every connection open now silently swallow what the node sends (a half-dead connection,
// as after a NAT timeout); hold() delays chosen requests (catch-up queries). New connections always work.
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  url: string;
  connections(): number;
  cut(): void;
  blackHole(): void;
  /** Holds back every request (from now on) whose bytes contain `marker`, and what follows it, until release(). */
  hold(marker: string): void;
  release(): void;
  /** Requests held back so far. */
  held(): number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<{ client: Socket; upstream: Socket; swallowed: boolean; held: Buffer[] | undefined }>();
  let marker: string | undefined;
  let heldCount = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const pair = { client, upstream, swallowed: false, held: undefined as Buffer[] | undefined };
    pairs.add(pair);
    client.on("data", (data: Buffer) => {
      if (!pair.held && marker !== undefined && data.includes(marker)) {
        pair.held = [];
        heldCount++;
      }
      if (pair.held) pair.held.push(data);
      else upstream.write(data);
    });
    upstream.on("data", (data) => {
      if (!pair.swallowed) client.write(data);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cut = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => pairs.size,
    cut,
    blackHole() {
      for (const pair of pairs) pair.swallowed = true;
    },
    hold(text) {
      marker = text;
    },
    release() {
      marker = undefined;
      for (const pair of pairs) {
        const held = pair.held;
        pair.held = undefined;
        for (const data of held ?? []) pair.upstream.write(data);
      }
    },
    held: () => heldCount,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
