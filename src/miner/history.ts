// The recent past for the dashboard: one sample of the hashrate windows and the share counts
// every HISTORY_INTERVAL_MS, in a fixed ring, so memory stays the same after a month as after
// an hour. Pure: the caller passes the figures and the time. The farm keeps it; GET /history
// serves toJson().
import type { HashrateRates } from './hashrate.js';
import type { ShareTally } from './summary.js';

/** One sample per 5 s: fine enough to see a dip, coarse enough that a sample costs nothing. */
export const HISTORY_INTERVAL_MS = 5_000;
/** 900 samples x 5 s = 75 min: the last hour, plus room for the 15 min window to settle in view. */
export const HISTORY_CAPACITY = 900;

/** Columns of equal length, oldest first; `t` in Unix milliseconds. */
export interface HistoryJson {
  interval_s: number;
  capacity: number;
  t: number[];
  hashrate_10s: (number | null)[];
  hashrate_60s: (number | null)[];
  hashrate_15m: (number | null)[];
  accepted: number[];
  rejected: number[];
  stale: number[];
}

const COLUMNS = ['t', 'hashrate_10s', 'hashrate_60s', 'hashrate_15m', 'accepted', 'rejected', 'stale'] as const;
type Column = (typeof COLUMNS)[number];

export class History {
  // NaN stands for null in the hashrate columns (a window without data yet).
  private readonly columns: Record<Column, Float64Array>;
  private head = 0; // index of the oldest sample
  private count = 0;

  constructor(readonly capacity = HISTORY_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.columns = Object.fromEntries(COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<Column, Float64Array>;
  }

  get size(): number {
    return this.count;
  }

  record(summary: { hashrate: HashrateRates; shares: ShareTally }, nowUnixMs: number): void {
    const slot = (this.head + this.count) % this.capacity;
    if (this.count === this.capacity) this.head = (this.head + 1) % this.capacity;
    else this.count++;
    const c = this.columns;
    c.t[slot] = nowUnixMs;
    c.hashrate_10s[slot] = summary.hashrate['10s'] ?? NaN;
    c.hashrate_60s[slot] = summary.hashrate['60s'] ?? NaN;
    c.hashrate_15m[slot] = summary.hashrate['15m'] ?? NaN;
    c.accepted[slot] = summary.shares.accepted;
    c.rejected[slot] = summary.shares.rejected;
    c.stale[slot] = summary.shares.stale;
  }

  toJson(): HistoryJson {
    const col = (name: Column): number[] => {
      const out = new Array<number>(this.count);
      for (let i = 0; i < this.count; i++) out[i] = this.columns[name][(this.head + i) % this.capacity]!;
      return out;
    };
    const rate = (name: Column): (number | null)[] => col(name).map((v) => (Number.isNaN(v) ? null : v));
    return {
      interval_s: HISTORY_INTERVAL_MS / 1000,
      capacity: this.capacity,
      t: col('t'),
      hashrate_10s: rate('hashrate_10s'),
      hashrate_60s: rate('hashrate_60s'),
      hashrate_15m: rate('hashrate_15m'),
      accepted: col('accepted'),
      rejected: col('rejected'),
      stale: col('stale'),
    };
  }
}
