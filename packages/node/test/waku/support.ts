// @waku/sdk light nodes for the Waku interop tests. @waku/sdk calls Promise.withResolvers (Node.js 22), so the
// polyfill is loaded before it.
import "../../src/p2p/promiseWithResolvers.js";
import { createLightNode, type LightNode, type Protocols } from "@waku/sdk";
import { eventually, type RelayNode } from "../network/support.js";

/** The node's configuration as a light node must be given it (--waku-cluster-id, --waku-shard-count defaults). */
/** Node flags for a node that light nodes can reach. */
export const WAKU_ARGS = ["--p2p-ws-port", "0"];

export const NETWORK_CONFIG = { clusterId: 0, numShardsInCluster: 8 };

/** The node's WebSocket multiaddr, from its "relay listening" line (the node must run with --p2p-ws-port). */
export function webSocketAddress(node: RelayNode): string {
  const line = node.logs.find((l) => l.includes('"msg":"relay listening"'))!;
  const address = (JSON.parse(line).multiaddrs as string[]).find((a) => a.includes("/ws/"));
  if (!address) throw new Error(`no WebSocket address in ${line}`);
  return address;
}

/**
 * A started light node connected to `node`, ready to use it for `protocols`: the SDK has seen the protocols (identify)
 * and finished its Metadata handshake with the node (before that it answers "No peer available").
 */
export async function lightNodeFor(node: RelayNode, protocols: Protocols[]): Promise<LightNode> {
  // filterMultiaddrs: false lets the SDK dial plain ws:// (by default it dials only wss://).
  const light = await createLightNode({ networkConfig: NETWORK_CONFIG, defaultBootstrap: false, libp2p: { filterMultiaddrs: false } });
  await light.start();
  await light.dial(webSocketAddress(node));
  await light.waitForPeers(protocols, 20_000);
  const peer = light.libp2p.getPeers().find((id) => id.toString() === node.peerId);
  if (!peer) throw new Error(`light node is not connected to ${node.peerId}`);
  await eventually(async () => (await light.libp2p.peerStore.get(peer)).metadata.has("shardInfo"), "the Metadata handshake", 20_000);
  return light;
}
