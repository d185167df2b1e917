// Internal shares: how a solo miner proves to itself, while no block is found for days, that it
// hashes right and as fast as it counts. The search reports every hash at a share difficulty far
// below the job's (2^bits, about one a second); each is re-hashed here through the light path
// (the one the solutions' re-check uses, which shares no dataset and no batch kernel with the
// search). From them: the best difficulty since start, an effective hashrate (shares x share
// difficulty / time) to hold against the counted one, and invalid shares, which mean a kernel or
// memory fault (self-repair.ts acts on them). Also here: effort and the expected time to a block.
import type { CacheHandle, FoundShare } from '../native/index.js';
import { limits } from '../native/index.js';
import { U256_MAX } from '../hex.js';
import { independentHash } from './verify.js';
import { HashrateMeter } from './hashrate.js';
import type { HashrateRates } from './hashrate.js';
import type { Job } from './job.js';

/** Aim: about one share per this many seconds at the measured hashrate. */
export const SHARE_INTERVAL_S = 1;
/**
 * Share re-checks in flight. An Octopus re-check is a light hash on a libuv pool thread (a few
 * ms with the real cache), at normal priority: while it runs it takes a core from a search thread
 * (nice 10), and a job switch that lands then waits for it (bench: five re-checks a second moved
 * job_switch_p99_ms from 0.11-0.18 to 0.36-0.86 ms). So routine shares are re-checked one at a
 * time and at most every SHARE_CHECK_INTERVAL_MS; a share that would be the new best is always
 * re-checked (up to this many at once), so the best is never lost to the limit. Shares not
 * re-checked still count as work (`skipped`).
 */
export const MAX_SHARE_CHECKS = 4;
export const SHARE_CHECK_INTERVAL_MS = 1000;
/**
 * The share difficulty moves only when the ideal one is this many powers of two away, so that a
 * noisy 10 s hashrate does not change it every tick (a factor 4 either way: 0.25 to 4 shares/s).
 */
export const RETARGET_BITS = 2;
/**
 * Generations whose job a late share can still be re-hashed for. Shares arrive within
 * milliseconds of being found, so the last few jobs cover them; an older one is counted as work
 * and skipped.
 */
export const RECENT_GENERATIONS = 8;
/** Per-thread guesses before a rate is measured: a conservative low end of what one thread does. */
const GUESS_HPS_PER_THREAD = { keccak: 4e6, light: 5e3, full: 2e5 } as const;

export type HashMode = keyof typeof GUESS_HPS_PER_THREAD;

/** floor((2^256 - 1) / hash): the difficulty a hash meets (the node checks the hash itself: our nonces are below 2^64). */
export function hashDifficulty(hash: Buffer): bigint {
  const h = BigInt(`0x${hash.toString('hex')}`);
  return h === 0n ? U256_MAX : U256_MAX / h;
}

/** log2 of the highest power of two that is at most `difficulty` (>= 1). */
export function floorLog2(difficulty: bigint): number {
  return difficulty <= 1n ? 0 : difficulty.toString(2).length - 1;
}

/** 2^bits close to hps x SHARE_INTERVAL_S, never above the job's difficulty (nor 2^limits().maxShareBits). */
export function idealShareBits(hps: number, jobDifficulty: bigint): number {
  return shareBitsUnder(hps, shareBitsCap(jobDifficulty));
}

/** The highest share bits a job of this difficulty allows: 2^bits never above it, nor above 2^limits().maxShareBits. */
function shareBitsCap(jobDifficulty: bigint): number {
  return Math.min(limits().maxShareBits, floorLog2(jobDifficulty));
}

function shareBitsUnder(hps: number, cap: number): number {
  const want = hps * SHARE_INTERVAL_S > 1 ? Math.round(Math.log2(hps * SHARE_INTERVAL_S)) : 0;
  return Math.max(0, Math.min(want, cap));
}

export function guessHps(mode: HashMode, threads: number): number {
  return GUESS_HPS_PER_THREAD[mode] * threads;
}

/** What a share was hashed for: enough to re-hash it. */
export interface ShareJob {
  job: Job;
  algo: 'keccak' | 'octopus';
  cache?: CacheHandle;
  datasetBytes?: number;
  /** The search's mode when it was found. */
  mode: HashMode;
  generation: number;
}

/** Re-hashes a nonce found for `a` by the independent path (verify.ts), as `cfx-miner verify` does. */
export function recheckHash(a: ShareJob, nonce: bigint): Promise<Buffer> {
  return independentHash(a.algo, a.job.powHash, a.cache, nonce, a.datasetBytes);
}

export interface Best {
  difficulty: bigint;
  nonce: bigint;
  jobId: string;
  height: number | null;
}

export interface InvalidShare {
  nonce: bigint;
  job: Job;
  mode: HashMode;
  generation: number;
  searchHash: Buffer;
  checkHash: Buffer;
}

export interface SelfCheckOptions {
  /** A share whose re-hash differs from the search's hash. */
  onInvalid: (share: InvalidShare) => void;
  /** The height of a job (the job's own, or --height for 3-param notifies). */
  heightOf: (job: Job) => number | null;
  /** Search threads, for the hashrate guess before one is measured. */
  threads: number;
}

/**
 * The share side of the books. Everything it holds is a fixed number of fields, a bounded meter
 * (HashrateMeter's ring), at most RECENT_GENERATIONS jobs and at most MAX_SHARE_CHECKS promises:
 * nothing grows with uptime.
 */
export class SelfCheck {
  /** Shares re-checked and found right (solutions included: each is a share too). */
  checked = 0;
  invalid = 0;
  /** Shares not re-checked: MAX_SHARE_CHECKS were in flight, or their job was too old to re-hash. */
  skipped = 0;
  best: Best | null = null;
  private inFlight = 0;
  private lastCheckAt = -Infinity;
  /** Sum of 2^bits over every hit reported: the work the shares prove, in hashes. */
  private work = 0;
  private readonly meter = new HashrateMeter();
  private bitsNow: number | undefined;
  private capFor = 0n;
  private cap = 0;
  /** The mode and the hashrate (measured, or its guess) the share difficulty was last set for. */
  private modeNow: HashMode | undefined;
  private hpsNow: number | undefined;
  /** Hits dropped before any check, as last sampled (already in `work`). */
  private droppedSeen = 0;
  /** The jobs of the last RECENT_GENERATIONS generations, oldest first, for their shares. */
  private readonly recent = new Map<number, ShareJob>();

  constructor(private readonly opts: SelfCheckOptions) {}

  /** The share difficulty in force (log2), undefined before the first job. */
  get bits(): number | undefined {
    return this.bitsNow;
  }

  get difficulty(): bigint | null {
    return this.bitsNow === undefined ? null : 1n << BigInt(this.bitsNow);
  }

  /**
   * The share difficulty for a job of `jobDifficulty` hashed in `mode`: about one share a second
   * at `hps` (the measured rate; undefined: a guess for the mode, as at start and after a mode
   * change). Returns the new bits when they should change (first time, past the job's
   * difficulty, RETARGET_BITS away, or a new mode's guess).
   */
  retarget(mode: HashMode, hps: number | undefined, jobDifficulty: bigint): number | undefined {
    // A new mode (light -> full is ~50x) starts from its guess; otherwise the last rate stands,
    // and a new job only applies its own difficulty as the cap.
    const modeChanged = mode !== this.modeNow;
    if (hps !== undefined) this.hpsNow = hps;
    else if (modeChanged || this.hpsNow === undefined) this.hpsNow = guessHps(mode, this.opts.threads);
    this.modeNow = mode;
    const force = hps === undefined && modeChanged;
    // Runs on every job switch: the cap is worked out once per difficulty, not per job.
    if (jobDifficulty !== this.capFor) {
      this.capFor = jobDifficulty;
      this.cap = shareBitsCap(jobDifficulty);
    }
    const cap = this.cap;
    const ideal = shareBitsUnder(this.hpsNow, cap);
    const now = this.bitsNow;
    if (now === undefined || force || now > cap || Math.abs(ideal - now) >= RETARGET_BITS) {
      if (ideal === now) return undefined;
      this.bitsNow = ideal;
      return ideal;
    }
    return undefined;
  }

  /** The search started `job` under `job.generation`: shares found from now on may be of it. */
  jobStarted(job: ShareJob): void {
    // Only jobs of the current cache: a share of another stage's job is not worth holding a
    // second 16-33 MiB cache for (a node that changes stage every job would hold eight).
    for (const [g, old] of this.recent) if (old.cache !== job.cache) this.recent.delete(g);
    this.recent.set(job.generation, job);
    if (this.recent.size > RECENT_GENERATIONS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Shares from the search, of any recent generation: each is re-hashed (or skipped) and counted. */
  onShares(shares: FoundShare[]): void {
    for (const s of shares) this.onShare(s, this.recent.get(s.generation));
  }

  /** A share from the search, with the job it was found for (undefined: too old to re-hash). */
  private onShare(share: FoundShare, source: ShareJob | undefined): void {
    this.work += 2 ** share.bits;
    const now = performance.now();
    const routine = this.inFlight === 0 && now - this.lastCheckAt >= SHARE_CHECK_INTERVAL_MS;
    // The search's own hash says whether it could be the best; the re-check then says if it is.
    const bestCandidate = !this.best || hashDifficulty(share.hash) > this.best.difficulty;
    if (!source || !(routine || (bestCandidate && this.inFlight < MAX_SHARE_CHECKS))) {
      this.skipped++;
      return;
    }
    this.lastCheckAt = now;
    this.inFlight++;
    recheckHash(source, share.nonce).then(
      (hash) => this.verdict(source, share.nonce, share.hash, hash),
      () => { this.skipped++; }, // a cache released under it (shutting down): nothing to learn
    ).finally(() => { this.inFlight--; });
  }

  /**
   * A solution's re-check, which is a share's too. `bits`: the share difficulty it counts at.
   * Returns false when the two hashes differ (an invalid share, reported).
   */
  verdict(source: ShareJob, nonce: bigint, searchHash: Buffer, checkHash: Buffer, bits?: number): boolean {
    if (bits !== undefined) this.work += 2 ** bits;
    if (!searchHash.equals(checkHash)) {
      this.invalid++;
      this.opts.onInvalid({ nonce, job: source.job, mode: source.mode, generation: source.generation, searchHash, checkHash });
      return false;
    }
    this.checked++;
    const difficulty = hashDifficulty(checkHash);
    if (!this.best || difficulty > this.best.difficulty) {
      this.best = { difficulty, nonce, jobId: source.job.jobId, height: this.opts.heightOf(source.job) };
    }
    return true;
  }

  /**
   * Samples the shares' work for the effective hashrate. `droppedHits`: the running total of hits
   * dropped before any check (a full native queue, a full re-check stage), still work the search
   * did, added at the share difficulty in force.
   */
  sample(nowMs: number, droppedHits: number): void {
    const hits = droppedHits - this.droppedSeen;
    if (this.bitsNow !== undefined && hits > 0) this.work += hits * 2 ** this.bitsNow;
    this.droppedSeen = droppedHits;
    this.meter.sample(this.work, nowMs);
  }

  /** Shares x share difficulty / time, over the longest window with data (15 min once it has them). */
  effectiveHps(nowMs: number): number | null {
    const r = this.meter.rates(nowMs);
    return r['15m'] ?? r['60s'] ?? r['10s'];
  }
}

/**
 * Effort: the sum over hashes of 1 / their job's difficulty, since start or the last accepted
 * solution (1.0 = one block was expected by now). Sampled with the hash counter, so each stretch
 * of hashes is charged to the job that was current when it was counted.
 */
export class BlockOdds {
  private sum = 0;
  /** The hash counter starts at 0 with the search engine, and nothing is hashed without a job. */
  private last = 0;

  sample(totalHashes: number, difficulty: bigint | undefined): void {
    if (difficulty !== undefined && difficulty > 0n && totalHashes > this.last) {
      this.sum += (totalHashes - this.last) / Number(difficulty);
    }
    this.last = totalHashes;
  }

  /** An accepted solution: a block was found, the count starts again. */
  reset(): void {
    this.sum = 0;
  }

  get effort(): number {
    return this.sum;
  }
}

/** Seconds to one block at the current job's difficulty: 15 min rate once it has data, else the longest that has. */
export function expectedBlockSeconds(difficulty: bigint | undefined, rates: HashrateRates): number | null {
  const hps = rates['15m'] ?? rates['60s'] ?? rates['10s'];
  if (difficulty === undefined || hps === null || !(hps > 0)) return null;
  return Number(difficulty) / hps;
}
