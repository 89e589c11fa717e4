import { once } from "node:events";
import { createServer } from "node:net";

/** The URL of a loopback port nothing listens on (it was free a moment ago): an RPC that is down. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}`;
}
