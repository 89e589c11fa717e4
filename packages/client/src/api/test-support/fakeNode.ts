// A scriptable HTTP server on loopback for transport tests that need answers a real node would not give
// (errors, retry hints, garbage). Each test sets `handle`; every request is recorded.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export type Handler = (request: RecordedRequest, response: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface FakeNode {
  url: string;
  requests: RecordedRequest[];
  handle: Handler;
  /** Resolves when the server has seen `count` requests in total. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

export async function startFakeNode(): Promise<FakeNode> {
  const sockets = new Set<Socket>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const fake: FakeNode = {
    url: "",
    requests: [],
    handle: (_request, response) => sendJson(response, 500, { code: 13, message: "no handler" }),
    waitForRequests(count) {
      if (fake.requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(async (raw, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of raw) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const request: RecordedRequest = { method: raw.method!, path: raw.url!, headers: raw.headers, body, json };
    fake.requests.push(request);
    for (const waiter of waiters.splice(0)) {
      if (fake.requests.length >= waiter.count) waiter.resolve();
      else waiters.push(waiter);
    }
    await fake.handle(request, response, raw);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
