// In-process libp2p peers running the relay and catch-up against in-memory stores.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { startNetwork, type Network } from "./network.js";
import { silentLogger } from "./p2p/logger.js";
import { WAKU_PUBSUB_TOPIC, WAKU_RELAY_PROTOCOL, WakuRelay, envelopeToWakuMessageBytes } from "./relay/wakuRelay.js";
import { WAKU_RELAY_PING_CONTENT_TOPIC } from "./relay/relayTopics.js";
import { encodeWakuMessage } from "./relay/wakuMessage.js";
import { MemoryIngest, MemoryStore, envelopeDigestOf } from "./p2p/test-support/memoryNode.js";
import { startBareRelayHost } from "./relay/test-support/bareRelayHost.js";
import { SYNC_STATE_FILE } from "./sync/syncState.js";
import { SYNC_PROTOCOL } from "./sync/syncMessages.js";
import { MAX_INBOUND_SYNC_STREAMS } from "./sync/syncServer.js";
import type { Envelope } from "./store/EnvelopeStore.js";
import { withDigest } from "./store/digest.js";

interface TestPeer {
  network: Network;
  store: MemoryStore;
  ingest: MemoryIngest;
  dataDir: string;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "xmtp-relay-test-"));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startPeer(options: { peers?: string[]; dataDir?: string; store?: MemoryStore; port?: number; syncIntervalMs?: number } = {}): Promise<TestPeer> {
  const store = options.store ?? new MemoryStore();
  const ingest = new MemoryIngest(store);
  const dataDir = options.dataDir ?? tempDir();
  const network = await startNetwork({
    dataDir,
    listenHost: "127.0.0.1",
    listenPort: options.port ?? 0,
    peers: options.peers ?? [],
    store,
    ingest,
    logger: silentLogger,
    syncIntervalMs: options.syncIntervalMs ?? 0,
    syncPageSize: 100,
    dialBackoff: { initialMs: 50, maxMs: 400 },
  });
  cleanup.push(() => network.stop());
  return { network, store, ingest, dataDir };
}

let counter = 0;
function makeEnvelope(topic = "/xmtp/0/m-relay-test/proto", size = 32): Envelope {
  counter++;
  const message = new Uint8Array(size);
  new DataView(message.buffer).setUint32(0, counter);
  return { contentTopic: topic, timestampNs: 1_795_659_984_974_000_000n + BigInt(counter) * 1_000_000n, message };
}

/** A local publish at `peer`: stored there, then broadcast, as the node's ingest does. */
async function publishAt(peer: TestPeer, envelopes: Envelope[]): Promise<void> {
  await peer.ingest.ingest(envelopes, "local");
  await peer.network.broadcast(envelopes);
}

async function connected(a: TestPeer, b: TestPeer): Promise<void> {
  const deadline = Date.now() + 15_000;
  // Gossipsub forwards only to peers that told it they subscribe to the topic.
  while (!a.network.libp2p.services.pubsub.getSubscribers(WAKU_PUBSUB_TOPIC).some((p) => p.toString() === b.network.peerId)) {
    if (Date.now() > deadline) throw new Error("peers did not see each other's subscription");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const contains = (delivered: Envelope[], envelope: Envelope) =>
  delivered.some((d) => d.contentTopic === envelope.contentTopic && d.timestampNs === envelope.timestampNs && sameBytes(d.message, envelope.message));

describe("relay between two in-process peers", () => {
  it("speaks /vac/waku/relay/2.0.0 and delivers envelopes with their timestamps, storing only non-ephemeral ones", async () => {
    const a = await startPeer();
    const b = await startPeer({ peers: [a.network.multiaddrs[0]] });
    await connected(a, b);
    expect(a.network.libp2p.services.pubsub.protocols).toEqual([WAKU_RELAY_PROTOCOL]);
    const connection = b.network.libp2p.getConnections()[0];
    expect(connection.remotePeer.toString()).toBe(a.network.peerId);

    const stored = makeEnvelope();
    const ephemeral = makeEnvelope("/xmtp/0/mE-relay-test/proto");
    await publishAt(a, [stored, ephemeral]);
    await b.ingest.until((d) => contains(d, stored) && contains(d, ephemeral), "both envelopes at B");
    expect(b.store.rows.map((r) => r.envelope.contentTopic)).toEqual([stored.contentTopic]);
    expect(b.store.rows[0].envelope.timestampNs).toBe(stored.timestampNs);
    expect(b.store.rows[0].envelope.digest).toEqual(envelopeDigestOf(stored));
    // The relay hands the digest it computed while validating to the ingest (checked there), which then need not
    // hash the envelope again.
    expect(b.ingest.carriedDigests).toBe(1);
    expect(b.network.relay.stats.received).toBe(2);
  });

  it("keeps its peer id across restarts and reconnects to a static peer that comes back", async () => {
    const aDir = tempDir();
    let a = await startPeer({ dataDir: aDir });
    const aPort = Number(multiaddr(a.network.multiaddrs[0]).getComponents().find((c) => c.name === "tcp")!.value);
    const firstId = a.network.peerId;
    // Without /p2p/: the dialer learns the peer id from the handshake.
    const b = await startPeer({ peers: [`/ip4/127.0.0.1/tcp/${aPort}`] });
    await connected(b, a);

    await a.network.stop();
    a = await startPeer({ dataDir: aDir, port: aPort });
    expect(a.network.peerId).toBe(firstId);
    await connected(b, a);
    await connected(a, b);

    const envelope = makeEnvelope();
    await publishAt(a, [envelope]);
    await b.ingest.until((d) => contains(d, envelope), "the envelope at B after A restarted");
  });

  it("drops malformed relay messages from a rogue peer, stores none of them, and keeps relaying", async () => {
    const a = await startPeer();
    const b = await startPeer({ peers: [a.network.multiaddrs[0]] });
    const rogue = await relayHost();
    rogue.services.pubsub.subscribe(WAKU_PUBSUB_TOPIC);
    await rogue.dial(multiaddr(a.network.multiaddrs[0]));
    await connected(a, b);
    // A forwards what it receives to the peers in its mesh at once, to others only by gossip at a later heartbeat:
    // wait for B to be in A's mesh, so the good envelope's way to B does not hang on heartbeats of a busy machine.
    const meshDeadline = Date.now() + 15_000;
    const meshOf = (peer: TestPeer) => (peer.network.libp2p.services.pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(WAKU_PUBSUB_TOPIC);
    while (!meshOf(a).includes(b.network.peerId)) {
      if (Date.now() > meshDeadline) throw new Error("B did not join A's mesh");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const deadline = Date.now() + 15_000;
    while (!rogue.services.pubsub.getSubscribers(WAKU_PUBSUB_TOPIC).some((p) => p.toString() === a.network.peerId)) {
      if (Date.now() > deadline) throw new Error("rogue did not see A's subscription");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const bad = [
      Uint8Array.of(0xff, 0xff, 0xff),
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "/xmtp/0/m-x/proto" }),
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "/not/xmtp", timestamp: 5n }),
      encodeWakuMessage({ payload: new Uint8Array(0), contentTopic: "/xmtp/0/m-x/proto", timestamp: 5n }),
      encodeWakuMessage({ payload: new Uint8Array(1024 * 1024 + 1), contentTopic: "/xmtp/0/m-x/proto", timestamp: 5n }),
    ];
    // A well-formed envelope from the same peer is relayed (sent first: after the bad ones, gossipsub may rightly
    // stop listening to a peer that sent garbage, which is not what this test is about).
    const good = makeEnvelope();
    await rogue.services.pubsub.publish(WAKU_PUBSUB_TOPIC, envelopeToWakuMessageBytes(good));
    await b.ingest.until((d) => contains(d, good), "the good envelope relayed through A to B");

    for (const bytes of bad) await rogue.services.pubsub.publish(WAKU_PUBSUB_TOPIC, bytes);
    const droppedBy = Date.now() + 15_000;
    while (a.network.relay.stats.dropped < bad.length && Date.now() < droppedBy) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.network.relay.stats.dropped).toBe(bad.length);
    expect(a.store.rows.map((r) => r.envelope.contentTopic)).toEqual([good.contentTopic]);
    expect(b.store.rows).toHaveLength(1);

    // A is still healthy for its honest peers.
    const after = makeEnvelope();
    await publishAt(a, [after]);
    await b.ingest.until((d) => contains(d, after), "a later envelope at B");
  });
});

describe("catch-up sync between two in-process peers", () => {
  it("pulls a peer's whole store on connect and resumes from the remembered sequence after a restart", async () => {
    const a = await startPeer();
    const initial = Array.from({ length: 1234 }, () => makeEnvelope(`/xmtp/0/m-sync-${counter % 7}/proto`));
    await a.ingest.ingest(initial, "local");
    await a.ingest.ingest([makeEnvelope("/xmtp/0/mE-never-stored/proto")], "local");

    const bDir = tempDir();
    let b = await startPeer({ dataDir: bDir, peers: [a.network.multiaddrs[0]] });
    await b.ingest.until((d) => d.length === initial.length, "the initial envelopes at B");
    await b.network.catchUp.idle();
    expect(b.store.rows.map((r) => r.envelope.message)).toEqual(initial.map((e) => e.message));
    expect(b.store.rows.map((r) => r.envelope.timestampNs)).toEqual(initial.map((e) => e.timestampNs));
    const saved = JSON.parse(readFileSync(join(bDir, SYNC_STATE_FILE), "utf8"));
    expect(saved.peers[a.network.peerId]).toBe(String(initial.length));

    await b.network.stop();
    const missed = Array.from({ length: 10 }, () => makeEnvelope());
    await a.ingest.ingest(missed, "local");

    b = await startPeer({ dataDir: bDir, store: b.store, peers: [a.network.multiaddrs[0]] });
    await b.ingest.until((d) => missed.every((m) => contains(d, m)), "the missed envelopes at B");
    await b.network.catchUp.idle();
    // Only the ten new envelopes crossed the wire: the pull started at the saved sequence.
    expect(b.network.catchUp.stats.envelopesReceived).toBe(10);
    // Each with the digest catch-up checked it against.
    expect(b.ingest.carriedDigests).toBe(10);
    expect(b.store.rows).toHaveLength(initial.length + missed.length);
  });

  it("does not download again what gossip already delivered", async () => {
    const a = await startPeer();
    const b = await startPeer({ peers: [a.network.multiaddrs[0]] });
    await connected(a, b);
    await b.network.catchUp.idle();
    const gossiped = Array.from({ length: 30 }, () => makeEnvelope());
    await publishAt(a, gossiped);
    await b.ingest.until((d) => gossiped.every((e) => contains(d, e)), "the gossiped envelopes at B");
    // Let the relay finish its bookkeeping for the batch it just stored (microtasks after the store write).
    await new Promise((resolve) => setImmediate(resolve));
    const receivedBefore = b.network.catchUp.stats.envelopesReceived;
    await b.network.catchUp.syncAll();
    expect(b.network.catchUp.stats.envelopesReceived).toBe(receivedBefore);
    expect(b.network.catchUp.stats.envelopesSkipped).toBeGreaterThanOrEqual(gossiped.length);
    expect(b.store.rows).toHaveLength(gossiped.length);
  });

  it("does not pull back from a peer what its own store holds, however long ago it was stored", async () => {
    // Stored before this process knew of them (as after a restart): not among the recent digests, only in the store.
    const store = new MemoryStore();
    const old = Array.from({ length: 300 }, () => withDigest(makeEnvelope(`/xmtp/0/m-old-${counter % 5}/proto`)));
    await store.append(old);
    const a = await startPeer({ store });
    const b = await startPeer({ peers: [a.network.multiaddrs[0]] });
    await b.ingest.until((d) => d.length === old.length, "A's store at B");
    await b.network.catchUp.idle();
    // A now pulls from B, which offers the 300 envelopes it got from A: none may cross the wire back.
    await a.network.catchUp.syncAll();
    expect(a.network.catchUp.stats.pulls).toBeGreaterThan(0);
    expect(a.network.catchUp.stats.envelopesReceived).toBe(0);
    expect(a.network.catchUp.stats.envelopesSkipped).toBe(old.length);
    expect(store.rows).toHaveLength(old.length);
  });

  it("anti-entropy fetches what gossip missed", async () => {
    const a = await startPeer();
    const b = await startPeer({ peers: [a.network.multiaddrs[0]], syncIntervalMs: 200 });
    await connected(a, b);
    await b.network.catchUp.idle();
    // Stored at A without a broadcast: only a later sync pass can bring it to B.
    const quiet = makeEnvelope();
    await a.ingest.ingest([quiet], "local");
    await b.ingest.until((d) => contains(d, quiet), "the unbroadcast envelope at B");
    expect(b.network.relay.stats.received).toBe(0);
  });

  it(`serves at most ${MAX_INBOUND_SYNC_STREAMS} sync streams of one connection at a time`, async () => {
    const a = await startPeer();
    const greedy = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    cleanup.push(async () => await greedy.stop());
    const connection = await greedy.dial(multiaddr(a.network.multiaddrs[0]));
    // Streams that send no request: the server keeps each open (idle) while waiting for one.
    const streams = [];
    for (let i = 0; i < MAX_INBOUND_SYNC_STREAMS + 3; i++) {
      streams.push(await connection.newStream(SYNC_PROTOCOL).catch((error: Error) => error));
    }
    // A refused stream is reset by the server: reading it ends at once, with or without an error.
    const outcomes = await Promise.all(
      streams.map(async (stream) => {
        if (stream instanceof Error) return "refused";
        const reading = (async () => {
          try {
            for await (const _ of stream) break;
          } catch {
            // reset
          }
          return "refused";
        })();
        const timer = new Promise((resolve) => setTimeout(() => resolve("open"), 1_500).unref());
        return Promise.race([reading, timer]);
      }),
    );
    expect(outcomes.filter((o) => o === "open")).toHaveLength(MAX_INBOUND_SYNC_STREAMS);
    expect(outcomes.filter((o) => o === "refused")).toHaveLength(3);
  });
});

/** `/waku/2/rs/0/4`: the shard of every XMTP topic under the default cluster and shard count. */
const SHARDED_TOPIC = "/waku/2/rs/0/4";

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A bare Waku relay host (no relay code of ours), stopped after the test. */
const relayHost = () => startBareRelayHost((stop) => cleanup.push(stop));

/** A node as they were before the sharded relay: the same relay code, on the legacy topic alone. */
async function legacyNode() {
  const host = await relayHost();
  const store = new MemoryStore();
  const ingest = new MemoryIngest(store);
  const relay = new WakuRelay(host.services.pubsub, ingest, silentLogger, { batchWindowMs: 0 });
  relay.start();
  cleanup.push(() => relay.stop());
  return { host, store, ingest, relay };
}

const subscribes = (host: { services: { pubsub: { getSubscribers(topic: string): { toString(): string }[] } } }, peer: string, topic: string) =>
  host.services.pubsub.getSubscribers(topic).some((p) => p.toString() === peer);

describe("relay on the sharded topic, bridged with the legacy one", () => {
  it("two nodes relay on /waku/2/rs/0/4; an older node (legacy topic) and a Waku relay node (shard only) hear everything, each envelope stored once", async () => {
    const a = await startPeer();
    const b = await startPeer({ peers: [a.network.multiaddrs[0]] });
    expect(a.network.relay.topics).toEqual([SHARDED_TOPIC, WAKU_PUBSUB_TOPIC]);
    const old = await legacyNode();
    const waku = await relayHost();
    waku.services.pubsub.subscribe(SHARDED_TOPIC);
    const wakuReceived: { topic: string; data: Uint8Array }[] = [];
    waku.services.pubsub.addEventListener("message", (event) => wakuReceived.push(event.detail));
    await old.host.dial(multiaddr(a.network.multiaddrs[0]));
    await waku.dial(multiaddr(a.network.multiaddrs[0]));
    const aPeer = a.network.peerId;
    await until(
      () =>
        subscribes(a.network.libp2p, b.network.peerId, SHARDED_TOPIC) &&
        subscribes(b.network.libp2p, aPeer, SHARDED_TOPIC) &&
        subscribes(a.network.libp2p, old.host.peerId.toString(), WAKU_PUBSUB_TOPIC) &&
        subscribes(a.network.libp2p, waku.peerId.toString(), SHARDED_TOPIC) &&
        subscribes(old.host, aPeer, WAKU_PUBSUB_TOPIC) &&
        subscribes(waku, aPeer, SHARDED_TOPIC),
      "every subscription to be seen",
    );
    expect(subscribes(a.network.libp2p, old.host.peerId.toString(), SHARDED_TOPIC)).toBe(false);
    // LightPush's relay_peer_count: B (both topics), the older node (legacy), the Waku node (shard).
    expect(a.network.relay.relayPeerCount()).toBe(3);
    const topicsAtB: string[] = [];
    b.network.libp2p.services.pubsub.addEventListener("message", (event) => topicsAtB.push(event.detail.topic));

    // 1. Published at A: to B and the Waku node on the shard, to the older node on the legacy topic.
    const fromA = makeEnvelope();
    await publishAt(a, [fromA]);
    await b.ingest.until((d) => contains(d, fromA), "A's envelope at B");
    await old.ingest.until((d) => contains(d, fromA), "A's envelope at the older node");
    await until(() => wakuReceived.length === 1, "A's envelope at the Waku node");
    expect(wakuReceived[0]).toMatchObject({ topic: SHARDED_TOPIC });
    expect(sameBytes(wakuReceived[0].data, envelopeToWakuMessageBytes(fromA))).toBe(true);
    expect(topicsAtB).toEqual([SHARDED_TOPIC]);

    // 2. Published by the older node on the legacy topic: A bridges it onto the shard for the Waku node.
    const fromOld = makeEnvelope();
    await old.ingest.ingest([fromOld], "local");
    await old.relay.broadcast([fromOld]);
    await a.ingest.until((d) => contains(d, fromOld), "the older node's envelope at A");
    await b.ingest.until((d) => contains(d, fromOld), "the older node's envelope at B");
    await until(() => wakuReceived.length === 2, "the older node's envelope at the Waku node");
    expect(wakuReceived[1].topic).toBe(SHARDED_TOPIC);

    // 3. Published by the Waku node on the shard: A bridges it onto the legacy topic for the older node.
    const fromWaku = makeEnvelope();
    await waku.services.pubsub.publish(SHARDED_TOPIC, envelopeToWakuMessageBytes(fromWaku));
    await old.ingest.until((d) => contains(d, fromWaku), "the Waku node's envelope at the older node");
    await b.ingest.until((d) => contains(d, fromWaku), "the Waku node's envelope at B");

    // 4. A js-waku keep-alive on the shard: ignored (not a drop, not forwarded, nothing stored).
    await waku.services.pubsub.publish(
      SHARDED_TOPIC,
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: WAKU_RELAY_PING_CONTENT_TOPIC, timestamp: BigInt(Date.now()) * 1_000_000n }),
    );
    await until(() => a.network.relay.stats.ignored === 1, "the ping to be ignored at A");

    // Let stray copies arrive, then: every envelope stored once everywhere, and counted once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [name, store] of Object.entries({ a: a.store, b: b.store, old: old.store })) expect(store.rows.length, name).toBe(3);
    expect(a.network.relay.stats).toMatchObject({ received: 2, dropped: 0, ignored: 1, duplicates: 0 });
    expect(b.network.relay.stats).toMatchObject({ received: 3, dropped: 0, ignored: 0 });
    expect(old.relay.stats).toMatchObject({ received: 2, dropped: 0 });
    expect(wakuReceived).toHaveLength(2);
    // A sent the older node fromA on the legacy topic and fromWaku; the Waku node fromOld on the shard.
    expect(a.network.relay.stats.bridged).toBe(3);
  });
});
