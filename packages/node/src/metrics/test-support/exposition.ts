import { expect } from "vitest";

const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;

/** Every line is a HELP/TYPE comment or a sample in the Prometheus text exposition format. */
export function expectValidExposition(text: string): void {
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.trimEnd().split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    expect(line).toMatch(SAMPLE_LINE);
  }
}
