// The running counts of a broadcast, reported to onProgress on every change.
import type { BroadcastPhase, BroadcastProgress } from "./types.js";

type Count = Exclude<keyof BroadcastProgress, "phase" | "total" | "done">;

export class ProgressCounter {
  private readonly counts: Omit<BroadcastProgress, "phase" | "total" | "done"> = {
    checked: 0,
    sent: 0,
    alreadySent: 0,
    recovered: 0,
    notOnNetwork: 0,
    failed: 0,
    inFlight: 0,
    rateLimited: 0,
  };
  private phase: BroadcastPhase = "checking";

  constructor(
    private readonly total: number,
    private readonly onProgress?: (progress: BroadcastProgress) => void,
  ) {}

  add(count: Count, by = 1): void {
    this.counts[count] += by;
    this.report();
  }

  /** Several counts at once, reported once. */
  addAll(changes: Partial<Record<Count, number>>): void {
    for (const [count, by] of Object.entries(changes) as [Count, number][]) this.counts[count] += by;
    this.report();
  }

  enter(phase: BroadcastPhase): void {
    this.phase = phase;
    this.report();
  }

  get(count: Count): number {
    return this.counts[count];
  }

  snapshot(): BroadcastProgress {
    const c = this.counts;
    const done = c.alreadySent + c.sent + c.recovered + c.notOnNetwork + c.failed;
    return { phase: this.phase, total: this.total, ...c, done };
  }

  private report(): void {
    if (!this.onProgress) return;
    try {
      this.onProgress(this.snapshot());
    } catch {
      // A failing progress callback must not break the broadcast (nor leave a send unrecorded).
    }
  }
}
