// Deadlines in refusal messages are read by people: an ISO date, with the raw nanoseconds kept for programs.
// Every uint64 of nanoseconds (up to year 2554) is a valid Date; larger values only fall back to the raw number so
// that formatting never throws.
const MAX_DATE_MS = 8_640_000_000_000_000n;

export function formatNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return `${ns} ns`;
  return `${new Date(Number(ms)).toISOString()} (${ns} ns)`;
}
