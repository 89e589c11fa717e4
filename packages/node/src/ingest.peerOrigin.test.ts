// What the ingest asks of the store for envelopes from peers versus local publishes (see docs/network.md,
// "Durability of what peers send"), and that a digest computed upstream is used as it is.
import { describe, expect, it } from "vitest";
import { SubscriptionHub } from "./hub.js";
import { EnvelopeIngest } from "./ingest.js";
import { withDigest } from "./store/digest.js";
import type { Envelope, EnvelopeStore, StoredEnvelope } from "./store/EnvelopeStore.js";

/** A store that records the options of each append and stores nothing twice. */
function recordingStore() {
  const appends: { envelopes: StoredEnvelope[]; durable: boolean | undefined }[] = [];
  const store = {
    async append(envelopes: StoredEnvelope[], _onCommitted?: unknown, options?: { durable?: boolean }) {
      appends.push({ envelopes, durable: options?.durable });
      return envelopes;
    },
    query: async () => ({ envelopes: [] }),
    flushCommitted: async () => {},
    close: async () => {},
  };
  return { appends, store: store as unknown as EnvelopeStore };
}
const env = (text: string): Envelope => ({ contentTopic: "/xmtp/0/m-origin/proto", timestampNs: 1n, message: new TextEncoder().encode(text) });

describe("EnvelopeIngest by origin", () => {
  it("asks for a durable commit for local publishes and a plain commit for envelopes from peers", async () => {
    const { appends, store } = recordingStore();
    const ingest = new EnvelopeIngest(store, new SubscriptionHub());
    await ingest.ingest([env("local")], "local");
    await ingest.ingest([env("peer")], "peer");
    expect(appends.map((a) => a.durable)).toEqual([true, false]);
  });

  it("uses the digest an envelope already carries and computes the missing ones", async () => {
    const { appends, store } = recordingStore();
    const ingest = new EnvelopeIngest(store, new SubscriptionHub());
    const carried = withDigest(env("relayed"));
    const result = await ingest.ingest([carried, env("plain")], "peer");
    expect(appends[0].envelopes[0]).toBe(carried);
    expect(appends[0].envelopes[1].digest).toEqual(withDigest(env("plain")).digest);
    expect(result.delivered).toHaveLength(2);
  });
});
