// A bare Waku relay host for tests: a libp2p node with gossipsub speaking /vac/waku/relay/2.0.0, unsigned messages,
// message ids sha256(data) as Waku's. It runs none of our relay code, so it stands in for another implementation (or
// a rogue peer) that a node relays with.
import "../../p2p/promiseWithResolvers.js";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { identify } from "@libp2p/identify";
import { gossipsub, StrictNoSign } from "@libp2p/gossipsub";
import { relayMessageId } from "../messageId.js";
import { WakuRelay } from "../wakuRelay.js";

/** Starts the host on a free loopback port; `onStop` is given its stop function for the test's cleanup. */
export async function startBareRelayHost(onStop: (stop: () => Promise<void>) => void) {
  const host = await createLibp2p({
    start: false,
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({ globalSignaturePolicy: StrictNoSign, allowPublishToZeroTopicPeers: true, fallbackToFloodsub: false, msgIdFn: relayMessageId }),
    },
  });
  WakuRelay.useWakuProtocol(host.services.pubsub);
  await host.start();
  onStop(async () => {
    await host.stop();
  });
  return host;
}
