import { once } from "node:events";
import { createServer } from "node:net";

/** A loopback port nothing listens on (it was free a moment ago): for a node or RPC that cannot be reached. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** The URL of such a port: an RPC that is down. */
export async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}
