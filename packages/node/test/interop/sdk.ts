// Shared helpers for the interop suite: real @xmtp/xmtp-js 13.0.4 clients against a real xmtp-node process.
import { createRequire } from "node:module";
import type * as XmtpSdk from "@xmtp/xmtp-js";
import { Wallet, type HDNodeWallet } from "ethers";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { clusterAsRunningNode, startCluster } from "../../../../test/support/cluster.js";

const require = createRequire(import.meta.url);
// The SDK's ES-module build fails on Node 20 (extensionless imports in @xmtp/proto), so load the CJS build.
export const sdk = require("@xmtp/xmtp-js") as typeof XmtpSdk;

export type SdkClient = XmtpSdk.Client;
export type SdkConversation = XmtpSdk.Conversation;
export type SdkMessage = XmtpSdk.DecodedMessage;

/**
 * Subscribe is fire-and-forget in the SDK (docs/protocol/api.md §3): a stream call returns before its HTTP request reaches
 * the node, so tests give it this long before publishing what the stream must see.
 */
export const STREAM_SETTLE_MS = 1_000;

/** How long a stream may stay silent before a test gives up waiting (a hang guard, not a speed assertion). */
const STREAM_WAIT_MS = 20_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function newWallet(): HDNodeWallet {
  return Wallet.createRandom();
}

export interface ClientOptions {
  publishLegacyContact?: boolean;
  /** Defaults to the node's URL. */
  apiUrl?: string;
}

/**
 * A client with nothing persisted locally: keys live only on the network (privatestore), conversations only in a
 * fresh in-memory store, so a second client of the same wallet must reload everything from the node.
 */
export function createClient(node: RunningNode, wallet: HDNodeWallet, options: ClientOptions = {}): Promise<SdkClient> {
  return sdk.Client.create(wallet, {
    apiUrl: options.apiUrl ?? node.url,
    env: "local",
    persistConversations: false,
    basePersistence: sdk.InMemoryPersistence.create(),
    publishLegacyContact: options.publishLegacyContact,
  });
}

/**
 * The node the suite runs against: one xmtp-node process, or, when vitest's "interop-through-cluster" project sets
 * XMTP_TEST_INTEROP_CLUSTER, three instances over one PostgreSQL behind HAProxy, which must behave as one node.
 */
export async function startInteropNode(args: string[] = []): Promise<RunningNode> {
  if (process.env.XMTP_TEST_INTEROP_CLUSTER) {
    const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;
    if (!postgresUrl) throw new Error("XMTP_TEST_INTEROP_CLUSTER needs XMTP_TEST_POSTGRES_URL (eval \"$(bash .ci/postgres.sh)\")");
    return clusterAsRunningNode(await startCluster({ postgresUrl, args }));
  }
  return startNode({ args });
}

/** The next item of an SDK stream, failing with a clear message instead of hanging the test. */
export async function nextFromStream<T>(
  stream: { next(): Promise<IteratorResult<T>> },
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no ${what} arrived on the stream within ${STREAM_WAIT_MS / 1000} s`)),
      STREAM_WAIT_MS,
    );
  });
  try {
    const result = await Promise.race([stream.next(), timeout]);
    if (result.done) throw new Error(`the stream ended while waiting for ${what}`);
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Collects `count` items from a stream, in arrival order. */
export async function takeFromStream<T>(
  stream: { next(): Promise<IteratorResult<T>> },
  count: number,
  what: string,
): Promise<T[]> {
  const items: T[] = [];
  while (items.length < count) items.push(await nextFromStream(stream, `${what} #${items.length + 1} of ${count}`));
  return items;
}

export function texts(messages: SdkMessage[]): unknown[] {
  return messages.map((m) => m.content);
}

export interface RawEnvelope {
  contentTopic: string;
  timestampNs: string;
  message: string;
}

/**
 * Reads a topic straight from the node's HTTP API (no SDK in between), newest first, to check what the SDK
 * actually stored there.
 */
export async function rawQuery(node: RunningNode, topic: string, limit = 100): Promise<RawEnvelope[]> {
  const response = await fetch(`${node.url}/message/v1/query`, {
    method: "POST",
    body: JSON.stringify({
      contentTopics: [topic],
      pagingInfo: { limit, direction: "SORT_DIRECTION_DESCENDING" },
    }),
  });
  const body = (await response.json()) as { envelopes?: RawEnvelope[] };
  if (!response.ok) throw new Error(`query of ${topic} failed with HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body.envelopes ?? [];
}

export const topics = {
  contact: (address: string) => `/xmtp/0/contact-${address}/proto`,
  privateStore: (address: string) => `/xmtp/0/privatestore-${address}/key_bundle/proto`,
  invite: (address: string) => `/xmtp/0/invite-${address}/proto`,
  intro: (address: string) => `/xmtp/0/intro-${address}/proto`,
};
