// The life of a job: it arrives, the search switches to it, nonces come back, each is checked
// on the host and submitted, and the node's answer is counted. Latest job wins, always.
import { randomBytes } from 'node:crypto';
import type { Algo, CacheHandle, DatasetHandle, FoundNonce, FoundShare } from '../native/index.js';
import { STAGE_LENGTH, U64_MAX, SearchEngine, stageBytes, meetsBoundary } from '../native/index.js';
import type { Logger } from '../log/types.js';
import { RateLimitedLog } from '../log/rate-limit.js';
import { formatTally } from '../log/format.js';
import type { Job } from './job.js';
import { formatDifficulty, sameWork, shortJobId } from './job.js';
import type { StageResources } from './resources.js';
import type { SubmitResult, SubmitTarget } from './pool.js';
import { PowMismatchWatch, SentNonces, isIncorrectNonce } from './verdicts.js';
import { AbortError, messageOf } from '../errors.js';
import { SelfCheck, guessHps, recheckHash } from './shares.js';
import type { HashMode, InvalidShare, ShareJob } from './shares.js';

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
 * Generations whose job a late share can still be re-hashed for. Shares arrive within
 * milliseconds of being found, so the last few jobs cover them; an older one is counted as work
 * and skipped.
 */
const RECENT_GENERATIONS = 8;

// Solutions between the search threads and the node, in two bounded stages. The node makes one
// block per solution and answers a submit in milliseconds, so a few dozen in flight already means
// the target is absurdly easy (a test network at difficulty 1): beyond these bounds a solution is
// dropped and counted (droppedBacklog), never queued, so memory and the event loop stay bounded
// whatever the node sends.
/** Solutions waiting for or in their host re-check (an Octopus re-check is a light hash on a pool thread). */
export const MAX_CHECKING = 8;
/** Submits sent and not yet answered. */
export const MAX_SUBMITTING = 32;

/**
 * The books. Every solution found ends in exactly one place:
 * found = submitted + droppedStale + droppedInvalid + droppedBacklog + lost + withheld + checking + inFlight + pending,
 * and submitted = accepted + rejected + timedOut (rejected includes the node's "stale" answers).
 * A verdict that arrives after its submit timed out moves it from timedOut to accepted or rejected.
 */
export interface ShareCounts {
  found: number;
  submitted: number;
  accepted: number;
  rejected: number;
  /** Of `rejected`: the node said the job was stale. */
  rejectedStale: number;
  timedOut: number;
  /** Never sent: its job had been replaced before it could go out. */
  droppedStale: number;
  /** Never sent: failed the host-side re-check. */
  droppedInvalid: number;
  /** Never sent: the pipeline was full (MAX_CHECKING, MAX_SUBMITTING, or the native queue). */
  droppedBacklog: number;
  /** The connection dropped before the node answered, and the node came back with other work. */
  lost: number;
  /** Never sent: the node was rejecting this miner's proof of work (see MiningEngine.powMismatch). */
  withheld: number;
  /** In the host re-check now. */
  checking: number;
  inFlight: number;
  /** Waiting for the connection to return with the same job. */
  pending: number;
}

interface Active {
  generation: number;
  job: Job;
  algo: Algo;
  cache?: CacheHandle;
  dataset?: DatasetHandle;
  datasetBytes?: number;
}

export class MiningEngine {
  private readonly search: SearchEngine;
  private latest: Job | undefined;
  private seq = 0;
  /** The stage of the last Octopus job, for StageResources.only(). */
  private stage: number | undefined;
  private active: Active | undefined;
  private paused = false;
  private stopped = false;
  private waitingForHeight = false;
  private startNonce = randomBytes(8).readBigUInt64LE();
  /** `sent`: the submit was written to a node (it may have taken it), so "already solved" answers our own. */
  private readonly pending: { job: Job; nonce: bigint; sent: boolean }[] = [];
  private readonly sentNonces = new SentNonces();
  private readonly pow = new PowMismatchWatch();
  /** The job of the last "holding back solutions" line. */
  private withheldFor: Buffer | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts: ShareCounts = {
    found: 0, submitted: 0, accepted: 0, rejected: 0, rejectedStale: 0, timedOut: 0, droppedStale: 0, droppedInvalid: 0,
    droppedBacklog: 0, lost: 0, withheld: 0, checking: 0, inFlight: 0, pending: 0,
  };
  /** Per-solution and per-job lines, which a node controls the rate of. */
  private readonly lines: RateLimitedLog;
  /** Internal shares: best difficulty, effective hashrate, invalid shares. */
  readonly selfCheck: SelfCheck;
  /** The jobs of the last RECENT_GENERATIONS generations, oldest first, for their shares. */
  private readonly recent = new Map<number, Active>();
  /** Solutions dropped on a full pipeline so far, already added to the shares' work. */
  private droppedHitsSeen = 0;
  /** The mode and the hashrate (measured, or its guess) the share difficulty was last set for. */
  private sharesMode: HashMode | undefined;
  private sharesHps: number | undefined;

  constructor(private readonly opts: EngineOptions) {
    this.selfCheck = new SelfCheck({
      onInvalid: (share) => this.opts.onInvalidShare?.(share),
      heightOf: (job) => job.height ?? this.opts.fixedHeight ?? null,
    });
    this.search = new SearchEngine(opts.threads, (found) => this.onFound(found), (shares) => this.onShares(shares));
    // Deferred: the job line must not lengthen a switch (printing one costs more than the switch).
    this.lines = new RateLimitedLog(opts.logger, { deferOutput: true });
  }

  get currentJob(): Job | undefined { return this.latest; }
  get mode(): 'light' | 'full' | 'keccak' | 'idle' {
    if (!this.active) return 'idle';
    return this.active.algo === 'keccak' ? 'keccak' : this.active.dataset ? 'full' : 'light';
  }
  get isPaused(): boolean { return this.paused; }
  /**
   * Set while the node answers "Incorrect Nonce" to solutions that passed this miner's own
   * re-check (POW_MISMATCH_REJECTIONS in a row): it computes another proof of work. `since` is
   * Unix ms, `algo` this miner's --algo. Cleared by the next accepted answer. For /health.
   */
  get powMismatch(): { since: number; algo: string } | undefined {
    const since = this.pow.since;
    return since === undefined ? undefined : { since, algo: this.opts.algo };
  }
  totalHashes(): number { return this.search.totalHashes(); }
  threadHashes(): number[] { return this.search.hashCounts(); }
  /** The search's generation now (0: paused or idle). */
  get generation(): number { return this.active?.generation ?? 0; }
  /** When every thread had taken `generation` (performance.now() clock), or undefined. */
  switchedAt(generation: number): number | undefined { return this.search.switchedAt(generation); }

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
      this.resubmitPending(job);
      return;
    }
    const seq = ++this.seq;
    this.latest = job;
    this.resubmitPending(job);
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
    if (this.opts.algo === 'keccak') return this.switchTo({ generation: 0, job, algo: 'keccak' });

    const stage = Math.floor(height! / STAGE_LENGTH);
    const resources = this.opts.resources;
    // Builds for any other stage are no longer wanted: they end now (latest job wins). Nothing
    // starts a build for another stage while jobs stay in one, so this is done on a change only.
    if (stage !== this.stage) {
      this.stage = stage;
      resources.only(stage);
    }
    const cache = resources.cacheIfReady(stage);
    if (!cache) {
      this.pauseSearch(); // nothing may hash the replaced job while this one's cache builds
      void this.startWhenCached(job, seq, stage, height!);
      return;
    }
    this.startWith(job, cache, height!);
  }

  private async startWhenCached(job: Job, seq: number, stage: number, height: number): Promise<void> {
    let cache: CacheHandle;
    try {
      cache = await this.opts.resources.cache(stage, height);
    } catch (err) {
      if (seq !== this.seq || this.stopped || isAbort(err)) return; // a newer job took over
      this.lines.line('cache-error', 'error', 'dag', 'unusable jobs', `${messageOf(err)}; waiting for a job the miner can use`);
      return;
    }
    if (seq !== this.seq || this.stopped) return; // a newer job arrived meanwhile: it wins
    try {
      this.startWith(job, cache, height);
    } catch (err) {
      this.cannotStart(err);
    }
  }

  private cannotStart(err: unknown): void {
    this.opts.logger.error('job', `cannot start the job: ${messageOf(err)}`);
  }

  private startWith(job: Job, cache: CacheHandle, height: number): void {
    this.opts.resources.want(height, cache);
    const a: Active = { generation: 0, job, algo: 'octopus', cache, datasetBytes: stageBytes(cache.stage).datasetBytes };
    this.switchTo(this.withDataset(a, height));
  }

  /** The dataset for the current stage became ready: restart the current job in full mode. */
  onDatasetReady(stage: number): void {
    const a = this.active;
    if (!a || a.algo !== 'octopus' || a.cache?.stage !== stage || this.stopped) return;
    this.opts.logger.info('cpu', `switching to full mode (dataset in memory)`);
    this.switchTo(this.withDataset(withGeneration(a, 0), a.job.height ?? this.opts.fixedHeight!));
  }

  private withDataset(a: Active, height: number): Active {
    const dataset = this.opts.resources.datasetIfReady(Math.floor(height / STAGE_LENGTH));
    // Spelled out, not `{ ...a, dataset, ... }`: `a` has no dataset property, and in V8 11 (Node 20) a
    // spread followed by a new property builds a new hidden class every time (see StratumClient.onNotify).
    return dataset ? { generation: a.generation, job: a.job, algo: a.algo, cache: a.cache, dataset, datasetBytes: dataset.bytes } : a;
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
    // Only jobs of the current cache: a share of another stage's job is not worth holding a
    // second 16-33 MiB cache for (a node that changes stage every job would hold eight).
    for (const [g, old] of this.recent) if (old.cache !== next.cache) this.recent.delete(g);
    this.recent.set(generation, this.active);
    if (this.recent.size > RECENT_GENERATIONS) this.recent.delete(this.recent.keys().next().value!);
    this.retargetShares(undefined);
  }

  /**
   * Sets the share difficulty for the current job: about one share a second at `hps` (the
   * measured rate; undefined: a guess for the mode, as at start and after a mode change).
   */
  retargetShares(hps: number | undefined): void {
    const a = this.active;
    if (!a || this.stopped) return;
    const mode = modeOf(a);
    // A new mode (light -> full is ~50x) starts from its guess; otherwise the last rate stands,
    // and a new job only applies its own difficulty as the cap.
    const modeChanged = mode !== this.sharesMode;
    if (hps !== undefined) this.sharesHps = hps;
    else if (modeChanged || this.sharesHps === undefined) this.sharesHps = guessHps(mode, this.opts.threads);
    this.sharesMode = mode;
    const bits = this.selfCheck.retarget(this.sharesHps, a.job.difficulty, hps === undefined && modeChanged);
    if (bits !== undefined) this.search.setShareBits(bits);
  }

  /** Shares from the native threads, of any recent generation: each is re-hashed and counted. */
  private onShares(shares: FoundShare[]): void {
    for (const s of shares) {
      const a = this.recent.get(s.generation);
      this.selfCheck.onShare(s, a && shareJob(a));
    }
  }

  /**
   * Hits the pipeline dropped before any check (a full native queue, a full re-check stage):
   * still work the search did, added to the shares' effective hashrate at the current difficulty.
   */
  sampleShares(nowMs: number): void {
    const d = this.search.dropped;
    const hits = d.full + d.shares + this.counts.droppedBacklog;
    if (this.selfCheck.bits !== undefined) this.selfCheck.addWork(hits - this.droppedHitsSeen, this.selfCheck.bits);
    this.droppedHitsSeen = hits;
    this.selfCheck.sample(nowMs);
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
      generation: 0, job: a.job, algo: a.algo, cache: a.cache, dataset: undefined, datasetBytes: a.dataset.bytes,
    };
    this.switchTo(light);
    return this.active?.generation ?? 0;
  }

  private pauseSearch(): void {
    if (this.active) this.active = withGeneration(this.active, 0);
    this.search.pause();
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
      if (this.counts.checking >= MAX_CHECKING || this.counts.inFlight >= MAX_SUBMITTING) {
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
      const source = shareJob(a);
      hash = await recheckHash(source, f.nonce);
      // A solution is a share too: its re-check feeds the self-check (and an invalid one, the repair).
      this.selfCheck.verdict(source, f.nonce, f.hash, hash, this.selfCheck.bits ?? 0);
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
    if (this.counts.inFlight >= MAX_SUBMITTING) {
      this.counts.droppedBacklog++;
      return;
    }
    this.lines.line('found', 'info', 'share', 'solutions found',
      `solution found for job ${shortJobId(a.job.jobId)}: nonce 0x${f.nonce.toString(16)}`);
    this.send(a.job, f.nonce);
  }

  /** `sentBefore`: a resubmit of a solution whose first submit may have reached the node. */
  private send(job: Job, nonce: bigint, sentBefore = false): void {
    if (!this.pow.maySend(job.powHash, nonce)) {
      this.counts.withheld++;
      if (!this.withheldFor?.equals(job.powHash)) {
        this.withheldFor = job.powHash; // one line per job: the count is in the books
        this.lines.line('withheld', 'info', 'share', 'withheld jobs', `holding back solutions for job ${shortJobId(job.jobId)}: ` +
          'the node rejects this miner\'s proof of work (see the error above); one goes out as a probe on the next job');
      }
      return;
    }
    const again = this.sentNonces.add(job.powHash, nonce) || sentBefore;
    this.counts.inFlight++;
    const late = (r: SubmitResult): void => this.onSubmitResult(job, nonce, r, again, true);
    const p = this.opts.pool.submit(job, nonce, late).then(
      (r) => this.onSubmitResult(job, nonce, r, again),
      (err: unknown) => this.onSubmitResult(job, nonce, { status: 'error', reason: messageOf(err), rttMs: 0 }, again),
    ).finally(() => {
      this.counts.inFlight--;
      this.inFlight.delete(p);
    });
    this.inFlight.add(p);
  }

  /**
   * The node's answer, or its absence. `sentBefore`: this nonce had gone to the node for this
   * job before (so "already solved" is our own earlier submit). `late`: a verdict after the
   * submit was counted timed out; it moves the solution from timed out to its verdict.
   */
  private onSubmitResult(job: Job, nonce: bigint, r: SubmitResult, sentBefore: boolean, late = false): void {
    const rtt = `${Math.round(r.rttMs)} ms`;
    const id = shortJobId(job.jobId);
    const solved = r.status === 'rejected' && alreadySolvedBy(r.reason, nonce);
    // Sent before: a resubmit after a dropped connection, and the node had accepted this very nonce
    // already. Never sent: another miner was first (the node quotes the submitter's nonce either way).
    if (solved && sentBefore) r = { ...r, status: 'accepted' };
    const solvedByOther = solved && !sentBefore;
    if (r.notSent) this.sentNonces.remove(job.powHash, nonce);
    this.watchPow(job, nonce, r);
    if (late) {
      // Booked again below, with the verdict.
      this.counts.submitted--;
      this.counts.timedOut--;
    }
    if (r.status === 'disconnected' && this.stopped) {
      this.counts.lost++; // shutting down: nobody will be here when the node comes back
      return;
    }
    // Late answers are rare and each one corrects the books: their own rate limit, not drowned by the rest.
    const after = late ? `late answer for job ${id}: ` : '';
    const key = (kind: string): string => (late ? 'late' : kind);
    switch (r.status) {
      case 'accepted':
        this.counts.submitted++;
        this.counts.accepted++;
        this.opts.onAccepted?.();
        this.lines.line(key('accepted'), 'info', 'share', late ? 'late answers' : 'accepted solutions', late
          ? `${after}accepted after ${rtt} (${formatTally(shareSummary(this.counts))})`
          : `accepted (${formatTally(shareSummary(this.counts))}) job ${id} in ${rtt}`);
        return;
      case 'rejected':
      case 'error':
        this.counts.submitted++;
        this.counts.rejected++;
        if (/stale/i.test(r.reason ?? '')) {
          this.counts.rejectedStale++;
          this.lines.line(key('stale'), 'warn', 'share', late ? 'late answers' : 'stale answers', late
            ? `${after}stale (${r.reason}) after ${rtt}`
            : `stale: job ${id} was replaced at the node (${r.reason}) in ${rtt}`);
        } else if (solvedByOther) {
          this.lines.line(key('rejected'), 'warn', 'share', late ? 'late answers' : 'rejections', `${after}rejected job ${id}: another miner had already ` +
            `sent nonce 0x${nonce.toString(16)}, which this miner never sent before (${r.reason}), in ${rtt}`);
        } else {
          this.lines.line(key('rejected'), 'warn', 'share', late ? 'late answers' : 'rejections', late
            ? `${after}rejected after ${rtt}: ${r.reason ?? 'no reason given'}`
            : `rejected job ${id}: ${r.reason ?? 'no reason given'} in ${rtt}`);
        }
        return;
      case 'timeout':
        this.counts.submitted++;
        this.counts.timedOut++;
        this.lines.line('timeout', 'warn', 'share', 'unanswered submits', `no answer to a submit for job ${id} within ${rtt}`);
        return;
      case 'disconnected':
        // The node may come back with the same job (window 1): keep it until the next notify says.
        // Bounded: only submits in flight (at most MAX_SUBMITTING) can come back this way.
        this.pending.push({ job, nonce, sent: sentBefore || !r.notSent });
        this.counts.pending = this.pending.length;
        this.lines.line('pending', 'warn', 'share', 'solutions kept for reconnect',
          `connection lost before the node answered; keeping the solution for job ${id} until reconnect`);
    }
  }

  /** A run of "Incorrect Nonce" for solutions that passed the host re-check: the node's PoW is not ours. */
  private watchPow(job: Job, nonce: bigint, r: SubmitResult): void {
    const verdict = r.status === 'accepted' ? 'accepted' : r.status === 'rejected' && isIncorrectNonce(r.reason) ? 'incorrect' : 'other';
    const latest = this.latest !== undefined && job.powHash.equals(this.latest.powHash);
    const outcome = this.pow.onAnswer(job.powHash, nonce, verdict, latest);
    if (outcome === 'cleared') {
      this.lines.line('pow', 'info', 'share', 'PoW mismatch lines', 'the node accepted a solution again: sending every solution');
    } else if (outcome === 'error') {
      const algo = this.opts.algo;
      // Octopus hashes at a height: a job without one was mined at the fixed --height, which may be wrong.
      const height = algo === 'octopus' && job.height === undefined
        ? `, and --height (${this.opts.fixedHeight}): the node's jobs carry no height, so the miner hashes at that one`
        : '';
      this.lines.line('pow', 'error', 'share', 'PoW mismatch lines', `the node answered "Incorrect Nonce" to ${this.pow.incorrectInARow} solutions in a row ` +
        `that passed this miner's own re-check: the node computes a different proof of work than this miner (--algo ${algo}). ` +
        `Check --algo (octopus for mainnet and most nodes, keccak for a node in test mode)${height}. ` +
        'Holding solutions back; one goes out as a probe on each new job');
    }
  }

  private resubmitPending(job: Job): void {
    if (this.pending.length === 0) return;
    const keep = this.pending.splice(0);
    this.counts.pending = 0;
    for (const p of keep) {
      if (sameWork(p.job, job) || p.job.powHash.equals(job.powHash)) {
        this.lines.line('resubmit', 'info', 'share', 'resubmits', `resubmitting a solution for job ${shortJobId(job.jobId)} after reconnect`);
        this.send(job, p.nonce, p.sent);
      } else {
        this.counts.lost++;
        this.lines.line('lost', 'warn', 'share', 'lost solutions',
          `dropped a solution for job ${shortJobId(p.job.jobId)}: the node moved on while we were away`);
      }
    }
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

  /** Stops every thread now, then waits up to `graceMs` for answers to submits in flight. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.search.destroy();
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => { timer = setTimeout(r, graceMs); }),
      ]);
      clearTimeout(timer);
    }
    this.counts.lost += this.pending.splice(0).length;
    this.counts.pending = 0;
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
}

/**
 * A copy of `a` under another generation, every field spelled out: a spread builds a new V8
 * hidden class per job on Node 20 (see StratumClient.onNotify), which only a full GC frees.
 */
function withGeneration(a: Active, generation: number): Active {
  return { generation, job: a.job, algo: a.algo, cache: a.cache, dataset: a.dataset, datasetBytes: a.datasetBytes };
}

function modeOf(a: Active): HashMode {
  return a.algo === 'keccak' ? 'keccak' : a.dataset ? 'full' : 'light';
}

function shareJob(a: Active): ShareJob {
  return { job: a.job, algo: a.algo, cache: a.cache, datasetBytes: a.datasetBytes, mode: modeOf(a), generation: a.generation };
}

function isAbort(err: unknown): boolean {
  return err instanceof AbortError;
}

/**
 * The node's "Problem already solved with nonce = N" (N decimal or hex) names this nonce. The real
 * node always quotes the submitter's own nonce there, so this says only that the nonce was taken:
 * by this miner's earlier submit, or by another miner (the engine knows which from what it sent).
 */
export function alreadySolvedBy(reason: string | undefined, nonce: bigint): boolean {
  const m = /already solved with nonce\s*=\s*(0x[0-9a-f]+|\d+)/i.exec(reason ?? '');
  if (!m) return false;
  try {
    return BigInt(m[1]!) === nonce;
  } catch {
    return false;
  }
}

/** Shares as a pool dashboard shows them: stale = never sent because replaced, or called stale by the node. */
export function shareSummary(c: ShareCounts): { accepted: number; rejected: number; stale: number } {
  return { accepted: c.accepted, rejected: c.rejected - c.rejectedStale, stale: c.droppedStale + c.rejectedStale };
}

/** The two identities of ShareCounts; both hold at every moment the event loop is idle. */
export function booksBalance(c: ShareCounts): boolean {
  return c.found === c.submitted + c.droppedStale + c.droppedInvalid + c.droppedBacklog + c.lost + c.withheld + c.checking + c.inFlight + c.pending &&
    c.submitted === c.accepted + c.rejected + c.timedOut;
}
