// Parsing of --peer and --p2p-host values into multiaddrs, with errors that say what is wrong.
import { isIP } from "node:net";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";

export class PeerAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PeerAddressError";
  }
}

const DIALABLE_HOSTS = new Set(["ip4", "ip6", "dns", "dns4", "dns6"]);

/** A --peer value: a multiaddr of a TCP address, with or without a trailing /p2p/<peer id>. */
export function parsePeerAddress(text: string): Multiaddr {
  let address: Multiaddr;
  try {
    address = multiaddr(text);
  } catch (error) {
    throw new PeerAddressError(`--peer ${JSON.stringify(text)} is not a multiaddr (${error instanceof Error ? error.message : String(error)}); expected e.g. /ip4/127.0.0.1/tcp/6001/p2p/12D3KooW…`);
  }
  const names = address.getComponents().map((component) => component.name);
  if (!DIALABLE_HOSTS.has(names[0] ?? "") || names[1] !== "tcp") {
    throw new PeerAddressError(`--peer ${JSON.stringify(text)} must start with /ip4/<addr>/tcp/<port> (or /ip6, /dns4, /dns6, /dns)`);
  }
  const rest = names.slice(2);
  if (rest.length > 1 || (rest.length === 1 && rest[0] !== "p2p")) {
    throw new PeerAddressError(`--peer ${JSON.stringify(text)} may only end with /p2p/<peer id> after the TCP port`);
  }
  return address;
}

/** The multiaddr this node listens on for --p2p-host/--p2p-port. */
export function listenAddress(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PeerAddressError(`--p2p-port ${port} is not a port number (0-65535; 0 picks a free port)`);
  }
  const family = isIP(host);
  if (family === 4) return `/ip4/${host}/tcp/${port}`;
  if (family === 6) return `/ip6/${host}/tcp/${port}`;
  throw new PeerAddressError(`--p2p-host ${JSON.stringify(host)} must be an IPv4 or IPv6 address (e.g. 0.0.0.0 or 127.0.0.1)`);
}
