// Requests the node refuses (bad tokens, rate and abuse limits, allow/deny lists, bad input, …) are logged at info
// level, so an operator sees them without debug logging, but rate-limited so that a flood of refusals cannot fill
// the disk: per kind of refusal at most `maxPerWindow` lines per window (one second by default), then, when the
// window ends, one summary line `suppressed K similar refusals` with the count of those not written.
import { GrpcCode } from "../errors.js";
import type { LogFields, Logger } from "../log.js";

/** Lines per kind of refusal per window before the rest are only counted. */
export const DEFAULT_REFUSAL_LINES_PER_WINDOW = 10;
export const DEFAULT_REFUSAL_WINDOW_MS = 1_000;

export interface RefusalLogOptions {
  logger: Logger;
  /** Default DEFAULT_REFUSAL_LINES_PER_WINDOW. */
  maxPerWindow?: number;
  /** Default DEFAULT_REFUSAL_WINDOW_MS. */
  windowMs?: number;
  /** Milliseconds from any fixed origin (monotonic); default performance.now(). */
  now?: () => number;
  /**
   * Runs `run` after `delayMs` (the summary at the end of a window); returns a cancel function. Default setTimeout,
   * unref'd so that a pending summary never keeps the process alive.
   */
  schedule?: (run: () => void, delayMs: number) => () => void;
}

interface Window {
  /** The level of the window's lines and of its summary. */
  level: "info" | "warn";
  startMs: number;
  logged: number;
  suppressed: number;
  cancel?: () => void;
}

function scheduleUnref(run: () => void, delayMs: number): () => void {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * The kind a refusal is counted under, from its gRPC code (a small fixed set, so the per-kind state stays bounded):
 * `auth` (401), `denied` (403: allow/deny lists, topic ownership), `limit` (429/413: rate and abuse limits), `postage`
 * (402), `bad_input` (400 and 405/501), `not_found` (404), `unavailable` (503: shutting down), else `other`.
 */
export function refusalKindOf(code: GrpcCode, httpStatus: number): string {
  if (httpStatus === 402) return "postage";
  switch (code) {
    case GrpcCode.UNAUTHENTICATED:
      return "auth";
    case GrpcCode.PERMISSION_DENIED:
      return "denied";
    case GrpcCode.RESOURCE_EXHAUSTED:
      return "limit";
    case GrpcCode.INVALID_ARGUMENT:
    case GrpcCode.FAILED_PRECONDITION:
    case GrpcCode.OUT_OF_RANGE:
    case GrpcCode.UNIMPLEMENTED:
      return "bad_input";
    case GrpcCode.NOT_FOUND:
      return "not_found";
    case GrpcCode.UNAVAILABLE:
      return "unavailable";
    default:
      return "other";
  }
}

export class RefusalLog {
  private readonly logger: Logger;
  private readonly maxPerWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly schedule: (run: () => void, delayMs: number) => () => void;
  private readonly windows = new Map<string, Window>();

  constructor(options: RefusalLogOptions) {
    this.logger = options.logger;
    this.maxPerWindow = options.maxPerWindow ?? DEFAULT_REFUSAL_LINES_PER_WINDOW;
    this.windowMs = options.windowMs ?? DEFAULT_REFUSAL_WINDOW_MS;
    this.now = options.now ?? (() => performance.now());
    this.schedule = options.schedule ?? scheduleUnref;
  }

  /**
   * One refusal of `kind`: logged as `msg` with `kind` and `fields` (at info, or `level`), unless this window's lines
   * are spent.
   */
  refused(kind: string, msg: string, fields: LogFields, level: "info" | "warn" = "info"): void {
    const now = this.now();
    let window = this.windows.get(kind);
    if (window && now - window.startMs >= this.windowMs) {
      this.end(kind, window);
      window = undefined;
    }
    if (!window) {
      window = { level, startMs: now, logged: 0, suppressed: 0 };
      this.windows.set(kind, window);
    }
    if (window.logged < this.maxPerWindow) {
      window.logged++;
      this.logger[level](msg, { kind, ...fields });
      return;
    }
    window.suppressed++;
    if (!window.cancel) {
      const ending = window;
      window.cancel = this.schedule(() => this.end(kind, ending), Math.max(0, ending.startMs + this.windowMs - now));
    }
  }

  /** Writes the summaries of the windows still open (at shutdown). */
  flush(): void {
    for (const [kind, window] of [...this.windows]) this.end(kind, window);
  }

  private end(kind: string, window: Window): void {
    window.cancel?.();
    window.cancel = undefined;
    if (this.windows.get(kind) === window) this.windows.delete(kind);
    if (window.suppressed > 0) {
      this.logger[window.level](`suppressed ${window.suppressed} similar refusals`, {
        kind,
        suppressed: window.suppressed,
        windowMs: this.windowMs,
      });
      window.suppressed = 0;
    }
  }
}
