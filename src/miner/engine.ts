// The life of a job: it arrives, the search switches to it, nonces come back, each is checked
// on the host and submitted, and the node's answer is counted. Latest job wins, always.
import { randomBytes } from 'node:crypto';
import type { Algo, CacheHandle, DatasetHandle, FoundNonce } from '../native/index.js';
import { U64_MAX, SearchEngine, stageBytes, meetsBoundary } from '../native/index.js';
import type { Logger } from '../log/types.js';
import { RateLimitedLog } from '../log/rate-limit.js';
import type { Job } from './job.js';
import { formatDifficulty, sameWork, shortJobId } from './job.js';
import type { StageHandles, StageResources } from './resources.js';
import type { SubmitTarget } from './pool.js';
import { AbortError, messageOf } from '../errors.js';
import { SelfCheck, recheckHash } from './shares.js';
import type { InvalidShare, ShareJob } from './shares.js';
import { emptyShareCounts } from './books.js';
import type { ShareCounts } from './books.js';
import { Submitter } from './submitter.js';

export interface EngineOptions {
  algo: Algo;
  threads: number;
  /** For three-param notifies, which carry no height. */
  fixedHeight?: number;
  logger: Logger;
  pool: SubmitTarget;
  resources: StageResources;
  /** A share (or solution) the search hashed differently from its re-check: a kernel or memory fault. */
  onInvalidShare?: (share: InvalidShare) => void;
  /** The node accepted a solution (a block): effort starts again from here. */
  onAccepted?: () => void;
}

/**
 * Solutions waiting for or in their host re-check (an Octopus re-check is a light hash on a pool
 * thread). Like MAX_SUBMITTING after it, a bound past which a solution is dropped and counted
 * (droppedBacklog), never queued, so memory and the event loop stay bounded whatever the node sends.
 */
export const MAX_CHECKING = 8;

/** The job the search runs (generation 0: not hashing) and what it hashes with; its shares' source too. */
interface Active extends ShareJob {
  dataset?: DatasetHandle;
}

export class MiningEngine {
  private readonly search: SearchEngine;
  private latest: Job | undefined;
  private seq = 0;
  private active: Active | undefined;
  private paused = false;
  private stopped = false;
  private waitingForHeight = false;
  private startNonce = randomBytes(8).readBigUInt64LE();
  /** The books: this counts up to the send, the Submitter from the send on. */
  private readonly counts: ShareCounts = emptyShareCounts();
  private readonly submitter: Submitter;
  /** Per-solution and per-job lines, which a node controls the rate of. */
  private readonly lines: RateLimitedLog;
  /** Internal shares: best difficulty, effective hashrate, invalid shares. */
  readonly selfCheck: SelfCheck;

  constructor(private readonly opts: EngineOptions) {
    this.selfCheck = new SelfCheck({
      onInvalid: (share) => this.opts.onInvalidShare?.(share),
      heightOf: (job) => job.height ?? this.opts.fixedHeight ?? null,
      threads: opts.threads,
    });
    this.search = new SearchEngine(opts.threads, (found) => this.onFound(found), (shares) => this.selfCheck.onShares(shares));
    // Deferred: the job line must not lengthen a switch (printing one costs more than the switch).
    this.lines = new RateLimitedLog(opts.logger, { deferOutput: true });
    this.submitter = new Submitter({
      algo: opts.algo, fixedHeight: opts.fixedHeight, pool: opts.pool, counts: this.counts, lines: this.lines,
      latest: () => this.latest, onAccepted: () => this.opts.onAccepted?.(),
    });
  }

  /**
   * A new job from the node: switch every thread to it now, or as soon as its cache exists.
   * Synchronous, and lean on purpose: it runs on every job, on an event loop whose CPU caches the
   * search threads have just evicted, so every step here costs memory latency (bench:
   * job_switch_loop_block_p99_ms). Only a job whose cache is missing goes on asynchronously.
   * Never throws: a job the search refuses is logged here, whichever path started it.
   */
  onJob(job: Job): void {
    try {
      this.take(job);
    } catch (err) {
      this.cannotStart(err);
    }
  }

  private take(job: Job): void {
    if (this.stopped) return;
    const latest = this.latest;
    if (latest && this.active?.generation && sameWork(job, latest)) {
      // The node re-sends its current job about once a minute: keep searching where we are.
      this.submitter.resubmitPending(job);
      return;
    }
    const seq = ++this.seq;
    this.latest = job;
    this.submitter.resubmitPending(job);
    const height = job.height ?? this.opts.fixedHeight;
    if (this.opts.algo === 'octopus' && height === undefined) {
      this.pauseSearch();
      if (!this.waitingForHeight) {
        this.opts.logger.warn('job', 'the node sent a job without a block height (3-param mining.notify); Octopus needs ' +
          'it: start with --height N (or --algo keccak for a test node); waiting for a job with a height');
      }
      this.waitingForHeight = true;
      return;
    }
    this.waitingForHeight = false;
    this.lines.line('job', 'info', 'job', 'new jobs', () => `new job ${shortJobId(job.jobId)} height ${height ?? '-'} ` +
      `difficulty ${formatDifficulty(job.difficulty)}`);
    if (this.opts.algo === 'keccak') return this.switchTo({ generation: 0, job, algo: 'keccak', mode: 'keccak' });
    this.startOctopus(job, seq, height!);
  }

  /** An Octopus job starts at once when its stage's cache is built, else once it is (unless a newer job came). */
  private startOctopus(job: Job, seq: number, height: number): void {
    const stage = this.opts.resources.forJob(height);
    if (stage instanceof Promise) {
      this.pauseSearch(); // nothing may hash the replaced job while this one's cache builds
      void this.startWhenCached(job, seq, height, stage);
      return;
    }
    this.switchTo(octopusActive(job, stage));
  }

  private async startWhenCached(job: Job, seq: number, height: number, building: Promise<CacheHandle>): Promise<void> {
    try {
      await building;
    } catch (err) {
      if (seq !== this.seq || this.stopped || isAbort(err)) return; // a newer job took over
      this.lines.line('cache-error', 'error', 'dag', 'unusable jobs', `${messageOf(err)}; waiting for a job the miner can use`);
      return;
    }
    if (seq !== this.seq || this.stopped) return; // a newer job arrived meanwhile: it wins
    try {
      this.startOctopus(job, seq, height);
    } catch (err) {
      this.cannotStart(err);
    }
  }

  private cannotStart(err: unknown): void {
    this.opts.logger.error('job', `cannot start the job: ${messageOf(err)}`);
  }

  private switchTo(next: Active): void {
    this.active = next;
    if (this.paused || this.stopped) return;
    // Each job starts 2^64 / golden ratio past the last (a Weyl sequence from one random seed): a
    // randomBytes call per job cost the event loop more than the rest of the switch did.
    this.startNonce = (this.startNonce + 0x9e3779b97f4a7c15n) & U64_MAX;
    const generation = this.search.start({
      algo: next.algo, header: next.job.powHash, boundary: next.job.boundary,
      startNonce: this.startNonce, cache: next.cache, dataset: next.dataset,
      datasetBytes: next.datasetBytes,
    });
    this.active = withGeneration(next, generation);
    this.selfCheck.jobStarted(this.active);
    this.retargetShares(undefined);
  }

  /**
   * Solutions from the native threads, current generation only (the native engine drops and
   * counts the rest). Each is counted, then re-checked and sent, or dropped when the pipeline is full.
   */
  private onFound(found: FoundNonce[]): void {
    // The native engine hands over the current generation only, and start()/pause() run on this
    // thread, so `active` is the job these were found for: no stale check is needed here.
    const a = this.active!;
    for (const f of found) {
      this.counts.found++;
      if (this.counts.checking >= MAX_CHECKING || this.submitter.full) {
        this.counts.droppedBacklog++;
      } else {
        void this.check(a, f);
      }
    }
  }

  /**
   * Recomputes the hash through a different path (light mode on a pool thread, or keccak) before
   * anything is sent; the job must still be the latest when the answer comes back.
   */
  private async check(a: Active, f: FoundNonce): Promise<void> {
    this.counts.checking++;
    let hash: Buffer | undefined;
    try {
      hash = await recheckHash(a, f.nonce);
      // A solution is a share too: its re-check feeds the self-check (and an invalid one, the repair).
      this.selfCheck.verdict(a, f.nonce, f.hash, hash, this.selfCheck.bits ?? 0);
    } catch (err) {
      this.opts.logger.error('cpu', `cannot re-check a solution: ${messageOf(err)}`);
    } finally {
      this.counts.checking--;
    }
    if (this.stopped) {
      this.counts.lost++; // stopping: nobody sends it any more
      return;
    }
    if (!hash || !hash.equals(f.hash) || !meetsBoundary(hash, f.nonce, a.job.boundary)) {
      this.counts.droppedInvalid++;
      this.opts.logger.error('cpu', `discarded a solution that failed the host re-check (nonce 0x${f.nonce.toString(16)}); ` +
        'this points at a hardware or build fault');
      return;
    }
    if (a.job !== this.latest) {
      this.counts.droppedStale++; // replaced while it was being re-checked
      return;
    }
    if (this.submitter.full) {
      this.counts.droppedBacklog++;
      return;
    }
    this.lines.line('found', 'info', 'share', 'solutions found',
      `solution found for job ${shortJobId(a.job.jobId)}: nonce 0x${f.nonce.toString(16)}`);
    this.submitter.send(a.job, f.nonce);
  }

  /** Stops every thread now, then waits up to `graceMs` for answers to submits in flight. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.search.destroy();
    await this.submitter.stop(graceMs);
    this.lines.close();
  }

  /** The books, with the solutions the native engine dropped (replaced job, full queue) folded in. */
  get totals(): ShareCounts {
    const dropped = this.search.dropped;
    return {
      ...this.counts,
      found: this.counts.found + dropped.stale + dropped.full,
      droppedStale: this.counts.droppedStale + dropped.stale,
      droppedBacklog: this.counts.droppedBacklog + dropped.full,
    };
  }

  get currentJob(): Job | undefined { return this.latest; }
  get mode(): 'light' | 'full' | 'keccak' | 'idle' {
    return this.active?.mode ?? 'idle';
  }
  get isPaused(): boolean { return this.paused; }
  /**
   * Set while the node answers "Incorrect Nonce" to solutions that passed this miner's own
   * re-check (POW_MISMATCH_REJECTIONS in a row): it computes another proof of work. `since` is
   * Unix ms, `algo` this miner's --algo. Cleared by the next accepted answer. For /health.
   */
  get powMismatch(): { since: number; algo: string } | undefined {
    const since = this.submitter.powMismatchSince;
    return since === undefined ? undefined : { since, algo: this.opts.algo };
  }
  totalHashes(): number { return this.search.totalHashes(); }
  threadHashes(): number[] { return this.search.hashCounts(); }
  /** The search's generation now (0: paused or idle). */
  get generation(): number { return this.active?.generation ?? 0; }
  /** When every thread had taken `generation` (performance.now() clock), or undefined. */
  switchedAt(generation: number): number | undefined { return this.search.switchedAt(generation); }

  /** The dataset for the current stage became ready: restart the current job in full mode. */
  onDatasetReady(stage: number): void {
    const a = this.active;
    if (!a || a.algo !== 'octopus' || a.cache?.stage !== stage || this.stopped) return;
    this.opts.logger.info('cpu', `switching to full mode (dataset in memory)`);
    const dataset = this.opts.resources.datasetIfReady(stage);
    this.switchTo(dataset ? octopusActive(a.job, { cache: a.cache, dataset }) : withGeneration(a, 0));
  }

  /**
   * Sets the share difficulty for the current job: about one share a second at `hps` (the
   * measured rate; undefined: a guess for the mode, as at start and after a mode change).
   */
  retargetShares(hps: number | undefined): void {
    const a = this.active;
    if (!a || this.stopped) return;
    const bits = this.selfCheck.retarget(a.mode, hps, a.job.difficulty);
    if (bits !== undefined) this.search.setShareBits(bits);
  }

  /** Samples the shares' work; the hits dropped before any check count as work too. */
  sampleShares(nowMs: number): void {
    const d = this.search.dropped;
    this.selfCheck.sample(nowMs, d.full + d.shares + this.counts.droppedBacklog);
  }

  /**
   * Starts the current job again from scratch: new batchers, so a kernel switched off since
   * (disableKernel, the self-test) is no longer used. Returns the new generation (0: not hashing).
   */
  restartSearch(): number {
    const a = this.active;
    if (!a || this.stopped) return 0;
    this.switchTo(withGeneration(a, 0));
    return this.active?.generation ?? 0;
  }

  /**
   * Stops using the dataset of `stage` now (it is damaged, or full mode is given up): the current
   * job goes on in light mode. The search threads drop their reference at their next look.
   */
  leaveFullMode(stage: number): number {
    const a = this.active;
    if (!a || a.algo !== 'octopus' || a.cache?.stage !== stage || !a.dataset || this.stopped) return 0;
    const light: Active = {
      generation: 0, job: a.job, algo: a.algo, mode: 'light', cache: a.cache, dataset: undefined, datasetBytes: a.dataset.bytes,
    };
    this.switchTo(light);
    return this.active?.generation ?? 0;
  }

  private pauseSearch(): void {
    if (this.active) this.active = withGeneration(this.active, 0);
    this.search.pause();
  }

  /** No connection: hashing would only produce solutions nobody can take. */
  onDisconnected(): void {
    if (this.stopped || this.paused) return;
    this.pauseSearch();
  }

  pause(): void {
    this.paused = true;
    this.pauseSearch();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.active) this.switchTo(withGeneration(this.active, 0));
  }
}

/**
 * A copy of `a` under another generation, every field spelled out: a spread builds a new V8
 * hidden class per job on Node 20 (see StratumClient.onNotify), which only a full GC frees.
 */
function withGeneration(a: Active, generation: number): Active {
  return { generation, job: a.job, algo: a.algo, mode: a.mode, cache: a.cache, dataset: a.dataset, datasetBytes: a.datasetBytes };
}

/**
 * An Octopus job on its stage's cache, and on its dataset when there is one (full mode). Every
 * field spelled out in withGeneration's order, never a spread: one hidden class for every job.
 */
function octopusActive(job: Job, h: StageHandles): Active {
  const datasetBytes = h.dataset ? h.dataset.bytes : stageBytes(h.cache.stage).datasetBytes;
  return { generation: 0, job, algo: 'octopus', mode: h.dataset ? 'full' : 'light', cache: h.cache, dataset: h.dataset, datasetBytes };
}

function isAbort(err: unknown): boolean {
  return err instanceof AbortError;
}
