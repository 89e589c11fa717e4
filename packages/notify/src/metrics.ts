// Prometheus text exposition of what the service does: deliveries by outcome, queue depth, dead letters, envelopes
// taken from each node, stream (re)connections.
import type { NotifyStore } from "./store/NotifyStore.js";

export type DeliveryOutcome = "delivered" | "retry" | "dead";

export class NotifyMetrics {
  readonly deliveries: Record<DeliveryOutcome, number> = { delivered: 0, retry: 0, dead: 0 };
  private readonly received = new Map<string, { fresh: number; duplicates: number }>();
  private readonly connects = new Map<string, number>();
  enqueued = 0;
  /** Installations removed by the service because their target is gone (a push subscription answering 404/410). */
  installationsRemoved = 0;

  countReceived(node: string, fresh: number, duplicates: number): void {
    const entry = this.received.get(node) ?? { fresh: 0, duplicates: 0 };
    entry.fresh += fresh;
    entry.duplicates += duplicates;
    this.received.set(node, entry);
  }

  countConnect(node: string): void {
    this.connects.set(node, (this.connects.get(node) ?? 0) + 1);
  }

  async render(store: NotifyStore): Promise<string> {
    const stats = await store.queueStats();
    const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const lines = [
      "# HELP xmtp_notify_deliveries_total Delivery attempts by outcome: delivered, retry (failed, will be retried), dead (failed, dead-lettered).",
      "# TYPE xmtp_notify_deliveries_total counter",
      ...(Object.keys(this.deliveries) as DeliveryOutcome[]).map((o) => `xmtp_notify_deliveries_total{outcome="${o}"} ${this.deliveries[o]}`),
      "# HELP xmtp_notify_queue_depth Deliveries waiting to be delivered (pending).",
      "# TYPE xmtp_notify_queue_depth gauge",
      `xmtp_notify_queue_depth ${stats.pending}`,
      "# HELP xmtp_notify_dead_letters Dead-lettered deliveries kept for their installations.",
      "# TYPE xmtp_notify_dead_letters gauge",
      `xmtp_notify_dead_letters ${stats.dead}`,
      "# HELP xmtp_notify_installations Registered installations.",
      "# TYPE xmtp_notify_installations gauge",
      `xmtp_notify_installations ${stats.installations}`,
      "# HELP xmtp_notify_installations_removed_total Installations removed because their target is gone (a push subscription answering 404 or 410).",
      "# TYPE xmtp_notify_installations_removed_total counter",
      `xmtp_notify_installations_removed_total ${this.installationsRemoved}`,
      "# HELP xmtp_notify_enqueued_total Deliveries enqueued.",
      "# TYPE xmtp_notify_enqueued_total counter",
      `xmtp_notify_enqueued_total ${this.enqueued}`,
      "# HELP xmtp_notify_envelopes_total Envelopes read from a node, fresh or already seen (by digest).",
      "# TYPE xmtp_notify_envelopes_total counter",
      ...[...this.received].flatMap(([node, c]) => [
        `xmtp_notify_envelopes_total{node="${label(node)}",kind="fresh"} ${c.fresh}`,
        `xmtp_notify_envelopes_total{node="${label(node)}",kind="duplicate"} ${c.duplicates}`,
      ]),
      "# HELP xmtp_notify_stream_connects_total subscribe-all streams opened to a node.",
      "# TYPE xmtp_notify_stream_connects_total counter",
      ...[...this.connects].map(([node, n]) => `xmtp_notify_stream_connects_total{node="${label(node)}"} ${n}`),
    ];
    return lines.join("\n") + "\n";
  }
}
