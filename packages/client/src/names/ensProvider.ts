// The ethers provider ENS is read through: the RPC's chain given to ethers (so it never probes, and never retries
// for ever, on an RPC that is down), ENS's registry attached to that chain, no request cache, a deadline per request.
import { EnsPlugin, FetchRequest, JsonRpcProvider, Network } from "ethers";

/** ENS's registry address, the same on Ethereum mainnet and its testnets. */
export const ENS_REGISTRY_ADDRESS = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e";

export interface EnsProviderOptions {
  rpcUrl: string;
  chainId: bigint;
  registryAddress: string;
  timeoutMs: number;
}

function ensNetwork(chainId: bigint, registryAddress: string): Network {
  // A chain ethers knows with ENS on it (mainnet, Sepolia) and this registry: ethers' own network, which also knows
  // ENS's Universal Resolver there (wildcard and offchain names). Any other chain or registry: the given registry,
  // read the classic way (the registry's resolver for the name, then the resolver's record).
  const known = Network.from(chainId);
  const ens = known.getPlugin<EnsPlugin>("org.ethers.plugins.network.Ens");
  if (ens && ens.address.toLowerCase() === registryAddress.toLowerCase() && ens.targetNetwork === Number(chainId)) return known;
  const network = new Network(`ens-chain-${chainId}`, chainId);
  network.attachPlugin(new EnsPlugin(registryAddress, Number(chainId)));
  return network;
}

export function ensProvider(options: EnsProviderOptions): JsonRpcProvider {
  const request = new FetchRequest(options.rpcUrl);
  request.timeout = options.timeoutMs;
  const network = ensNetwork(options.chainId, options.registryAddress);
  return new JsonRpcProvider(request, network, { staticNetwork: network, cacheTimeout: -1, batchStallTime: 0 });
}

/** The chain an RPC serves (eth_chainId), asked once with a deadline; throws what fetch throws, or an Error. */
export async function rpcChainId(rpcUrl: string, timeoutMs: number): Promise<bigint> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  let body: { result?: unknown; error?: { message?: unknown } };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new Error(`HTTP ${response.status}, not JSON-RPC`);
  }
  if (typeof body?.result !== "string" || !/^0x[0-9a-fA-F]+$/.test(body.result)) {
    throw new Error(typeof body?.error?.message === "string" ? body.error.message : `HTTP ${response.status}, no chain id`);
  }
  return BigInt(body.result);
}
