import { describe, expect, it } from "vitest";
import { SubscriptionHub } from "./hub.js";
import type { Envelope } from "./store/EnvelopeStore.js";

const envelope = (contentTopic: string, n = 1): Envelope => ({ contentTopic, timestampNs: BigInt(n), message: new Uint8Array([n]) });

describe("SubscriptionHub", () => {
  it("delivers to the subscribers of the envelope's topic only, in publish order", () => {
    const hub = new SubscriptionHub();
    const a: Envelope[] = [];
    const b: Envelope[] = [];
    hub.subscribe(["/a", "/shared"], (e) => a.push(e));
    hub.subscribe(["/b", "/shared", "/b"], (e) => b.push(e));
    hub.publish([envelope("/a", 1), envelope("/shared", 2), envelope("/b", 3), envelope("/none", 4)]);
    expect(a.map((e) => e.timestampNs)).toEqual([1n, 2n]);
    expect(b.map((e) => e.timestampNs)).toEqual([2n, 3n]);
  });

  it("stops delivering after unsubscribe and forgets empty topics", () => {
    const hub = new SubscriptionHub();
    const got: Envelope[] = [];
    const unsubscribe = hub.subscribe(["/a", "/b"], (e) => got.push(e));
    expect([hub.size, hub.topicCount]).toEqual([1, 2]);
    unsubscribe();
    unsubscribe();
    expect([hub.size, hub.topicCount]).toEqual([0, 0]);
    hub.publish([envelope("/a")]);
    expect(got).toEqual([]);
  });

  it("subscribe-all sees every /xmtp/0/ envelope and nothing else", () => {
    const hub = new SubscriptionHub();
    const got: string[] = [];
    const unsubscribe = hub.subscribeAll((e) => got.push(e.contentTopic));
    hub.publish([envelope("/xmtp/0/m-1/proto"), envelope("test-topic"), envelope("/xmtp/0/contact-x/proto")]);
    expect(got).toEqual(["/xmtp/0/m-1/proto", "/xmtp/0/contact-x/proto"]);
    unsubscribe();
    expect(hub.size).toBe(0);
  });

  it("keeps delivering to others when one listener throws", () => {
    const hub = new SubscriptionHub();
    const got: Envelope[] = [];
    hub.subscribe(["/a"], () => {
      throw new Error("broken subscriber");
    });
    hub.subscribe(["/a"], (e) => got.push(e));
    expect(() => hub.publish([envelope("/a")])).not.toThrow();
    expect(got).toHaveLength(1);
  });
});
