// Who sent a Waku request, and the rate limits the Waku services count per remote peer and per remote address (a
// peer may reconnect from elsewhere; an address may host many peer ids).
import type { Connection } from "@libp2p/interface";
import { limitKeyOfAddress } from "../security/clientAddress.js";
import { RateLimiter, type BucketPolicy } from "../security/rateLimiter.js";

/** The sender of a request: rate limits count per remote peer and per remote address. */
export type RemoteEnd = Pick<Connection, "remotePeer" | "remoteAddr">;

/** The IP address of a connection's remote multiaddr (its first ip4/ip6 component), or "unknown". */
export function hostOf(remote: RemoteEnd): string {
  const components = remote.remoteAddr.getComponents();
  return components.find((component) => component.name === "ip4" || component.name === "ip6")?.value ?? "unknown";
}

export interface RemoteRefusal {
  /** "peer <id>" or "address <ip>", whichever ran out. */
  who: string;
  retryAfterSeconds: number;
}

export class RemoteRateLimits {
  private readonly byPeer = new RateLimiter();
  private readonly byAddress = new RateLimiter();

  /** Takes `cost` tokens from the peer's bucket, then the address's; the first that runs out refuses. */
  take(remote: RemoteEnd, policy: BucketPolicy, cost = 1): RemoteRefusal | undefined {
    const peer = remote.remotePeer.toString();
    const address = limitKeyOfAddress(hostOf(remote));
    for (const [limiter, who] of [
      [this.byPeer, `peer ${peer}`],
      [this.byAddress, `address ${address}`],
    ] as const) {
      const decision = limiter.take(who, policy, cost);
      if (!decision.allowed) return { who, retryAfterSeconds: decision.retryAfterSeconds };
    }
    return undefined;
  }
}
