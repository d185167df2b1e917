// Each search thread's 10 s hashrate, from the native engine's per-thread counters: one
// HashrateMeter per thread, fed the same way as the miner's total.
import { HashrateMeter } from './hashrate.js';

export class ThreadHashrates {
  private meters: HashrateMeter[] = [];

  /** `counts[i]` is thread i's cumulative hash count (SearchEngine.hashCounts()). */
  sample(counts: readonly number[], nowMs: number): void {
    // An engine that was destroyed reports no threads; keep the last figures until they age out.
    if (counts.length === 0) return;
    while (this.meters.length < counts.length) this.meters.push(new HashrateMeter());
    if (this.meters.length > counts.length) this.meters.length = counts.length;
    counts.forEach((n, i) => this.meters[i]!.sample(n, nowMs));
  }

  /** One 10 s figure per thread, null while a thread's window has too little data. */
  rates10s(nowMs: number): (number | null)[] {
    return this.meters.map((m) => m.rates(nowMs)['10s']);
  }
}
