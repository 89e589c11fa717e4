// Per-record cost of get, list and put, for small (200-byte) and large (200-KB) values, and the warm start the
// client needs: open a store of 10,000 conversations and list them all (budget: 0.3 s). Browser-safe: Node.js
// measures SQLite with it (test/timings.test.ts), Chromium measures IndexedDB (test/browser/page.ts).
import type { LocalDatabase, LocalWrite } from "../localDatabase.js";

export interface TimingRow {
  operation: string;
  valueBytes: number;
  records: number;
  microsecondsPerRecord: number;
}

export interface Timings {
  rows: TimingRow[];
  /** open + list of WARM_START_CONVERSATIONS records, each run. */
  warmStartMilliseconds: number[];
}

export const WARM_START_CONVERSATIONS = 10_000;
/** A conversation record as the client keeps it: topic, peer, context, a few hundred bytes. */
const CONVERSATION_BYTES = 300;

export interface TimingOptions {
  /** Opens the store at `name` (a fresh one the first time). */
  open(name: string): Promise<LocalDatabase>;
  smallRecords?: number;
  largeRecords?: number;
  warmStartRuns?: number;
}

function value(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 997) bytes[i] = (seed + i) & 0xff;
  return bytes;
}

async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

export async function measureTimings(options: TimingOptions): Promise<Timings> {
  const rows: TimingRow[] = [];
  const runId = Math.random().toString(36).slice(2, 8);
  const cases = [
    { valueBytes: 200, records: options.smallRecords ?? 2000 },
    { valueBytes: 200_000, records: options.largeRecords ?? 100 },
  ];
  for (const { valueBytes, records } of cases) {
    const db = await options.open(`timings-${runId}-${valueBytes}`);
    try {
      const keys = Array.from({ length: records }, (_, i) => `record-${i}`);
      const puts = (collection: string): LocalWrite[] =>
        keys.map((key, i) => ({ type: "put", collection, key, value: value(valueBytes, i), order: BigInt(i) }));
      const record = (operation: string, milliseconds: number) =>
        rows.push({ operation, valueBytes, records, microsecondsPerRecord: Math.round((milliseconds * 1000) / records) });

      const single = puts("single");
      record("put, one write() each", await timed(async () => {
        for (const write of single) await db.write([write]);
      }));
      record("put, one write() for all", await timed(() => db.write(puts("batch"))));
      record("get", await timed(async () => {
        for (const key of keys) await db.get("batch", key);
      }));
      record("list", await timed(() => db.list("batch")));
    } finally {
      await db.close();
    }
  }

  const conversations = `timings-${runId}-warm-start`;
  const db = await options.open(conversations);
  try {
    for (let start = 0; start < WARM_START_CONVERSATIONS; start += 1000) {
      await db.write(
        Array.from({ length: 1000 }, (_, i): LocalWrite => ({
          type: "put",
          collection: "conversations",
          key: `/xmtp/0/m-${(start + i).toString(16).padStart(40, "0")}/proto`,
          value: value(CONVERSATION_BYTES, start + i),
          order: 1_700_000_000_000_000_000n + BigInt(start + i),
        })),
      );
    }
  } finally {
    await db.close();
  }
  const warmStartMilliseconds: number[] = [];
  for (let run = 0; run < (options.warmStartRuns ?? 3); run++) {
    let listed = 0;
    const milliseconds = await timed(async () => {
      const reopened = await options.open(conversations);
      listed = (await reopened.list("conversations")).length;
      await reopened.close();
    });
    if (listed !== WARM_START_CONVERSATIONS) throw new Error(`the warm start listed ${listed} conversations`);
    warmStartMilliseconds.push(Math.round(milliseconds));
  }
  return { rows, warmStartMilliseconds };
}

export function formatTimings(driver: string, timings: Timings): string {
  const lines = timings.rows.map(
    (row) =>
      `${driver.padEnd(10)} ${row.operation.padEnd(26)} ${`${row.valueBytes} B`.padStart(10)} ×${String(row.records).padEnd(5)} ` +
      `${String(row.microsecondsPerRecord).padStart(7)} µs/record`,
  );
  lines.push(`${driver.padEnd(10)} warm start: open + list ${WARM_START_CONVERSATIONS} conversations: ${timings.warmStartMilliseconds.join(", ")} ms`);
  return lines.join("\n");
}
