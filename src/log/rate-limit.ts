// Lines a node can drive (a solution at difficulty 1, a job flood) go through a rate limit: the
// first few of each kind per window are logged, the rest are counted and summed up in one line
// when the window ends. Keys come from the miner's own code, never from the network, so the
// number of windows is a small constant.
import type { LogFields, LogLevel, LogTag, Logger } from './types.js';

export interface RateLimit {
  /** Lines of one key logged per window. */
  limit: number;
  windowMs: number;
}

/** The line that sums up a window's suppressed lines. */
export type SummaryFormat = (suppressed: number, noun: string, windowMs: number, latest: string) => string;

const DEFAULT_SUMMARY: SummaryFormat = (n, noun, windowMs, latest) =>
  `${n} more ${noun} in the last ${(windowMs / 1000).toFixed(0)} s (latest: ${latest})`;

/** A person reads a handful of lines a second; more of the same say nothing new. */
export const DEFAULT_RATE_LIMIT: RateLimit = { limit: 5, windowMs: 1_000 };

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  /** The level, tag and noun of the summary line. */
  level: LogLevel;
  tag: LogTag;
  noun: string;
  /** The latest suppressed line, quoted in the summary so the newest state is never hidden. */
  last: string | (() => string);
  timer: NodeJS.Timeout | undefined;
}

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  /** Lines not logged since the start (for tests and the stats). */
  suppressedTotal = 0;

  constructor(private readonly logger: Logger, private readonly limits: RateLimit = DEFAULT_RATE_LIMIT,
    private readonly summary: SummaryFormat = DEFAULT_SUMMARY, private readonly now: () => number = () => performance.now()) {}

  /**
   * Logs `msg` unless `key` has had `limit` lines in this window; then counts it, and once the
   * window ends logs the summary ("<n> more <noun> in the last <s> s (latest: <msg>)" by
   * default). True when the line was logged. A function as `msg` is called only for a line that
   * is printed (a job flood formats nothing for the lines it suppresses).
   */
  line(key: string, level: LogLevel, tag: LogTag, noun: string, msg: string | (() => string), fields?: LogFields): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.limits.windowMs) {
      if (w) this.flush(key, w);
      w = { start: t, logged: 0, suppressed: 0, level, tag, noun, last: '', timer: undefined };
      this.windows.set(key, w);
    }
    if (w.logged < this.limits.limit) {
      w.logged++;
      this.logger[level](tag, typeof msg === 'string' ? msg : msg(), fields);
      return true;
    }
    w.suppressed++;
    w.last = msg;
    this.suppressedTotal++;
    if (!w.timer) {
      const window = w;
      w.timer = setTimeout(() => this.flush(key, window), Math.max(0, w.start + this.limits.windowMs - t));
      w.timer.unref();
    }
    return false;
  }

  /** Logs every pending summary now and stops the timers (at shutdown). */
  close(): void {
    for (const [key, w] of this.windows) this.flush(key, w);
  }

  private flush(key: string, w: Window): void {
    clearTimeout(w.timer);
    w.timer = undefined;
    if (this.windows.get(key) === w) this.windows.delete(key);
    if (w.suppressed === 0) return;
    const n = w.suppressed;
    w.suppressed = 0;
    const last = typeof w.last === 'string' ? w.last : w.last();
    this.logger[w.level](w.tag, this.summary(n, w.noun, this.limits.windowMs, last));
  }
}
