// A small Prometheus registry writing the text exposition format (version 0.0.4): counters, gauges (set directly
// or read from a callback at scrape time) and histograms, each with optional labels.

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string | number>;

interface Metric {
  readonly name: string;
  render(): string;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabelValue(values[i])}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

abstract class LabelledMetric<T> implements Metric {
  protected readonly series = new Map<string, { values: string[]; state: T }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly type: string,
  ) {
    if (!NAME_RE.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
    for (const label of labelNames) {
      if (!LABEL_RE.test(label) || label.startsWith("__")) throw new TypeError(`invalid label name ${JSON.stringify(label)}`);
    }
  }

  protected stateFor(labels: Labels | undefined, init: () => T): T {
    const values = this.labelNames.map((name) => {
      const value = labels?.[name];
      if (value === undefined) throw new TypeError(`metric ${this.name} needs label ${name}`);
      return String(value);
    });
    const key = values.join("\u0000");
    let entry = this.series.get(key);
    if (!entry) {
      entry = { values, state: init() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  protected abstract renderSeries(values: string[], state: T): string[];

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { values, state } of this.series.values()) lines.push(...this.renderSeries(values, state));
    return lines.join("\n");
  }
}

export class Counter extends LabelledMetric<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "counter");
    if (labelNames.length === 0) this.stateFor(undefined, () => ({ value: 0 }));
  }

  inc(labels?: Labels, amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`counter ${this.name} can only grow, got ${amount}`);
    this.stateFor(labels, () => ({ value: 0 })).value += amount;
  }

  get(labels?: Labels): number {
    return this.stateFor(labels, () => ({ value: 0 })).value;
  }

  protected renderSeries(values: string[], state: { value: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatValue(state.value)}`];
  }
}

export class Gauge extends LabelledMetric<{ value: number }> {
  private collector: (() => number | undefined) | undefined;

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "gauge");
    if (labelNames.length === 0) this.stateFor(undefined, () => ({ value: 0 }));
  }

  set(value: number, labels?: Labels): void {
    this.stateFor(labels, () => ({ value: 0 })).value = value;
  }

  inc(labels?: Labels, amount = 1): void {
    this.stateFor(labels, () => ({ value: 0 })).value += amount;
  }

  dec(labels?: Labels, amount = 1): void {
    this.stateFor(labels, () => ({ value: 0 })).value -= amount;
  }

  get(labels?: Labels): number {
    return this.stateFor(labels, () => ({ value: 0 })).value;
  }

  /** For an unlabelled gauge owned by another component: read at every scrape (undefined keeps the last value). */
  collect(read: () => number | undefined): void {
    if (this.labelNames.length) throw new TypeError(`gauge ${this.name} has labels; collect works on plain gauges`);
    this.collector = read;
  }

  override render(): string {
    if (this.collector) {
      try {
        const value = this.collector();
        if (value !== undefined) this.set(value);
      } catch {
        // A failing source must not break the whole scrape; the last value stays.
      }
    }
    return super.render();
  }

  protected renderSeries(values: string[], state: { value: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatValue(state.value)}`];
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends LabelledMetric<HistogramState> {
  readonly buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames, "histogram");
    if (labelNames.includes("le")) throw new TypeError(`histogram ${name} may not use the label "le"`);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (!sorted.length || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new TypeError(`histogram ${name} needs distinct finite bucket bounds`);
    }
    this.buckets = sorted;
  }

  observe(value: number, labels?: Labels): void {
    const state = this.stateFor(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) state.counts[i]++;
    state.sum += value;
    state.count++;
  }

  /** Starts a timer; calling the result records the elapsed seconds. */
  startTimer(labels?: Labels): () => number {
    const start = process.hrtime.bigint();
    return () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.observe(seconds, labels);
      return seconds;
    };
  }

  protected renderSeries(values: string[], state: HistogramState): string[] {
    const lines = this.buckets.map(
      (bound, i) =>
        `${this.name}_bucket${labelText(this.labelNames, values, ["le", formatValue(bound)])} ${state.counts[i]}`,
    );
    lines.push(`${this.name}_bucket${labelText(this.labelNames, values, ["le", "+Inf"])} ${state.count}`);
    lines.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatValue(state.sum)}`);
    lines.push(`${this.name}_count${labelText(this.labelNames, values)} ${state.count}`);
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new TypeError(`metric ${metric.name} is already registered`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram(name, help, buckets, labelNames));
  }

  render(): string {
    return [...this.metrics.values()].map((metric) => metric.render()).join("\n") + "\n";
  }
}
