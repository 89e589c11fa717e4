// Real `xmtp-node` processes joined by the libp2p relay, and HTTP helpers to publish, query and stream through them.
import { createServer } from "node:net";
import { startNode, type RunningNode, type StartNodeOptions } from "../../../../test/support/runningNode.js";
import { post } from "../http/helpers.js";

export interface RelayNode extends RunningNode {
  peerId: string;
  /** The loopback listen address including /p2p/<peer id>. */
  multiaddr: string;
  p2pPort: number;
}

export interface RelayNodeOptions {
  peers?: string[];
  dataDir?: string;
  p2pPort?: number;
  /** A --db value (e.g. a postgres:// URL); SQLite in the data dir when absent. */
  db?: string;
  syncIntervalMs?: number;
  extraArgs?: string[];
  /** Extra environment variables for the node process. */
  env?: Record<string, string>;
}

/** A port that was free a moment ago, for a node that must come back on the same port after a restart. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRelayNode(options: RelayNodeOptions = {}): Promise<RelayNode> {
  const args = [
    "--p2p-host",
    "127.0.0.1",
    "--p2p-port",
    String(options.p2pPort ?? 0),
    "--sync-interval-ms",
    String(options.syncIntervalMs ?? 500),
    ...(options.peers ?? []).flatMap((peer) => ["--peer", peer]),
    ...(options.db ? ["--db", options.db] : []),
    ...(options.extraArgs ?? []),
  ];
  const startOptions: StartNodeOptions = { args, dataDir: options.dataDir, env: options.env };
  const node = await startNode(startOptions);
  const line = node.logs.find((l) => l.includes('"msg":"relay listening"'));
  if (!line) {
    await node.stop();
    throw new Error(`node logged no "relay listening" line:\n${node.logs.join("\n")}`);
  }
  const record = JSON.parse(line) as { peerId: string; multiaddrs: string[] };
  const multiaddr = record.multiaddrs.find((a) => a.startsWith("/ip4/127.0.0.1/tcp/"));
  if (!multiaddr) throw new Error(`no loopback listen address in ${line}`);
  const p2pPort = Number(/\/tcp\/(\d+)\//.exec(multiaddr)![1]);
  return { ...node, peerId: record.peerId, multiaddr, p2pPort };
}

export interface WireEnvelope {
  contentTopic: string;
  timestampNs: string;
  message: string;
}

/** Every envelope of a topic through the public query API, paging ascending until the end. */
export async function queryAll(node: { url: string }, topic: string): Promise<WireEnvelope[]> {
  const all: WireEnvelope[] = [];
  let cursor: unknown;
  for (let page = 0; page < 10_000; page++) {
    const response = await post(node.url, "/message/v1/query", {
      contentTopics: [topic],
      pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING", ...(cursor ? { cursor } : {}) },
    });
    if (response.status !== 200) throw new Error(`query failed: ${response.status} ${JSON.stringify(response.body)}`);
    const envelopes = (response.body.envelopes ?? []) as WireEnvelope[];
    all.push(...envelopes);
    cursor = response.body.pagingInfo?.cursor;
    if (envelopes.length === 0 || !cursor) return all;
  }
  throw new Error("query paging did not end");
}

export interface StreamReader {
  envelopes: WireEnvelope[];
  close(): void;
}

/** Subscribes over HTTP; resolves once the node has answered (the subscription is then registered). */
export async function subscribe(node: { url: string }, topics: string[]): Promise<StreamReader> {
  const abort = new AbortController();
  const response = await fetch(`${node.url}/message/v1/subscribe`, {
    method: "POST",
    body: JSON.stringify({ contentTopics: topics }),
    signal: abort.signal,
  });
  if (response.status !== 200) throw new Error(`subscribe failed with ${response.status}`);
  const envelopes: WireEnvelope[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          const result = JSON.parse(line).result;
          if (result?.message) envelopes.push(result as WireEnvelope);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { envelopes, close: () => abort.abort() };
}

/** Polls `check` until it returns true; the error names what never happened. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** "topic|timestamp|message" keys: equal keys are equal envelopes. */
export const keysOf = (envelopes: WireEnvelope[]) => envelopes.map((e) => `${e.contentTopic}|${e.timestampNs}|${e.message}`);
