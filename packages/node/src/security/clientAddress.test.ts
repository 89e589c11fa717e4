import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientAddressOf, limitKeyOfAddress } from "./clientAddress.js";

function req(remoteAddress: string, forwardedFor?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
  } as unknown as IncomingMessage;
}

describe("clientAddressOf", () => {
  it("uses the socket address and ignores X-Forwarded-For unless the proxy is trusted", () => {
    expect(clientAddressOf(req("203.0.113.9", "198.51.100.1"), false)).toBe("203.0.113.9");
  });

  it("behind a trusted proxy, uses the entry the proxy appended (the last one), not a client-written one", () => {
    expect(clientAddressOf(req("127.0.0.1", "6.6.6.6, 198.51.100.1"), true)).toBe("198.51.100.1");
    expect(clientAddressOf(req("127.0.0.1", ["6.6.6.6", "198.51.100.2"]), true)).toBe("198.51.100.2");
  });

  it("falls back to the socket address when the header is missing or not an address", () => {
    expect(clientAddressOf(req("127.0.0.1"), true)).toBe("127.0.0.1");
    expect(clientAddressOf(req("127.0.0.1", "1.2.3.4, not-an-ip"), true)).toBe("127.0.0.1");
  });
});

describe("limitKeyOfAddress", () => {
  it("counts IPv4 and IPv4-mapped IPv6 as the same client", () => {
    expect(limitKeyOfAddress("192.0.2.1")).toBe("192.0.2.1");
    expect(limitKeyOfAddress("::ffff:192.0.2.1")).toBe("192.0.2.1");
  });

  it("counts IPv6 addresses per /64, whatever their spelling", () => {
    const key = limitKeyOfAddress("2001:db8:0:1::1");
    expect(key).toBe("2001:db8:0:1::/64");
    expect(limitKeyOfAddress("2001:0DB8:0000:0001:ffff:ffff:ffff:ffff")).toBe(key);
    expect(limitKeyOfAddress("2001:db8::1:0:0:0:5")).toBe(key);
    expect(limitKeyOfAddress("2001:db8:0:2::1")).not.toBe(key);
    expect(limitKeyOfAddress("::1")).toBe("0:0:0:0::/64");
    expect(limitKeyOfAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(limitKeyOfAddress("64:ff9b::192.0.2.33")).toBe("64:ff9b:0:0::/64");
  });
});
