// One outgoing POST as both senders make it: bounded by the attempt timeout and the service's shutdown, redirects
// not followed, the answer's body never read. Failures become a SendResult with a reason a person can act on.
import type { SendOptions, SendResult } from "./sender.js";

export interface HttpAnswer {
  status: number;
  headers: Headers;
}

export async function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string | Uint8Array<ArrayBuffer>,
  options: SendOptions,
): Promise<HttpAnswer | { failed: SendResult }> {
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  try {
    const response = await fetch(url, { method: "POST", redirect: "manual", signal: AbortSignal.any(signals), headers, body });
    // The answer's body is not used; cancel it rather than read an arbitrary amount.
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, headers: response.headers };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if ((error as Error).name === "TimeoutError") return { failed: { ok: false, error: `no answer within ${options.timeoutMs} ms` } };
    return { failed: { ok: false, error: cause?.code ?? cause?.message ?? (error as Error).message ?? String(error) } };
  }
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
