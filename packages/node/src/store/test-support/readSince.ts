// Every envelope after a sequence number, in arrival order, the way a catching-up peer ends up reading a store:
// digests first (readDigestsSince), then the envelopes by sequence (readBySequence). Tests use it to see what a store
// holds; the node itself never reads whole envelopes by arrival order (the commit follower has its own statement).
import type { EnvelopeStore, StoredEnvelope } from "../EnvelopeStore.js";

export interface ReplicationPage {
  envelopes: StoredEnvelope[];
  /** Pass as `afterSequence` to continue; equals the input when there was nothing new. */
  nextSequence: bigint;
}

export async function readSince(
  store: Pick<EnvelopeStore, "readDigestsSince" | "readBySequence">,
  afterSequence: bigint,
  limit: number,
): Promise<ReplicationPage> {
  const page = await store.readDigestsSince(afterSequence, limit);
  return { envelopes: await store.readBySequence(page.sequences), nextSequence: page.nextSequence };
}
