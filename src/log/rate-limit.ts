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

// The noun (a plural: "solutions found") as a heading, then the count: it reads right for any
// count, where "1 more solutions found" did not.
const DEFAULT_SUMMARY: SummaryFormat = (n, noun, windowMs, latest) =>
  `${noun}: ${n} more in the last ${(windowMs / 1000).toFixed(0)} s (latest: ${latest})`;

/** A person reads a handful of lines a second; more of the same say nothing new. */
export const DEFAULT_RATE_LIMIT: RateLimit = { limit: 5, windowMs: 1_000 };

export interface RateLimitedLogOptions {
  limits?: RateLimit;
  summary?: SummaryFormat;
  /** The clock, in milliseconds (default performance.now). */
  now?: () => number;
  /**
   * Print on the next turn of the event loop (setImmediate), in order, instead of inside line():
   * for lines logged on a path that must stay short, such as a job switch. The counting (and so
   * line()'s answer) stays immediate.
   */
  deferOutput?: boolean;
}

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
}

type Output = { level: LogLevel; tag: LogTag; msg: string | (() => string); fields: LogFields | undefined };

export class RateLimitedLog {
  /** One per key; keys are the miner's own constants, so this holds a handful at most. */
  private readonly windows = new Map<string, Window>();
  /** Lines not logged since the start (for tests and the stats). */
  suppressedTotal = 0;
  private readonly limits: RateLimit;
  private readonly summary: SummaryFormat;
  private readonly now: () => number;
  /**
   * One timer for every window, armed by the first suppressed line while none is armed: it prints
   * the summaries of windows that ended with lines suppressed and no line since, and re-arms
   * itself while windows with suppressed lines have not ended.
   */
  private timer: NodeJS.Timeout | undefined;
  /** Deferred output (deferOutput), printed by one setImmediate. At most limit + 1 lines per key and window. */
  private readonly queue: Output[] | undefined;

  constructor(private readonly logger: Logger, options: RateLimitedLogOptions = {}) {
    this.limits = options.limits ?? DEFAULT_RATE_LIMIT;
    this.summary = options.summary ?? DEFAULT_SUMMARY;
    this.now = options.now ?? (() => performance.now());
    this.queue = options.deferOutput ? [] : undefined;
  }

  /**
   * Logs `msg` unless `key` has had `limit` lines in this window; then counts it, and once the
   * window ends logs the summary ("<noun>: <n> more in the last <s> s (latest: <msg>)" by
   * default). True when the line was (or, deferred, will be) logged. A function as `msg` is
   * called only for a line that is printed (a job flood formats nothing for the lines it suppresses).
   */
  line(key: string, level: LogLevel, tag: LogTag, noun: string, msg: string | (() => string), fields?: LogFields): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.limits.windowMs) {
      if (w) this.flush(w);
      w = { start: t, logged: 0, suppressed: 0, level, tag, noun, last: '' };
      this.windows.set(key, w);
    }
    if (w.logged < this.limits.limit) {
      w.logged++;
      this.output(level, tag, msg, fields);
      return true;
    }
    w.suppressed++;
    w.last = msg;
    this.suppressedTotal++;
    if (!this.timer) this.arm(Math.max(0, w.start + this.limits.windowMs - t));
    return false;
  }

  /** Logs every pending summary and deferred line now and stops the timer (at shutdown). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.windows.values()) this.flush(w);
    this.windows.clear();
    this.drain();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    const t = this.now();
    let next = Infinity;
    for (const [key, w] of this.windows) {
      const end = w.start + this.limits.windowMs;
      if (t >= end) {
        this.flush(w);
        this.windows.delete(key);
      } else if (w.suppressed > 0) {
        next = Math.min(next, end - t);
      }
    }
    if (next !== Infinity) this.arm(next);
  }

  private flush(w: Window): void {
    if (w.suppressed === 0) return;
    const n = w.suppressed;
    w.suppressed = 0;
    const last = w.last;
    this.output(w.level, w.tag, () => this.summary(n, w.noun, this.limits.windowMs, typeof last === 'string' ? last : last()), undefined);
  }

  private output(level: LogLevel, tag: LogTag, msg: string | (() => string), fields: LogFields | undefined): void {
    const q = this.queue;
    if (!q) {
      this.logger[level](tag, typeof msg === 'string' ? msg : msg(), fields);
      return;
    }
    q.push({ level, tag, msg, fields });
    if (q.length === 1) setImmediate(() => this.drain());
  }

  private drain(): void {
    const q = this.queue;
    if (!q) return;
    // Lines queued while printing (a logger that logs) wait for the next drain.
    for (const o of q.splice(0)) this.logger[o.level](o.tag, typeof o.msg === 'string' ? o.msg : o.msg(), o.fields);
  }
}
