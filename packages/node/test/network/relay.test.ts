// Three real node processes in a line A - B - C on loopback: relay, replicated storage, catch-up, partitions.
import "../../src/p2p/promiseWithResolvers.js";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { multiaddr } from "@multiformats/multiaddr";
import { createIdentity, envelopeJson, publish, type Identity } from "../http/helpers.js";
import { WAKU_PUBSUB_TOPIC, envelopeToWakuMessageBytes } from "../../src/relay/wakuRelay.js";
import { encodeWakuMessage, decodeWakuMessage } from "../../src/relay/wakuMessage.js";
import { WAKU_RELAY_PING_CONTENT_TOPIC } from "../../src/relay/relayTopics.js";
import { SYNC_PROTOCOL } from "../../src/sync/syncMessages.js";
import { SYNC_STATE_FILE } from "../../src/sync/syncState.js";
import { startBareRelayHost } from "../../src/relay/test-support/bareRelayHost.js";
import {
  eventually,
  freePort,
  keysOf,
  queryAll,
  startRelayNode,
  subscribe,
  type RelayNode,
  type WireEnvelope,
} from "./support.js";

const running: { dispose(): Promise<void> }[] = [];
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await Promise.all(running.splice(0).map((node) => node.dispose()));
});

async function node(options: Parameters<typeof startRelayNode>[0] = {}): Promise<RelayNode> {
  const started = await startRelayNode(options);
  running.push(started);
  return started;
}

/** A line A - B - C: B dials A, C dials B. B listens on a fixed-for-this-test port so it can restart on it. */
async function line() {
  const a = await node();
  const b = await node({ peers: [a.multiaddr], p2pPort: await freePort() });
  const c = await node({ peers: [b.multiaddr] });
  return { a, b, c };
}

const topic = (kind = "m") => `/xmtp/0/${kind}-net-${randomBytes(8).toString("hex")}/proto`;
let clock = BigInt(Date.now()) * 1_000_000n;
function envelopes(contentTopic: string, count: number): WireEnvelope[] {
  return Array.from({ length: count }, () => {
    clock += 1_000_000n;
    return envelopeJson(contentTopic, clock, randomBytes(64));
  });
}

async function publishAll(at: RelayNode, identity: Identity, batch: WireEnvelope[]): Promise<void> {
  for (const envelope of batch) {
    const response = await publish(at, [envelope], identity.token());
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  }
}

/** Publishes at `from` and waits until `to` serves it: the relay path (or a sync pass) is working end to end. */
async function warmUp(from: RelayNode, to: RelayNode, identity: Identity): Promise<void> {
  const probeTopic = topic();
  await publishAll(from, identity, envelopes(probeTopic, 1));
  await eventually(async () => (await queryAll(to, probeTopic)).length === 1, "the warm-up envelope to cross the network");
}

const sorted = (keys: string[]) => [...keys].sort();

// Generous limits: these start up to four node processes each, and CI runs them beside the rest of the suite.
const NETWORK_TEST_TIMEOUT_MS = 180_000;

describe("three nodes in a line A - B - C", { timeout: NETWORK_TEST_TIMEOUT_MS }, () => {
  it("relays a publish at A to queries and streams at B and C, each envelope once, timestamps kept", async () => {
    const { a, b, c } = await line();
    const identity = await createIdentity();
    await warmUp(a, c, identity);

    const conversation = topic();
    const ephemeral = topic("mE");
    const streamC = await subscribe(c, [conversation, ephemeral]);
    const streamB = await subscribe(b, [conversation]);
    closers.push(streamC.close, streamB.close);
    const published = envelopes(conversation, 10);
    const ephemeralOne = envelopes(ephemeral, 1);
    await publishAll(a, identity, [...published, ...ephemeralOne]);

    await eventually(() => streamC.envelopes.length >= 11 && streamB.envelopes.length >= 10, "the streams at B and C");
    for (const reader of [b, c]) {
      await eventually(async () => (await queryAll(reader, conversation)).length === 10, "the stored copies");
    }
    // Let a few anti-entropy passes run: nothing may arrive twice.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sorted(keysOf(streamC.envelopes))).toEqual(sorted(keysOf([...published, ...ephemeralOne])));
    expect(sorted(keysOf(streamB.envelopes))).toEqual(sorted(keysOf(published)));
    for (const reader of [a, b, c]) expect(keysOf(await queryAll(reader, conversation))).toEqual(keysOf(published));
    // Ephemeral envelopes are relayed and streamed but stored nowhere.
    for (const reader of [a, b, c]) expect(await queryAll(reader, ephemeral)).toEqual([]);
  });

  it("catches C up on everything published while it was down, keeping its peer id", async () => {
    const { a, b, c } = await line();
    const identity = await createIdentity();
    await warmUp(a, c, identity);
    const conversation = topic();
    const before = envelopes(conversation, 5);
    await publishAll(a, identity, before);
    await eventually(async () => (await queryAll(c, conversation)).length === 5, "the first envelopes at C");

    const peerId = c.peerId;
    await c.stop();
    const missed = envelopes(conversation, 40);
    await publishAll(a, identity, missed);

    const restarted = await node({ dataDir: c.dataDir, peers: [b.multiaddr] });
    expect(restarted.peerId).toBe(peerId);
    await eventually(async () => (await queryAll(restarted, conversation)).length >= 45, "C to catch up");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(keysOf(await queryAll(restarted, conversation))).toEqual(keysOf([...before, ...missed]));
    // C remembers how far it read B's store.
    const state = JSON.parse(readFileSync(join(c.dataDir, SYNC_STATE_FILE), "utf8"));
    expect(Object.keys(state.peers)).toContain(b.peerId);
  });

  it("heals a partition: with B down, A and C diverge; when B returns, every node has everything once", async () => {
    const { a, b, c } = await line();
    const identity = await createIdentity();
    await warmUp(a, c, identity);
    const conversation = topic();
    const shared = envelopes(conversation, 3);
    await publishAll(a, identity, shared);
    await eventually(async () => (await queryAll(c, conversation)).length === 3, "the shared envelopes at C");

    await b.stop();
    const fromA = envelopes(conversation, 15);
    const fromC = envelopes(conversation, 15);
    await publishAll(a, identity, fromA);
    await publishAll(c, identity, fromC);
    expect((await queryAll(a, conversation)).length).toBe(18);
    expect((await queryAll(c, conversation)).length).toBe(18);

    const bAgain = await node({ dataDir: b.dataDir, p2pPort: b.p2pPort, peers: [a.multiaddr] });
    expect(bAgain.peerId).toBe(b.peerId);
    const everything = keysOf([...shared, ...fromA, ...fromC]);
    for (const reader of [a, bAgain, c]) {
      await eventually(async () => (await queryAll(reader, conversation)).length >= everything.length, "every node to have everything");
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const order = keysOf(await queryAll(a, conversation));
    expect(sorted(order)).toEqual(sorted(everything));
    // Distinct timestamps: every node returns the same order.
    for (const reader of [bAgain, c]) expect(keysOf(await queryAll(reader, conversation))).toEqual(order);
  });

  it("keeps relaying when a peer sends malformed relay and sync messages", async () => {
    const { a, b, c } = await line();
    const identity = await createIdentity();
    await warmUp(a, c, identity);

    const rogue = await startBareRelayHost((stop) => closers.push(stop));
    rogue.services.pubsub.subscribe(WAKU_PUBSUB_TOPIC);
    await rogue.dial(multiaddr(b.multiaddr));
    await eventually(
      () => rogue.services.pubsub.getSubscribers(WAKU_PUBSUB_TOPIC).some((p) => p.toString() === b.peerId),
      "the rogue to see B's subscription",
    );

    const poisoned = topic();
    const junk = [
      Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: poisoned }),
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "/waku/2/not-xmtp", timestamp: 1n }),
      encodeWakuMessage({ payload: new Uint8Array(0), contentTopic: poisoned, timestamp: 1n }),
      encodeWakuMessage({ payload: new Uint8Array(1024 * 1024 + 1), contentTopic: poisoned, timestamp: 1n }),
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: `/xmtp/0/${"x".repeat(300)}/proto`, timestamp: 1n }),
    ];
    for (const bytes of junk) await rogue.services.pubsub.publish(WAKU_PUBSUB_TOPIC, bytes);
    // Garbage on the sync protocol too, and a stream opened and abandoned.
    const syncStream = await rogue.dialProtocol(multiaddr(b.multiaddr), SYNC_PROTOCOL);
    syncStream.send(Uint8Array.of(0x05, 0xff, 0xff, 0xff, 0xff, 0xff));
    await rogue.dialProtocol(multiaddr(b.multiaddr), SYNC_PROTOCOL);

    // A well-formed envelope from the rogue is relayed like any other (the relay is open, like Waku's).
    const fromRogue = envelopes(topic(), 1)[0];
    await rogue.services.pubsub.publish(
      WAKU_PUBSUB_TOPIC,
      envelopeToWakuMessageBytes({
        contentTopic: fromRogue.contentTopic,
        timestampNs: BigInt(fromRogue.timestampNs),
        message: Buffer.from(fromRogue.message, "base64"),
      }),
    );
    await eventually(async () => (await queryAll(c, fromRogue.contentTopic)).length === 1, "the rogue's valid envelope at C");

    const conversation = topic();
    const published = envelopes(conversation, 5);
    await publishAll(a, identity, published);
    await eventually(async () => (await queryAll(c, conversation)).length === 5, "A's envelopes at C after the junk");
    expect(await queryAll(b, poisoned)).toEqual([]);
    expect(await queryAll(c, poisoned)).toEqual([]);
    expect(b.process.exitCode).toBeNull();
    expect(b.logs.some((l) => l.includes('"msg":"dropped relay message"'))).toBe(true);
  });
});

/** A bare gossipsub host speaking the Waku relay protocol, subscribed to `topics` only, recording what it receives. */
async function relayPeer(topics: string[]) {
  const host = await startBareRelayHost((stop) => closers.push(stop));
  const received: { topic: string; contentTopic: string; message: string }[] = [];
  host.services.pubsub.addEventListener("message", (event) => {
    const waku = decodeWakuMessage(event.detail.data);
    received.push({ topic: event.detail.topic, contentTopic: waku.contentTopic, message: Buffer.from(waku.payload).toString("base64") });
  });
  for (const topic of topics) host.services.pubsub.subscribe(topic);
  return { host, received };
}

const wireToWaku = (envelope: WireEnvelope) =>
  envelopeToWakuMessageBytes({
    contentTopic: envelope.contentTopic,
    timestampNs: BigInt(envelope.timestampNs),
    message: Buffer.from(envelope.message, "base64"),
  });

describe("relay on the sharded pubsub topic", { timeout: NETWORK_TEST_TIMEOUT_MS }, () => {
  const SHARDED = "/waku/2/rs/0/4";

  it("two nodes relay on /waku/2/rs/0/4 and bridge it with the legacy topic for older nodes and Waku relay nodes", async () => {
    const a = await node();
    const b = await node({ peers: [a.multiaddr] });
    const listening = JSON.parse(a.logs.find((l) => l.includes('"msg":"relay listening"'))!);
    expect(listening.pubsubTopics).toEqual([SHARDED, WAKU_PUBSUB_TOPIC]);
    // An older xmtp-ts node (legacy topic only) at B, a js-waku-style relay node (shard only) at A.
    const old = await relayPeer([WAKU_PUBSUB_TOPIC]);
    const waku = await relayPeer([SHARDED]);
    await old.host.dial(multiaddr(b.multiaddr));
    await waku.host.dial(multiaddr(a.multiaddr));
    const sees = (host: typeof old.host, peer: string, topic: string) =>
      host.services.pubsub.getSubscribers(topic).some((p) => p.toString() === peer);
    await eventually(() => sees(old.host, b.peerId, WAKU_PUBSUB_TOPIC) && sees(waku.host, a.peerId, SHARDED), "the subscriptions");
    const identity = await createIdentity();
    await warmUp(a, b, identity);
    // Both peers see each other's subscriptions well before the warm-up crosses; give the B - old node link a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    old.received.length = 0;
    waku.received.length = 0;

    // An HTTP publish at A reaches B (on the shard), the Waku node (shard, from A) and the older node (legacy, from B).
    const conversation = topic();
    const [fromA] = envelopes(conversation, 1);
    await publishAll(a, identity, [fromA]);
    await eventually(async () => (await queryAll(b, conversation)).length === 1, "A's envelope at B");
    await eventually(() => waku.received.length === 1 && old.received.length === 1, "A's envelope at both bare peers");
    expect(waku.received[0]).toEqual({ topic: SHARDED, contentTopic: conversation, message: fromA.message });
    expect(old.received[0]).toEqual({ topic: WAKU_PUBSUB_TOPIC, contentTopic: conversation, message: fromA.message });

    // The older node publishes on the legacy topic at B: stored at A and B, and bridged onto the shard for the Waku node.
    const [fromOld] = envelopes(conversation, 1);
    await old.host.services.pubsub.publish(WAKU_PUBSUB_TOPIC, wireToWaku(fromOld));
    await eventually(async () => (await queryAll(a, conversation)).length === 2, "the older node's envelope at A");
    await eventually(() => waku.received.length === 2, "the older node's envelope at the Waku node");
    expect(waku.received[1]).toEqual({ topic: SHARDED, contentTopic: conversation, message: fromOld.message });

    // The Waku node publishes a keep-alive and an envelope on the shard: the ping is ignored, the envelope goes everywhere.
    await waku.host.services.pubsub.publish(
      SHARDED,
      encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: WAKU_RELAY_PING_CONTENT_TOPIC, timestamp: BigInt(Date.now()) * 1_000_000n }),
    );
    const [fromWaku] = envelopes(conversation, 1);
    await waku.host.services.pubsub.publish(SHARDED, wireToWaku(fromWaku));
    await eventually(async () => (await queryAll(b, conversation)).length === 3, "the Waku node's envelope at B");
    await eventually(() => old.received.length === 2, "the Waku node's envelope at the older node");
    expect(old.received[1]).toEqual({ topic: WAKU_PUBSUB_TOPIC, contentTopic: conversation, message: fromWaku.message });

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const everything = sorted(keysOf([fromA, fromOld, fromWaku]));
    for (const reader of [a, b]) expect(sorted(keysOf(await queryAll(reader, conversation)))).toEqual(everything);
    // Nothing twice at the bare peers, the ping neither stored nor forwarded, and nobody's message counted as invalid.
    expect(old.received).toHaveLength(2);
    expect(waku.received).toHaveLength(2);
    expect(old.received.some((r) => r.contentTopic === WAKU_RELAY_PING_CONTENT_TOPIC)).toBe(false);
    for (const reader of [a, b]) expect(reader.logs.some((l) => l.includes('"msg":"dropped relay message"'))).toBe(false);
  });
});

describe("node key", { timeout: NETWORK_TEST_TIMEOUT_MS }, () => {
  it("is created in the data dir on first start and reused after", async () => {
    const first = await node();
    expect(existsSync(join(first.dataDir, "node-key"))).toBe(true);
    await first.stop();
    const second = await node({ dataDir: first.dataDir });
    expect(second.peerId).toBe(first.peerId);
  });
});

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;
if (!postgresUrl && process.env.CI) {
  describe("a Postgres node and a SQLite node", () => {
    it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
      throw new Error("XMTP_TEST_POSTGRES_URL is not set but CI is: run `eval \"$(.ci/postgres.sh)\"` before the tests");
    });
  });
}

describe.skipIf(!postgresUrl)("a Postgres node and a SQLite node in one network", { timeout: NETWORK_TEST_TIMEOUT_MS }, () => {
  it("agree on every envelope and its order", async () => {
    const schema = `xmtp_net_${randomBytes(4).toString("hex")}`;
    const url = new URL(postgresUrl!);
    url.searchParams.set("schema", schema);
    const pg = (await import("pg")).default;
    closers.push(async () => {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });

    const onSqlite = await node();
    const onPostgres = await node({ db: url.toString(), peers: [onSqlite.multiaddr] });
    expect(onPostgres.logs.join("\n")).toMatch(/postgres/i);
    const identity = await createIdentity();
    await warmUp(onSqlite, onPostgres, identity);

    const conversation = topic();
    const fromSqlite = envelopes(conversation, 20);
    const fromPostgres = envelopes(conversation, 20);
    await Promise.all([publishAll(onSqlite, identity, fromSqlite), publishAll(onPostgres, identity, fromPostgres)]);
    for (const reader of [onSqlite, onPostgres]) {
      await eventually(async () => (await queryAll(reader, conversation)).length === 40, "both nodes to have all 40");
    }
    const sqliteView = keysOf(await queryAll(onSqlite, conversation));
    expect(keysOf(await queryAll(onPostgres, conversation))).toEqual(sqliteView);
    expect(sorted(sqliteView)).toEqual(sorted(keysOf([...fromSqlite, ...fromPostgres])));
  });
});
