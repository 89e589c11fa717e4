import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createWakuHasher, wakuMessageHash } from "./messageHash.js";
import { autoshardOf, autoshardingFields, InvalidContentTopicError, pubsubTopicOf, shardOfEnvelopeTopic } from "./sharding.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/^0x/, ""), "hex"));

describe("wakuMessageHash: the test vectors of RFC 14 (14/WAKU2-MESSAGE, deterministic message hashing)", () => {
  // The RFC's common inputs.
  const pubsubTopic = "/waku/2/default-waku/proto";
  const contentTopic = "/waku/2/default-content/proto";
  const payload = fromHex("0x010203045445535405060708");
  const timestampNs = 0x175789bfa23f8400n;

  it("hashes the RFC's inputs to the RFC's hashes: meta of 12 bytes, of 64 bytes, absent; an empty payload", () => {
    expect(pubsubTopic).toBe(Buffer.from("2f77616b752f322f64656661756c742d77616b752f70726f746f", "hex").toString());
    expect(contentTopic).toBe(Buffer.from("2f77616b752f322f64656661756c742d636f6e74656e742f70726f746f", "hex").toString());
    const meta12 = fromHex("0x73757065722d736563726574");
    const meta64 = new Uint8Array(64).map((_, i) => i);
    expect(hex(wakuMessageHash(pubsubTopic, { payload, contentTopic, meta: meta12, timestampNs }))).toBe(
      "64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05",
    );
    expect(hex(wakuMessageHash(pubsubTopic, { payload, contentTopic, meta: meta64, timestampNs }))).toBe(
      "7158b6498753313368b9af8f6e0a0a05104f68f972981da42a43bc53fb0c1b27",
    );
    expect(hex(wakuMessageHash(pubsubTopic, { payload, contentTopic, timestampNs }))).toBe(
      "a2554498b31f5bcdfcbf7fa58ad1c2d45f0254f3f8110a85588ec3cf10720fd8",
    );
    expect(hex(wakuMessageHash(pubsubTopic, { payload: new Uint8Array(0), contentTopic, meta: meta12, timestampNs }))).toBe(
      "483ea950cb63f9b9d6926b262bb36194d3f40a0463ce8446228350bd44e96de4",
    );
  });

  it("hashes an empty meta as an absent one, and every input changes the hash", () => {
    const base = { payload, contentTopic, timestampNs };
    const reference = hex(wakuMessageHash(pubsubTopic, base));
    expect(hex(wakuMessageHash(pubsubTopic, { ...base, meta: new Uint8Array(0) }))).toBe(reference);
    expect(hex(wakuMessageHash("/waku/2/rs/1/4", base))).not.toBe(reference);
    expect(hex(wakuMessageHash(pubsubTopic, { ...base, contentTopic: "/waku/2/other/proto" }))).not.toBe(reference);
    expect(hex(wakuMessageHash(pubsubTopic, { ...base, timestampNs: timestampNs + 1n }))).not.toBe(reference);
    expect(hex(wakuMessageHash(pubsubTopic, { ...base, payload: fromHex("01") }))).not.toBe(reference);
  });

  it("hashes the timestamp as 8 big-endian bytes over the whole uint64 range, zero included, and refuses wider values", () => {
    const manual = (t: bigint) => {
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(t);
      return createHash("sha256").update(pubsubTopic).update(payload).update(contentTopic).update(ts).digest("hex");
    };
    for (const t of [0n, 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(hex(wakuMessageHash(pubsubTopic, { payload, contentTopic, timestampNs: t }))).toBe(manual(t));
    }
    // A negative sint64 timestamp is the same 64-bit pattern as its uint64 counterpart.
    expect(hex(wakuMessageHash(pubsubTopic, { payload, contentTopic, timestampNs: -1n }))).toBe(manual(2n ** 64n - 1n));
    expect(() => wakuMessageHash(pubsubTopic, { payload, contentTopic, timestampNs: 2n ** 64n })).toThrow(RangeError);
  });
});

describe("autosharding (WAKU2-RELAY-SHARDING, formerly RFC 51)", () => {
  it("matches the spec's example: application myapp, version 1, 8 shards -> sha256 0x8e54…4928, shard 0", () => {
    expect(createHash("sha256").update("myapp1").digest("hex")).toBe(
      "8e541178adbd8126068c47be6a221d77d64837221893a8e4e53139fb802d4928",
    );
    expect(autoshardOf("/myapp/1/mytopic/cbor", 8)).toBe(0);
    // The spec's full-length form (generation 0) routes the same way.
    expect(autoshardOf("/0/myapp/1/mytopic/cbor", 8)).toBe(0);
  });

  it("puts every XMTP topic on shard 4 of 8, as measured with js-waku (issue #12), and only application+version count", () => {
    for (const topic of ["/xmtp/0/m-abc/proto", "/xmtp/0/contact-0xAbC/proto", "/xmtp/0/intro-0x1/proto", "/xmtp/0/mE-x/proto"]) {
      expect(autoshardOf(topic, 8)).toBe(4);
    }
    expect(autoshardingFields("/xmtp/0/m-abc/proto")).toEqual({ application: "xmtp", version: "0" });
  });

  it("reduces the last 64 bits of sha256(application ‖ version), which for power-of-two counts is the whole hash's modulo", () => {
    const digest = createHash("sha256").update("xmtp0").digest();
    const whole = BigInt(`0x${digest.toString("hex")}`);
    const last64 = digest.readBigUInt64BE(24);
    for (const count of [1, 2, 3, 5, 7, 8, 16, 1000, 1024]) {
      expect(autoshardOf("/xmtp/0/x/proto", count)).toBe(Number(last64 % BigInt(count)));
      if ((count & (count - 1)) === 0) expect(autoshardOf("/xmtp/0/x/proto", count)).toBe(Number(whole % BigInt(count)));
    }
  });

  it("throws InvalidContentTopicError, naming the problem, for a topic not in autosharding form", () => {
    const bad: Array<[string, RegExp]> = [
      ["xmtp/0/m/proto", /start with '\/'/],
      ["/t", /1 fields/],
      ["/a/b/c", /3 fields/],
      ["/a/b/c/d/e/f", /6 fields/],
      ["//0/m/proto", /application field is empty/],
      ["/xmtp//m/proto", /version field is empty/],
      ["/xmtp/0/m/", /encoding field is empty/],
      ["/1/myapp/1/t/cbor", /generation 1 is not defined/],
      ["/g/myapp/1/t/cbor", /generation must be a number/],
    ];
    for (const [topic, reason] of bad) {
      let caught: unknown;
      try {
        autoshardOf(topic, 8);
      } catch (error) {
        caught = error;
      }
      expect(caught, topic).toBeInstanceOf(InvalidContentTopicError);
      expect((caught as InvalidContentTopicError).message, topic).toMatch(reason);
      expect((caught as InvalidContentTopicError).contentTopic).toBe(topic);
    }
    expect(() => autoshardOf("/xmtp/0/m/proto", 0)).toThrow(RangeError);
    expect(() => autoshardOf("/xmtp/0/m/proto", 1025)).toThrow(RangeError);
  });

  it("names shards /waku/2/rs/<cluster>/<shard> and checks the ranges", () => {
    expect(pubsubTopicOf(0, 2)).toBe("/waku/2/rs/0/2");
    expect(pubsubTopicOf(65535, 1023)).toBe("/waku/2/rs/65535/1023");
    expect(() => pubsubTopicOf(65536, 0)).toThrow(RangeError);
    expect(() => pubsubTopicOf(1, 1024)).toThrow(RangeError);
    expect(() => pubsubTopicOf(-1, 0)).toThrow(RangeError);
    expect(() => pubsubTopicOf(1.5, 0)).toThrow(RangeError);
  });
});

describe("createWakuHasher", () => {
  it("hashes an envelope as the WakuMessage it is, on its autosharded pubsub topic", () => {
    const hasher = createWakuHasher({ clusterId: 1, shardCount: 8 });
    const envelope = { contentTopic: "/xmtp/0/m-abc/proto", timestampNs: 1_700_000_000_123_456_789n, message: fromHex("0a0b0c") };
    expect(hasher.pubsubTopicFor(envelope.contentTopic)).toBe("/waku/2/rs/1/4");
    expect(hex(hasher.hash(envelope))).toBe(
      hex(wakuMessageHash("/waku/2/rs/1/4", { payload: envelope.message, contentTopic: envelope.contentTopic, timestampNs: envelope.timestampNs })),
    );
    // Frozen, so that a change of the hash (which would invalidate every stored cursor) cannot pass unnoticed.
    expect(hex(hasher.hash(envelope))).toBe(
      createHash("sha256")
        .update("/waku/2/rs/1/4")
        .update(Buffer.from("0a0b0c", "hex"))
        .update("/xmtp/0/m-abc/proto")
        .update(Buffer.from("17979cfe3d85cd15", "hex"))
        .digest("hex"),
    );
    expect(1_700_000_000_123_456_789n.toString(16).padStart(16, "0")).toBe("17979cfe3d85cd15");
    expect(hex(hasher.hash(envelope))).toBe("ff219744612ba947ccb76426d09760922e6dcd76be4f3a8c76425fb2492fe0d3");
  });

  it("gives a topic autosharding cannot route the documented fallback, shard 0 of the cluster", () => {
    const config = { clusterId: 7, shardCount: 8 };
    expect(shardOfEnvelopeTopic("/t", config)).toBe(0);
    expect(createWakuHasher(config).pubsubTopicFor("not a waku topic")).toBe("/waku/2/rs/7/0");
    expect(createWakuHasher(config).pubsubTopicFor("/xmtp/0/m-a/proto")).toBe("/waku/2/rs/7/4");
  });

  it("names its configuration so that stores notice a change of cluster or shard count", () => {
    const a = createWakuHasher({ clusterId: 1, shardCount: 8 }).configuration;
    expect(createWakuHasher({ clusterId: 1, shardCount: 8 }).configuration).toBe(a);
    expect(createWakuHasher({ clusterId: 2, shardCount: 8 }).configuration).not.toBe(a);
    expect(createWakuHasher({ clusterId: 1, shardCount: 16 }).configuration).not.toBe(a);
    expect(() => createWakuHasher({ clusterId: 70000, shardCount: 8 })).toThrow(RangeError);
  });
});
