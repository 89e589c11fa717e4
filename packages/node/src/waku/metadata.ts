// Waku Metadata (RFC 66): answers a peer's request with our cluster id and the shards we serve. A js-waku light node
// uses a service node only when the cluster matches and the shard of its content topic is among ours.
import { create, fromBinary, toBinary, wakuMetadata } from "@xmtp-ts/proto";
import type { Stream } from "@libp2p/interface";
import { serveOneRequest, type RequestResponseLogger } from "./requestResponse.js";

export const METADATA_PROTOCOL = "/vac/waku/metadata/1.0.0";
const MAX_REQUEST_BYTES = 4 * 1024;

export function metadataHandler(clusterId: number, shards: readonly number[], logger: RequestResponseLogger) {
  const response = toBinary(
    wakuMetadata.WakuMetadataResponseSchema,
    create(wakuMetadata.WakuMetadataResponseSchema, { clusterId, shards: [...shards] }),
  );
  return (stream: Stream): Promise<void> =>
    serveOneRequest(
      stream,
      MAX_REQUEST_BYTES,
      async (request) => {
        // Parsed only to refuse garbage; what the peer serves does not change our answer.
        fromBinary(wakuMetadata.WakuMetadataRequestSchema, request);
        return response;
      },
      logger,
      METADATA_PROTOCOL,
    );
}
