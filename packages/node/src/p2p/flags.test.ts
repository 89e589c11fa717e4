// The network's command-line flags, as parsed by the node's one configuration parser.
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULTS, parseCommandLine, type NodeConfig } from "../config.js";
import { PeerAddressError, listenAddress, parsePeerAddress } from "./peerAddress.js";

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseCommandLine(argv, env, "/srv");
  if (parsed.help) throw new Error("unexpected help");
  return parsed.config as NodeConfig;
};

describe("network flags", () => {
  it("leave the relay off and anti-entropy at its default unless given", () => {
    const config = parse([]);
    expect(config.p2p.port).toBeUndefined();
    expect(config.p2p.host).toBe("0.0.0.0");
    expect(config.p2p.syncIntervalMs).toBe(DEFAULTS.syncIntervalMs);
  });

  it("read --sync-interval-ms from the flag or XMTP_SYNC_INTERVAL_MS, flag first", () => {
    expect(parse(["--sync-interval-ms", "250"]).p2p.syncIntervalMs).toBe(250);
    expect(parse([], { XMTP_SYNC_INTERVAL_MS: "0" }).p2p.syncIntervalMs).toBe(0);
    expect(parse(["--sync-interval-ms=9"], { XMTP_SYNC_INTERVAL_MS: "7" }).p2p.syncIntervalMs).toBe(9);
    expect(() => parse(["--sync-interval-ms", "-1"])).toThrow(ConfigError);
    expect(() => parse(["--sync-interval-ms", "soon"])).toThrow(/--sync-interval-ms must be an integer/);
  });
});

describe("peer addresses", () => {
  it("accept TCP multiaddrs with or without /p2p/<id>", () => {
    expect(parsePeerAddress("/ip4/127.0.0.1/tcp/6001").toString()).toBe("/ip4/127.0.0.1/tcp/6001");
    const withId = "/ip4/127.0.0.1/tcp/6001/p2p/12D3KooWT1k7Y38snkfsgGNQit1Ri8FAWMSUunsMFFKQt6wc7sLt";
    expect(parsePeerAddress(withId).toString()).toBe(withId);
    expect(parsePeerAddress("/dns4/node.example/tcp/6001").toString()).toBe("/dns4/node.example/tcp/6001");
  });

  it("say what is wrong with a bad one", () => {
    expect(() => parsePeerAddress("127.0.0.1:6001")).toThrow(PeerAddressError);
    expect(() => parsePeerAddress("/ip4/127.0.0.1/udp/6001")).toThrow(/must start with \/ip4\/<addr>\/tcp\/<port>/);
    expect(() => parsePeerAddress("/ip4/127.0.0.1/tcp/6001/ws")).toThrow(/may only end with \/p2p\/<peer id>/);
    expect(() => parsePeerAddress("/ip4/999.0.0.1/tcp/1")).toThrow(/is not a multiaddr/);
  });

  it("build the listen address from --p2p-host and --p2p-port", () => {
    expect(listenAddress("0.0.0.0", 0)).toBe("/ip4/0.0.0.0/tcp/0");
    expect(listenAddress("::1", 6001)).toBe("/ip6/::1/tcp/6001");
    expect(() => listenAddress("localhost", 1)).toThrow(/must be an IPv4 or IPv6 address/);
    expect(() => listenAddress("127.0.0.1", 70000)).toThrow(/is not a port number/);
  });
});
