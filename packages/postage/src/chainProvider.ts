// The JSON-RPC provider the postage code talks to the chain through. ethers' default caches identical requests
// for 250 ms, so a second transaction sent right after a first one reads the old nonce and fails with "nonce too
// low" (and a balance read right after a transfer is stale): every provider here is made without that cache.
// ethers also holds each request 10 ms hoping to batch it with others; a transaction is ~8 requests in a row, so
// that stall is the bulk of its latency on a local chain. Requests made in the same tick are still batched.

import { JsonRpcProvider, Network } from "ethers";

export interface ChainProviderOptions {
  /** The chain the RPC must serve; given, ethers never asks the node for it again. */
  chainId?: bigint;
  /** How often ethers polls for new blocks while waiting for a receipt (its default is 4000 ms). */
  pollingIntervalMs?: number;
}

export function createChainProvider(rpcUrl: string, options: ChainProviderOptions = {}): JsonRpcProvider {
  const network = options.chainId === undefined ? undefined : Network.from(options.chainId);
  return new JsonRpcProvider(rpcUrl, network, {
    cacheTimeout: -1,
    batchStallTime: 0,
    staticNetwork: network ?? null,
    ...(options.pollingIntervalMs === undefined ? {} : { pollingInterval: options.pollingIntervalMs }),
  });
}
