// The names shown beside peers' addresses in list, read and stream: verified reverse names (ENS), looked up only when
// --eth-rpc-url is set. A lookup that fails never fails the command: the address is shown, a note says once why, and
// no lookup is tried for a while (an RPC that is down stays down for a bit; `stream` runs long and tries again later).
import type { NameResolver } from "@xmtp-ts/client";

/** How long lookups pause after one failed. */
export const NAME_RETRY_AFTER_MS = 60_000;

export class PeerNames {
  private retryAt = Number.NEGATIVE_INFINITY;
  private noted = false;

  constructor(
    private readonly resolver: NameResolver | undefined,
    private readonly onFirstFailure: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether names are looked up at all (an RPC is configured). */
  get enabled(): boolean {
    return this.resolver !== undefined;
  }

  /**
   * The verified name of `address`: undefined when names are off (nothing to say), null when it has none or the
   * lookup failed. The resolver keeps answers for its TTL, so asking again is cheap.
   */
  async nameOf(address: string): Promise<string | null | undefined> {
    if (!this.resolver) return undefined;
    if (!address || this.now() < this.retryAt) return null;
    try {
      return await this.resolver.lookup(address);
    } catch (error) {
      this.retryAt = this.now() + NAME_RETRY_AFTER_MS;
      if (!this.noted) {
        this.noted = true;
        this.onFirstFailure(error);
      }
      return null;
    }
  }
}
