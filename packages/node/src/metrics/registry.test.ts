import { describe, expect, it } from "vitest";
import { MetricsRegistry } from "./registry.js";
import { expectValidExposition } from "./test-support/exposition.js";

describe("MetricsRegistry", () => {
  it("renders counters with labels, escaping label values", () => {
    const r = new MetricsRegistry();
    const c = r.counter("requests_total", "Requests.\nSecond line", ["endpoint", "code"]);
    c.inc({ endpoint: "publish", code: 200 });
    c.inc({ endpoint: "publish", code: 200 }, 2);
    c.inc({ endpoint: 'we"ird\\path\n', code: 404 });
    const text = r.render();
    expectValidExposition(text);
    expect(text).toContain("# HELP requests_total Requests.\\nSecond line\n# TYPE requests_total counter\n");
    expect(text).toContain('requests_total{endpoint="publish",code="200"} 3\n');
    expect(text).toContain('requests_total{endpoint="we\\"ird\\\\path\\n",code="404"} 1\n');
  });

  it("renders an unlabelled counter at zero before any increment", () => {
    const r = new MetricsRegistry();
    r.counter("things_total", "Things.");
    expect(r.render()).toContain("things_total 0\n");
  });

  it("refuses to count down, missing labels and duplicate names", () => {
    const r = new MetricsRegistry();
    const c = r.counter("x_total", "X.", ["a"]);
    expect(() => c.inc({ a: "1" }, -1)).toThrow(/can only grow/);
    expect(() => c.inc({})).toThrow(/needs label a/);
    expect(() => r.counter("x_total", "again")).toThrow(/already registered/);
    expect(() => r.counter("bad-name", "B.")).toThrow(/invalid metric name/);
  });

  it("renders gauges, including ones read from a callback at scrape time", () => {
    const r = new MetricsRegistry();
    const g = r.gauge("open_streams", "Open.");
    g.inc();
    g.inc();
    g.dec();
    let peers = 3;
    r.gauge("peers", "Peers.").collect(() => peers);
    expect(r.render()).toContain("open_streams 1\n");
    expect(r.render()).toContain("peers 3\n");
    peers = 5;
    expect(r.render()).toContain("peers 5\n");
  });

  it("keeps the last value when a gauge callback throws", () => {
    const r = new MetricsRegistry();
    let fail = false;
    r.gauge("peers", "Peers.").collect(() => {
      if (fail) throw new Error("relay gone");
      return 2;
    });
    r.render();
    fail = true;
    expect(r.render()).toContain("peers 2\n");
  });

  it("renders histograms with cumulative buckets, +Inf, sum and count", () => {
    const r = new MetricsRegistry();
    const h = r.histogram("latency_seconds", "Latency.", [0.1, 0.01, 1], ["operation"]);
    for (const v of [0.005, 0.05, 0.05, 0.5, 5]) h.observe(v, { operation: "append" });
    const text = r.render();
    expectValidExposition(text);
    expect(text).toContain(
      [
        'latency_seconds_bucket{operation="append",le="0.01"} 1',
        'latency_seconds_bucket{operation="append",le="0.1"} 3',
        'latency_seconds_bucket{operation="append",le="1"} 4',
        'latency_seconds_bucket{operation="append",le="+Inf"} 5',
        'latency_seconds_sum{operation="append"} 5.605',
        'latency_seconds_count{operation="append"} 5',
      ].join("\n"),
    );
  });
});
