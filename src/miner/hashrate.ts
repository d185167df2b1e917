// Hashrate over 10 s, 60 s and 15 min, as xmrig reports it: the farm's tick samples the
// cumulative hash count twice a second; each window's rate is the hashes between its oldest and
// newest samples divided by the time between them. Pure: the caller passes the time.

export type HashrateWindow = '10s' | '60s' | '15m';
export type HashrateRates = Record<HashrateWindow, number | null>;

export const HASHRATE_WINDOWS_MS: Readonly<Record<HashrateWindow, number>> = Object.freeze({
  '10s': 10_000,
  '60s': 60_000,
  '15m': 900_000,
});

/** A window needs at least this much sampled time before it reports (or its whole length, if shorter). */
const MIN_SPAN_MS = 2_000;
/** Samples closer together than this replace each other, which bounds the buffer whatever the caller does. */
const MIN_SPACING_MS = 250;
const LONGEST_WINDOW_MS = HASHRATE_WINDOWS_MS['15m'];
const CAPACITY = Math.ceil(LONGEST_WINDOW_MS / MIN_SPACING_MS) + 2;

/**
 * Rates are reported as follows (for each window of length W, at time now):
 * - the samples considered are those taken within [now - W, now];
 * - null until two of them span at least min(W, 2 s): too little data to mean anything;
 * - after that, the average over the span they cover, up to W. So the 15 min figure is a
 *   1-minute average one minute after start, and a true 15-minute average after 15 minutes;
 * - a window whose samples have all aged out (the caller stopped sampling) goes back to null.
 * A total lower than the previous one means the counter restarted (a new native engine): the
 * hashes counted since the restart are added on top, so the windows carry on.
 */
export class HashrateMeter {
  private readonly timesMs = new Float64Array(CAPACITY);
  private readonly totals = new Float64Array(CAPACITY);
  private head = 0; // index of the oldest sample
  private count = 0;
  private lastRaw = 0;
  private offset = 0; // hashes counted before the last counter restart
  private highestHps: number | null = null;

  /** Feed the engine's cumulative hash count. `nowMs` from a monotonic clock (performance.now()). */
  sample(totalHashes: number, nowMs: number): void {
    if (!Number.isFinite(totalHashes) || totalHashes < 0 || !Number.isFinite(nowMs)) {
      throw new RangeError(`hashrate sample needs finite, non-negative numbers, got ${totalHashes} at ${nowMs}`);
    }
    if (totalHashes < this.lastRaw) this.offset += this.lastRaw;
    this.lastRaw = totalHashes;
    const total = this.offset + totalHashes;

    if (this.count > 0) {
      const newestMs = this.timeAt(this.count - 1);
      // A clock that went backwards makes every span meaningless: start again from here.
      if (nowMs < newestMs) this.clear();
      // Every gap but the newest is at least MIN_SPACING_MS; a newest sample that closes a short
      // gap is provisional and is replaced by the next one.
      else if (this.count > 1 && newestMs - this.timeAt(this.count - 2) < MIN_SPACING_MS) this.count--;
    }
    this.push(nowMs, total);
    this.evictOlderThan(nowMs - LONGEST_WINDOW_MS);

    const rate10s = this.rate(HASHRATE_WINDOWS_MS['10s'], nowMs);
    if (rate10s !== null && (this.highestHps === null || rate10s > this.highestHps)) this.highestHps = rate10s;
  }

  rates(nowMs: number): HashrateRates {
    return {
      '10s': this.rate(HASHRATE_WINDOWS_MS['10s'], nowMs),
      '60s': this.rate(HASHRATE_WINDOWS_MS['60s'], nowMs),
      '15m': this.rate(HASHRATE_WINDOWS_MS['15m'], nowMs),
    };
  }

  /** The highest 10 s rate seen since creation or reset(); null before the first one. */
  get highest(): number | null {
    return this.highestHps;
  }

  /** Samples held; bounded by the 15 min window. */
  get size(): number {
    return this.count;
  }

  /** Forget everything, including the highest rate (e.g. when switching algorithm). */
  reset(): void {
    this.clear();
    this.lastRaw = 0;
    this.offset = 0;
    this.highestHps = null;
  }

  private rate(windowMs: number, nowMs: number): number | null {
    if (this.count < 2) return null;
    const newest = this.count - 1;
    const newestMs = this.timeAt(newest);
    if (newestMs > nowMs) return null; // asked about a time before the data: nothing to say
    const oldest = this.firstAtOrAfter(nowMs - windowMs);
    if (oldest >= newest) return null;
    const spanMs = newestMs - this.timeAt(oldest);
    if (spanMs < Math.min(windowMs, MIN_SPAN_MS)) return null;
    return ((this.totalAt(newest) - this.totalAt(oldest)) * 1000) / spanMs;
  }

  /** Binary search: sample times only grow, so the window start is found in log(n). */
  private firstAtOrAfter(timeMs: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) < timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private push(timeMs: number, total: number): void {
    if (this.count === CAPACITY) this.dropOldest();
    const slot = (this.head + this.count) % CAPACITY;
    this.timesMs[slot] = timeMs;
    this.totals[slot] = total;
    this.count++;
  }

  private evictOlderThan(timeMs: number): void {
    while (this.count > 0 && this.timeAt(0) < timeMs) this.dropOldest();
  }

  private dropOldest(): void {
    this.head = (this.head + 1) % CAPACITY;
    this.count--;
  }

  private clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private timeAt(i: number): number {
    return this.timesMs[(this.head + i) % CAPACITY]!;
  }

  private totalAt(i: number): number {
    return this.totals[(this.head + i) % CAPACITY]!;
  }
}
