// The app's time and day wording, in Node with fixed locales and a fixed "now" (local time of the machine).
import { describe, expect, it } from "vitest";
import { calendarDate, clockTime, dayKey, dayLabel, fullTime, shortTime, withDaySeparators } from "./format.js";

/** Saturday Dec 5 2026, 14:30 local time. */
const NOW = new Date(2026, 11, 5, 14, 30);
const at = (month: number, day: number, hour: number, minute: number, year = 2026) => new Date(year, month, day, hour, minute);

describe("one clock format", () => {
  it("writes hours without a leading zero where the locale has none, minutes with two digits", () => {
    expect(clockTime(at(11, 5, 1, 21), "en-US")).toBe("1:21 AM");
    expect(clockTime(at(11, 5, 13, 5), "en-US")).toBe("1:05 PM");
    expect(clockTime(at(11, 5, 13, 5), "de-DE")).toBe("13:05");
  });

  it("is the same clock in the list, the bubbles and the full time", () => {
    const morning = at(11, 5, 1, 21);
    expect(shortTime(morning, NOW, "en-US")).toBe("1:21 AM");
    expect(fullTime(morning, "en-US")).toBe("Dec 5, 2026, 1:21 AM");
    // Not the zero-padded "01:21 AM" the bubbles used to show.
    expect(fullTime(morning, "en-US")).not.toContain("01:21");
  });

  it("gives the list Yesterday, then dates, with the year only when it is not this one", () => {
    expect(shortTime(at(11, 4, 23, 59), NOW, "en-US")).toBe("Yesterday");
    expect(shortTime(at(11, 3, 9, 0), NOW, "en-US")).toBe("Dec 3");
    expect(shortTime(at(4, 1, 9, 0, 2023), NOW, "en-US")).toBe("May 1, 2023");
    expect(calendarDate(at(4, 1, 9, 0), NOW, "en-US")).toBe("May 1");
  });
});

describe("day labels", () => {
  it("says Today, Yesterday, then the weekday and date", () => {
    expect(dayLabel(at(11, 5, 0, 0), NOW, "en-US")).toBe("Today");
    expect(dayLabel(at(11, 4, 23, 59), NOW, "en-US")).toBe("Yesterday");
    expect(dayLabel(at(11, 3, 12, 0), NOW, "en-US")).toBe("Thursday, December 3");
    expect(dayLabel(at(11, 31, 12, 0, 2025), NOW, "en-US")).toBe("Wednesday, December 31, 2025");
  });

  it("knows yesterday across a month and a year boundary", () => {
    expect(dayLabel(at(11, 31, 22, 0, 2025), new Date(2026, 0, 1, 8, 0), "en-US")).toBe("Yesterday");
    expect(dayLabel(at(1, 28, 22, 0), new Date(2026, 2, 1, 8, 0), "en-US")).toBe("Yesterday");
  });

  it("keys days by the local calendar date", () => {
    expect(dayKey(at(0, 9, 23, 59))).toBe("2026-01-09");
    expect(dayKey(at(0, 10, 0, 0))).toBe("2026-01-10");
  });
});

describe("day separators", () => {
  const msg = (id: string, sent: Date) => ({ id, sent });

  it("puts one before the first message of each day, none between messages of the same day", () => {
    const rows = withDaySeparators(
      [
        msg("a", at(11, 1, 10, 0)),
        msg("b", at(11, 1, 18, 0)),
        msg("c", at(11, 4, 9, 0)),
        msg("d", at(11, 5, 8, 0)),
        msg("e", at(11, 5, 9, 0)),
      ],
      NOW,
      "en-US",
    );
    expect(rows.map((row) => (row.kind === "day" ? `[${row.label}]` : row.message.id))).toEqual([
      "[Tuesday, December 1]",
      "a",
      "b",
      "[Yesterday]",
      "c",
      "[Today]",
      "d",
      "e",
    ]);
  });

  it("gives nothing for no messages", () => {
    expect(withDaySeparators([], NOW)).toEqual([]);
  });
});
