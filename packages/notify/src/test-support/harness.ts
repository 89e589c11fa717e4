// Shared by the notify tests: an in-process service on a free loopback port with a temporary data dir, a real
// webhook receiver (node:http) that verifies signatures, and small request helpers.
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultNotifyConfig, type NotifyConfig } from "../config.js";
import { startNotifyService, type NotifyComponents, type RunningNotifyService } from "../service.js";

export interface TestService extends RunningNotifyService {
  dataDir: string;
  config: NotifyConfig;
  dispose(): Promise<void>;
}

export async function startTestService(overrides: Partial<NotifyConfig> = {}, components: NotifyComponents = {}): Promise<TestService> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), "xmtp-notify-test-"));
  const config = defaultNotifyConfig({ host: "127.0.0.1", port: 0, dataDir, shutdownGraceMs: 2_000, ...overrides });
  const service = await startNotifyService(config, components);
  return {
    ...service,
    dataDir,
    config,
    async dispose() {
      await service.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; key?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers },
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

export interface ReceivedDelivery {
  path: string;
  headers: IncomingMessage["headers"];
  raw: string;
  body: any;
  signatureValid: boolean;
}

/**
 * A webhook receiver. `respond` chooses each answer's status (default 200); every request is recorded with whether
 * its signature verifies under `secret`, as a real receiver would check it.
 */
export interface WebhookReceiver {
  url: string;
  received: ReceivedDelivery[];
  respond: (delivery: ReceivedDelivery) => number | Promise<number>;
  close(): Promise<void>;
  waitFor(predicate: (received: ReceivedDelivery[]) => boolean, timeoutMs?: number): Promise<void>;
}

export function verifySignature(secret: string, rawBody: string, header: string | undefined): boolean {
  if (!header?.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startReceiver(secret: string): Promise<WebhookReceiver> {
  const received: ReceivedDelivery[] = [];
  const receiver: WebhookReceiver = {
    url: "",
    received,
    respond: () => 200,
    close: async () => {},
    waitFor: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const header = req.headers["x-xmtp-notify-signature"];
      const delivery: ReceivedDelivery = {
        path: req.url ?? "/",
        headers: req.headers,
        raw,
        body,
        signatureValid: verifySignature(secret, raw, typeof header === "string" ? header : undefined),
      };
      received.push(delivery);
      const status = await receiver.respond(delivery);
      if (res.destroyed) return;
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  receiver.waitFor = async (predicate, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(received)) {
      if (Date.now() > deadline) throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms (${received.length} received)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return receiver;
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
