// Payers' channels with this node's operator, read from the vault and cached (docs/postage.md §5). A deposit only
// grows between reads except through a withdrawal, which waits the vault's delay: a cached balance is a safe lower
// bound for as long as the cache is much shorter than that delay, and a stamp above the cached deposit is checked
// against a fresh read before it is refused.
import type { ChannelState, PostageVaultClient } from "@xmtp-ts/postage";
import { UnavailableError } from "../errors.js";

/** Where channels are read: the vault (PostageVaultClient), or a stand-in in unit tests. */
export type ChannelReader = Pick<PostageVaultClient, "channel">;

/** Payers remembered at most; the oldest reads are forgotten first. */
const MAX_CACHED_PAYERS = 10_000;

export class ChannelBalances {
  private readonly cache = new Map<string, { state: ChannelState; readAtMs: number }>();

  constructor(
    private readonly reader: ChannelReader,
    private readonly operator: string,
    private readonly cacheMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The payer's channel; `fresh` skips the cache. */
  async get(payer: string, fresh = false): Promise<ChannelState> {
    const key = payer.toLowerCase();
    const cached = this.cache.get(key);
    if (!fresh && cached && this.nowMs() - cached.readAtMs < this.cacheMs) return cached.state;
    let state: ChannelState;
    try {
      state = await this.reader.channel(payer, this.operator);
    } catch (error) {
      // The chain (or its RPC) is down: the publish can be retried, it is not refused.
      throw new UnavailableError(`postage: cannot read the payer's channel from the chain: ${error instanceof Error ? error.message : String(error)}`, 5);
    }
    this.cache.delete(key);
    if (this.cache.size >= MAX_CACHED_PAYERS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { state, readAtMs: this.nowMs() });
    return state;
  }
}
