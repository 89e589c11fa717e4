// Peers' ENS names and avatars, looked up only when the app has an Ethereum JSON-RPC (?ethRpcUrl= or the connect
// screen's advanced settings). Names come from the client's EnsNameResolver: a reverse record counts only when the
// name resolves back to the peer. Avatars are the verified name's `avatar` text record, read with two eth_calls
// (names.ts), shown only when it is an https or data: image URL. A failed lookup shows the address, and is tried again
// a minute later.
import { EnsNameResolver, type NameResolver } from "@xmtp-ts/client";
import { avatarUrlOf, decodeAddress, decodeString, ENS_REGISTRY, namehash, resolverCall, textCall, type PeerName } from "../names.js";

/** How long a peer whose lookup failed shows its address before the lookup is tried again. */
export const NAME_RETRY_MS = 60_000;

/** One eth_call on the RPC: the hex the contract returned; throws on an RPC error or a revert. */
export type EthCall = (to: string, data: string) => Promise<string>;

export function jsonRpcEthCall(rpcUrl: string, fetchImpl: typeof fetch = (...args) => fetch(...args)): EthCall {
  let id = 0;
  return async (to, data) => {
    const response = await fetchImpl(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "eth_call", params: [{ to, data }, "latest"] }),
    });
    if (!response.ok) throw new Error(`the Ethereum JSON-RPC at ${rpcUrl} answered HTTP ${response.status}`);
    const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
    if (body.error) throw new Error(`the Ethereum JSON-RPC at ${rpcUrl} refused the call: ${body.error.message ?? "unknown error"}`);
    if (typeof body.result !== "string") throw new Error(`the Ethereum JSON-RPC at ${rpcUrl} gave no result`);
    return body.result;
  };
}

export interface NameDirectoryOptions {
  resolver?: NameResolver & { destroy?(): void };
  ethCall?: EthCall;
  /** Called when a lookup finished: the views draw again. */
  onChange(): void;
  setTimer?: (run: () => void, ms: number) => unknown;
}

export class NameDirectory {
  private readonly known = new Map<string, PeerName>();
  private readonly asked = new Set<string>();
  private readonly resolver: NameResolver & { destroy?(): void };
  private readonly ethCall: EthCall;
  private readonly setTimer: (run: () => void, ms: number) => unknown;
  private closed = false;

  constructor(
    readonly rpcUrl: string,
    private readonly options: NameDirectoryOptions,
  ) {
    this.resolver = options.resolver ?? new EnsNameResolver({ rpcUrl });
    this.ethCall = options.ethCall ?? jsonRpcEthCall(rpcUrl);
    this.setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
  }

  /** What is known of `address` so far (undefined: not looked up yet, or the lookup failed). */
  get(address: string): PeerName | undefined {
    return this.known.get(address);
  }

  /** Looks up the peers not asked about yet; each answer calls onChange. */
  want(addresses: Iterable<string>): void {
    for (const address of addresses) {
      if (this.asked.has(address)) continue;
      this.asked.add(address);
      void this.find(address);
    }
  }

  /** The address a name points to (null: none); throws the client's InvalidNameError or NameRpcError. */
  resolve(name: string): Promise<string | null> {
    return this.resolver.resolve(name);
  }

  /** Stops: later answers are dropped. */
  close(): void {
    this.closed = true;
    this.resolver.destroy?.();
  }

  private async find(address: string): Promise<void> {
    let name: string | null;
    try {
      name = await this.resolver.lookup(address);
    } catch (err) {
      console.warn(`Names: could not look up ${address}; showing the address.`, err);
      this.setTimer(() => this.asked.delete(address), NAME_RETRY_MS);
      return;
    }
    let avatarUrl: string | undefined;
    if (name) {
      try {
        avatarUrl = await this.avatarOf(name);
      } catch (err) {
        // No text record support, or the RPC failed: the initials show.
        console.warn(`Names: could not read the avatar of ${name}.`, err);
      }
    }
    if (this.closed) return;
    this.known.set(address, avatarUrl ? { name, avatarUrl } : { name });
    this.options.onChange();
  }

  /** The `avatar` text record of a (verified, normalized) name, when it is a URL the app loads. */
  private async avatarOf(name: string): Promise<string | undefined> {
    const node = namehash(name);
    const resolver = decodeAddress(await this.ethCall(ENS_REGISTRY, resolverCall(node)));
    if (!resolver) return undefined;
    return avatarUrlOf(decodeString(await this.ethCall(resolver, textCall(node, "avatar"))));
  }
}
