import { describe, expect, it } from "vitest";
import {
  describeRetentionPolicy,
  isExpired,
  isKeepForever,
  KEEP_FOREVER,
  parseRetentionPolicy,
  RetentionPolicyError,
  retentionRuleOf,
  topicClassOf,
} from "./retentionPolicy.js";

const HOUR_NS = 3_600n * 1_000_000_000n;
const DAY_NS = 24n * HOUR_NS;

describe("retention policy", () => {
  it("keeps everything forever by default, and for classes a spec does not name", () => {
    expect(isKeepForever(KEEP_FOREVER)).toBe(true);
    const policy = parseRetentionPolicy("v2-messages=30d");
    expect(isKeepForever(policy)).toBe(false);
    expect(policy.contact).toEqual({ kind: "forever" });
    expect(policy["v2-messages"]).toEqual({ kind: "age", maxAgeNs: 30n * DAY_NS });
    expect(isKeepForever(parseRetentionPolicy(""))).toBe(true);
  });

  it("reads ages in every unit, newest:N and forever, and writes them back the same way", () => {
    const spec = "contact=newest:5,privatestore=newest:1,invite=forever,intro=12h,v1-messages=90m,v2-messages=365d,preferences=45s";
    const policy = parseRetentionPolicy(spec);
    expect(policy.intro).toEqual({ kind: "age", maxAgeNs: 12n * HOUR_NS });
    expect(policy["v1-messages"]).toEqual({ kind: "age", maxAgeNs: 90n * 60n * 1_000_000_000n });
    expect(policy.preferences).toEqual({ kind: "age", maxAgeNs: 45n * 1_000_000_000n });
    expect(policy.contact).toEqual({ kind: "newest", count: 5 });
    // 90m is written as 90m, not 1.5h; 48h as 2d.
    expect(describeRetentionPolicy(policy)).toBe(spec);
    expect(describeRetentionPolicy(parseRetentionPolicy("intro=48h"))).toContain("intro=2d");
    expect(parseRetentionPolicy(describeRetentionPolicy(policy))).toEqual(policy);
  });

  it("refuses what it cannot read, naming the entry and what would be right", () => {
    const refusal = (spec: string) => {
      try {
        parseRetentionPolicy(spec);
      } catch (error) {
        expect(error).toBeInstanceOf(RetentionPolicyError);
        return (error as Error).message;
      }
      throw new Error(`${spec} was accepted`);
    };
    expect(refusal("messages=30d")).toMatch(/unknown topic class "messages".*v2-messages/);
    expect(refusal("v2-messages")).toMatch(/class=value/);
    expect(refusal("v2-messages=30 days")).toMatch(/expected forever, an age/);
    expect(refusal("v2-messages=0d")).toMatch(/more than 0/);
    expect(refusal("contact=newest:0")).toMatch(/at least 1/);
    expect(refusal("v2-messages=30d,v2-messages=60d")).toMatch(/more than once/);
  });

  it("classes topics by prefix: ephemeral and unknown topics belong to none", () => {
    expect(topicClassOf("/xmtp/0/m-abc/proto")).toBe("v2-messages");
    expect(topicClassOf("/xmtp/0/mE-abc/proto")).toBeUndefined();
    expect(topicClassOf("/xmtp/0/dm-0xA-0xB/proto")).toBe("v1-messages");
    expect(topicClassOf("/xmtp/0/dmE-0xA-0xB/proto")).toBeUndefined();
    expect(topicClassOf("/xmtp/0/contact-0xA/proto")).toBe("contact");
    expect(topicClassOf("/xmtp/0/privatestore-0xA/key_bundle")).toBe("privatestore");
    expect(topicClassOf("/xmtp/0/userpreferences-abc/proto")).toBe("preferences");
    expect(topicClassOf("/xmtp/0/invite-0xA/proto")).toBe("invite");
    expect(topicClassOf("/xmtp/0/intro-0xA/proto")).toBe("intro");
    expect(topicClassOf("/other/topic")).toBeUndefined();
  });

  it("turns a class into the store's rule at a moment, and judges an envelope's age by its own timestamp", () => {
    const policy = parseRetentionPolicy("v2-messages=1d,contact=newest:2");
    const now = 100n * DAY_NS;
    expect(retentionRuleOf(policy, "v2-messages", now)).toEqual({ topicPrefix: "/xmtp/0/m-", olderThanNs: 99n * DAY_NS });
    expect(retentionRuleOf(policy, "contact", now)).toEqual({ topicPrefix: "/xmtp/0/contact-", keepNewest: 2 });
    expect(retentionRuleOf(policy, "invite", now)).toBeUndefined();
    // A clock before the age: nothing is old enough.
    expect(retentionRuleOf(policy, "v2-messages", HOUR_NS)).toEqual({ topicPrefix: "/xmtp/0/m-", olderThanNs: 0n });

    expect(isExpired(policy, "/xmtp/0/m-x/proto", 99n * DAY_NS - 1n, now)).toBe("v2-messages");
    expect(isExpired(policy, "/xmtp/0/m-x/proto", 99n * DAY_NS, now)).toBeUndefined();
    // newest:N has no horizon; forever classes and unknown topics never expire.
    expect(isExpired(policy, "/xmtp/0/contact-0xA/proto", 0n, now)).toBeUndefined();
    expect(isExpired(policy, "/xmtp/0/invite-0xA/proto", 0n, now)).toBeUndefined();
    expect(isExpired(policy, "/xmtp/0/mE-x/proto", 0n, now)).toBeUndefined();
  });
});
