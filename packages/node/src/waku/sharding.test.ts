import { describe, expect, it } from "vitest";
import { ContentTopicFormatError, pubsubTopicOfContentTopic, shardOfContentTopic, shardPubsubTopic } from "./sharding.js";

describe("autosharding", () => {
  it("puts every XMTP topic on shard 4 of 8, as js-waku does", () => {
    // Measured with @waku/sdk 0.0.36 (numShardsInCluster 8): /xmtp/0/* content topics go to shard 4.
    for (const topic of ["/xmtp/0/m-abc/proto", "/xmtp/0/contact-0x1234/proto", "/xmtp/0/intro-0xabc/proto"]) {
      expect(shardOfContentTopic(topic, 8)).toBe(4);
    }
    expect(pubsubTopicOfContentTopic("/xmtp/0/m-abc/proto", { clusterId: 0, shardCount: 8 })).toBe("/waku/2/rs/0/4");
  });

  it("hashes application and version only, with a generation prefix skipped", () => {
    expect(shardOfContentTopic("/xmtp/0/a/proto", 1024)).toBe(shardOfContentTopic("/xmtp/0/b/json", 1024));
    expect(shardOfContentTopic("/0/xmtp/0/a/proto", 1024)).toBe(shardOfContentTopic("/xmtp/0/a/proto", 1024));
    // sha256("xmtp" ‖ "0") ends in …, whose last 8 bytes mod 1024 differ from another application's.
    expect(shardOfContentTopic("/toychat/2/a/proto", 1024)).not.toBe(shardOfContentTopic("/xmtp/0/a/proto", 1024));
  });

  it("refuses content topics that are not /application/version/name/encoding", () => {
    for (const topic of ["", "xmtp/0/a/proto", "/xmtp/0/proto", "/xmtp//a/proto", "test-topic", "/a/b/c/d/e/f"]) {
      expect(() => shardOfContentTopic(topic, 8)).toThrow(ContentTopicFormatError);
    }
  });

  it("names a shard's pubsub topic", () => {
    expect(shardPubsubTopic(7, 3)).toBe("/waku/2/rs/7/3");
  });
});
