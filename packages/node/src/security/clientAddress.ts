// Who a request comes from, for per-client limits. Behind a reverse proxy every request arrives from the proxy,
// so with `trustProxy` the address the proxy appended to X-Forwarded-For (the last entry) is used instead; without
// it the header is ignored, since any client can write it.
import { isIP } from "node:net";
import type { IncomingMessage } from "node:http";

export function clientAddressOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const header = Array.isArray(forwarded) ? forwarded[forwarded.length - 1] : forwarded;
    if (header) {
      const last = header.split(",").pop()!.trim();
      if (isIP(last)) return last;
    }
  }
  return req.socket.remoteAddress ?? "unknown";
}

/**
 * The key per-client limits are counted under. IPv4-mapped IPv6 addresses count as their IPv4 address; other IPv6
 * addresses count per /64, since a single subscriber usually holds a whole /64 and could otherwise rotate through it.
 */
export function limitKeyOfAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIP(address) !== 6) return address;
  return expandIpv6(address).slice(0, 4).join(":") + "::/64";
}

function expandIpv6(address: string): string[] {
  const withoutZone = address.split("%")[0];
  const [head, tail] = withoutZone.split("::") as [string, string | undefined];
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (e.g. 64:ff9b::1.2.3.4) occupies two groups.
  const last = tailParts.length ? tailParts : headParts;
  if (last.length && last[last.length - 1].includes(".")) {
    const octets = last.pop()!.split(".").map(Number);
    last.push(((octets[0] << 8) | octets[1]).toString(16), ((octets[2] << 8) | octets[3]).toString(16));
  }
  const missing = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  return [...headParts, ...Array<string>(missing).fill("0"), ...tailParts].map((group) =>
    parseInt(group || "0", 16).toString(16),
  );
}
