// How the app writes addresses, times and days. One clock format everywhere (the list, the thread's bubbles, its
// header, the postage notices): hours as the locale writes them without a leading zero where it has none ("1:21 PM"
// in English, "13:21" in German), minutes always with two digits. Pure: `now` and `locale` can be given, so tests
// do not depend on the clock or the machine's language.

export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** The calendar day before `date`'s (local time; a day is not always 24 hours long). */
function dayBefore(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() - 1);
}

/** The time of day: "1:21 PM" (en-US), "13:21" (de). The one clock format of the app. */
export function clockTime(date: Date, locale?: string): string {
  return date.toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit" });
}

/** "May 1" this year, "May 1, 2023" before (or after). */
export function calendarDate(date: Date, now = new Date(), locale?: string): string {
  const sameYear = date.getFullYear() === now.getFullYear();
  return date.toLocaleDateString(locale, { month: "short", day: "numeric", ...(sameYear ? {} : { year: "numeric" }) });
}

/** The list's time of a conversation's latest message: "1:21 PM" today, "Yesterday", then "May 1" / "May 1, 2023". */
export function shortTime(date: Date, now = new Date(), locale?: string): string {
  if (sameDay(date, now)) return clockTime(date, locale);
  if (sameDay(date, dayBefore(now))) return "Yesterday";
  return calendarDate(date, now, locale);
}

/** A moment in full, for tooltips and headers: "Dec 5, 2026, 1:21 PM" (always with the year). */
export function fullTime(date: Date, locale?: string): string {
  const day = date.toLocaleDateString(locale, { month: "short", day: "numeric", year: "numeric" });
  return `${day}, ${clockTime(date, locale)}`;
}

/** The label of a day separator in a thread: "Today", "Yesterday", "Tuesday, May 1", "Monday, May 1, 2023". */
export function dayLabel(date: Date, now = new Date(), locale?: string): string {
  if (sameDay(date, now)) return "Today";
  if (sameDay(date, dayBefore(now))) return "Yesterday";
  const sameYear = date.getFullYear() === now.getFullYear();
  return date.toLocaleDateString(locale, {
    weekday: "long",
    month: "long",
    day: "numeric",
    ...(sameYear ? {} : { year: "numeric" }),
  });
}

/** The local calendar day of `date` as YYYY-MM-DD: separators are keyed by it. */
export function dayKey(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A thread's rows: each message, with a separator before the first message of each day. */
export type ThreadRow<M> = { kind: "day"; key: string; label: string } | { kind: "message"; message: M };

/** `messages` (oldest first) with a day separator before the first one and wherever the local day changes. */
export function withDaySeparators<M extends { sent: Date }>(
  messages: readonly M[],
  now = new Date(),
  locale?: string,
): ThreadRow<M>[] {
  const rows: ThreadRow<M>[] = [];
  let day: string | undefined;
  for (const message of messages) {
    const key = dayKey(message.sent);
    if (key !== day) {
      rows.push({ kind: "day", key, label: dayLabel(message.sent, now, locale) });
      day = key;
    }
    rows.push({ kind: "message", message });
  }
  return rows;
}
