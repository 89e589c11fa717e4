// ENS names through an Ethereum JSON-RPC: forward (name → address) from the name's resolver; reverse (address →
// primary name) from the address's reverse record, accepted only when that name resolves back to the address.
// Answers, also "no such name", are kept for a TTL; failures are not kept.
import { EnsResolver, getAddress, type JsonRpcProvider } from "ethers";
import { normalizeAddress } from "../contacts/ContactBook.js";
import { normalizeName } from "./nameInput.js";
import { NameRpcError } from "./nameErrors.js";
import type { NameResolver } from "./NameResolver.js";
import { ENS_REGISTRY_ADDRESS, ensProvider, rpcChainId } from "./ensProvider.js";
import { isResolverNotFound, rpcFailureReason } from "./rpcFailure.js";
import { TtlCache } from "./TtlCache.js";

export const DEFAULT_NAME_TTL_MS = 5 * 60_000;
export const DEFAULT_NAME_RPC_TIMEOUT_MS = 10_000;

const LOOK_UP = "look up the name of";

export interface EnsNameResolverOptions {
  /** An Ethereum JSON-RPC endpoint (http or https) of the chain holding the ENS registry, mainnet for real names. */
  rpcUrl: string;
  /** The RPC's chain; default: asked from the RPC (eth_chainId) on first use. */
  chainId?: bigint;
  /** The ENS registry; default ENS's own (ENS_REGISTRY_ADDRESS), at the same address on mainnet and testnets. */
  registryAddress?: string;
  /** How long an answer is kept, found or not (default 5 minutes; 0 keeps nothing). */
  ttlMs?: number;
  /** The clock of the cache, in ms (default Date.now); tests move it. */
  now?: () => number;
  /** Deadline of each JSON-RPC request (default 10 s). */
  timeoutMs?: number;
}

export class EnsNameResolver implements NameResolver {
  readonly rpcUrl: string;
  private readonly registryAddress: string;
  private readonly timeoutMs: number;
  private readonly cache: TtlCache<string | null>;
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private chainId?: bigint;
  private provider?: JsonRpcProvider;

  constructor(options: EnsNameResolverOptions) {
    this.rpcUrl = options.rpcUrl;
    this.chainId = options.chainId;
    this.registryAddress = getAddress(options.registryAddress ?? ENS_REGISTRY_ADDRESS);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_NAME_RPC_TIMEOUT_MS;
    this.cache = new TtlCache(options.ttlMs ?? DEFAULT_NAME_TTL_MS, options.now);
  }

  async resolve(name: string): Promise<string | null> {
    const normalized = normalizeName(name);
    return this.cached(`name:${normalized}`, () => this.readAddress(name, normalized));
  }

  async lookup(address: string): Promise<string | null> {
    const checksummed = normalizeAddress(address);
    return this.cached(`address:${checksummed}`, () => this.readPrimaryName(checksummed));
  }

  /** Forgets every kept answer. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Releases the provider; the resolver makes a new one if used again. */
  destroy(): void {
    this.provider?.destroy();
    this.provider = undefined;
  }

  private async cached(key: string, read: () => Promise<string | null>): Promise<string | null> {
    const hit = this.cache.get(key);
    if (hit.found) return hit.value;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = read().then((value) => {
        this.cache.set(key, value);
        return value;
      });
      this.inFlight.set(key, pending);
      const forget = () => this.inFlight.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  }

  private async connect(input: string, action: string): Promise<JsonRpcProvider> {
    if (this.provider) return this.provider;
    if (this.chainId === undefined) {
      try {
        this.chainId = await rpcChainId(this.rpcUrl, this.timeoutMs);
      } catch (err) {
        throw new NameRpcError(input, this.rpcUrl, rpcFailureReason(err, this.timeoutMs), err, action);
      }
    }
    this.provider ??= ensProvider({
      rpcUrl: this.rpcUrl,
      chainId: this.chainId,
      registryAddress: this.registryAddress,
      timeoutMs: this.timeoutMs,
    });
    return this.provider;
  }

  /** The address record of `normalized`, or null when it has no resolver or no address. */
  private async readAddress(input: string, normalized: string): Promise<string | null> {
    const provider = await this.connect(input, "resolve");
    try {
      const resolver = await EnsResolver.fromName(provider, normalized);
      if (!resolver) return null;
      const address = await resolver.getAddress();
      return address ? getAddress(address) : null;
    } catch (err) {
      if (isResolverNotFound(err)) return null;
      throw new NameRpcError(input, this.rpcUrl, rpcFailureReason(err, this.timeoutMs), err);
    }
  }

  /** The name `address`'s reverse record claims, if that name's own address record is `address`. */
  private async readPrimaryName(address: string): Promise<string | null> {
    const provider = await this.connect(address, LOOK_UP);
    let claimed: string | null;
    try {
      const resolver = await EnsResolver.fromName(provider, `${address.slice(2).toLowerCase()}.addr.reverse`);
      claimed = resolver ? await resolver.getName() : null;
    } catch (err) {
      if (isResolverNotFound(err)) return null;
      throw new NameRpcError(address, this.rpcUrl, rpcFailureReason(err, this.timeoutMs), err, LOOK_UP);
    }
    if (!claimed) return null;
    let normalized: string;
    try {
      normalized = normalizeName(claimed);
    } catch {
      return null;
    }
    // Anyone can write any name into their own reverse record; only the name's address record proves it is theirs.
    const forward = await this.readAddress(claimed, normalized);
    return forward === address ? normalized : null;
  }
}
