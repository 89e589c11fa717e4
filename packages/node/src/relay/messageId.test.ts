import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Message } from "@libp2p/gossipsub";
import { relayMessageId, relayMessageIdKey } from "./messageId.js";

const unsigned = (data: Uint8Array): Message => ({ type: "unsigned", topic: "/waku/2/default-waku/proto", data });

describe("relay message ids", () => {
  it("are sha256 of the message data, gossipsub's default for unsigned messages, so peers agree on them", () => {
    const data = new TextEncoder().encode("a relayed WakuMessage");
    expect(Buffer.from(relayMessageId(unsigned(data)))).toEqual(createHash("sha256").update(data).digest());
    // Only the bytes of a view count, not the rest of the buffer it is cut from.
    const framed = new Uint8Array([9, 9, ...data, 9]);
    expect(Buffer.from(relayMessageId(unsigned(framed.subarray(2, 2 + data.length))))).toEqual(createHash("sha256").update(data).digest());
  });

  it("have an exact string key: one character per byte, distinct for distinct ids", () => {
    const a = relayMessageId(unsigned(Uint8Array.of(1)));
    const b = relayMessageId(unsigned(Uint8Array.of(2)));
    const key = relayMessageIdKey(a);
    expect(key).toHaveLength(32);
    expect(Buffer.from(key, "latin1")).toEqual(Buffer.from(a));
    expect(relayMessageIdKey(b)).not.toBe(key);
    expect(relayMessageIdKey(a.slice())).toBe(key);
  });
});
