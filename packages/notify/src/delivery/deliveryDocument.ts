// What a receiver gets for one delivery attempt, whatever the target: the same JSON document as a webhook's body
// and, encrypted, as a Web Push message (packages/notify/README.md "Webhooks", "Web Push").
import { envelopeToJson } from "../envelope.js";
import type { DueDelivery } from "../store/NotifyStore.js";

export interface DeliveryDocument {
  installationId: string;
  /** `<installationId>:<digest>`, the same on every attempt: receivers dedupe on it. */
  deliveryId: string;
  digest: string;
  attempt: number;
  sentAt: string;
  envelope: { contentTopic: string; timestampNs: string; message?: string };
  /** Set when the envelope's message did not fit (Web Push): the receiver fetches it from a node by topic and digest. */
  messageOmitted?: true;
}

export function deliveryDocument(delivery: DueDelivery, attempt: number, sentAtMs: number): DeliveryDocument {
  return {
    installationId: delivery.installationId,
    deliveryId: `${delivery.installationId}:${delivery.envelope.digest}`,
    digest: delivery.envelope.digest,
    attempt,
    sentAt: new Date(sentAtMs).toISOString(),
    envelope: envelopeToJson(delivery.envelope),
  };
}
