import { describe, expect, it } from "vitest";
import { contactTopic, introTopic, inviteTopic } from "@xmtp-ts/crypto";
import { parseReachTopic, reachTopic, reachTopicKind } from "./reachTopics.js";

const OWNER = "0x5CbDd86a2FA8Dc4bDdd8a8f69dBa48572EeC07FB";

describe("reach topics (docs/postage.md §1)", () => {
  it("parses the topics the SDKs write invitations and intros to", () => {
    expect(parseReachTopic(inviteTopic(OWNER))).toEqual({ kind: "invite", owner: OWNER });
    expect(parseReachTopic(introTopic(OWNER.toLowerCase()))).toEqual({ kind: "intro", owner: OWNER });
    expect(reachTopic("invite", OWNER.toLowerCase())).toBe(`/xmtp/0/invite-${OWNER}/proto`);
  });

  it("is not fooled by other topics", () => {
    for (const topic of [
      contactTopic(OWNER),
      `/xmtp/0/dm-${OWNER}-${OWNER}/proto`,
      "/xmtp/0/m-abcdef/proto",
      `/xmtp/1/invite-${OWNER}/proto`,
      `invite-${OWNER}`,
      `/xmtp/0/userpreferences-${OWNER}/proto`,
      "",
    ]) {
      expect(parseReachTopic(topic)).toBeUndefined();
      expect(reachTopicKind(topic)).toBeUndefined();
    }
  });

  it("gives an owner only to the canonical form; other invite-/intro- topics are candidates without one", () => {
    for (const topic of [
      `/xmtp/0/invite-${OWNER.toLowerCase()}/proto`, // not EIP-55: the node compares exact strings
      `/xmtp/0/invite-0x${OWNER.slice(2).toUpperCase()}/proto`,
      `/xmtp/0/invite-${OWNER}`, // no /proto
      `/xmtp/0/invite-${OWNER}/key_bundle/proto`, // extra segment (the node reads only the first)
      `/xmtp/0/invite-${OWNER}/proto/`,
      `/xmtp/0/intro-${OWNER}x/proto`,
      `/xmtp/0/intro-${OWNER.slice(0, 41)}/proto`,
      "/xmtp/0/intro-/proto",
      "/xmtp/0/invite-bob/proto",
      `/xmtp/0/invite- ${OWNER}/proto`,
    ]) {
      expect(parseReachTopic(topic), topic).toBeUndefined();
      expect(reachTopicKind(topic), topic).toMatch(/^(invite|intro)$/);
    }
  });
});
