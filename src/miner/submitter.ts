// From a checked solution to the node's verdict in the books: the send (or its hold-back while
// the node rejects this miner's proof of work), the verdict, a late answer after a timeout, and
// the solutions kept over a dropped connection and resubmitted when the node returns with the
// same job. The engine hands it solutions that passed the host re-check for the latest job.
import type { Algo } from '../native/index.js';
import type { RateLimitedLog } from '../log/rate-limit.js';
import { formatTally } from '../log/format.js';
import { messageOf } from '../errors.js';
import type { Job } from './job.js';
import { sameWork, shortJobId } from './job.js';
import type { SubmitResult, SubmitTarget } from './pool.js';
import type { ShareCounts } from './books.js';
import { shareSummary } from './books.js';
import { PowMismatchWatch, SentNonces, alreadySolvedBy, isIncorrectNonce } from './verdicts.js';

/**
 * Submits sent and not yet answered. The node makes one block per solution and answers a submit
 * in milliseconds, so a few dozen in flight already means the target is absurdly easy (a test
 * network at difficulty 1): beyond this a solution is dropped and counted (droppedBacklog).
 */
export const MAX_SUBMITTING = 32;

export interface SubmitterOptions {
  algo: Algo;
  /** For three-param notifies, which carry no height (named in the PoW-mismatch line). */
  fixedHeight?: number;
  pool: SubmitTarget;
  /** The books, shared with the engine: it counts up to the send, this from the send on. */
  counts: ShareCounts;
  /** The engine's per-solution lines (one rate limit for both). */
  lines: RateLimitedLog;
  /** The engine's latest job: a PoW mismatch blocks the job it was seen on only if that is the latest. */
  latest: () => Job | undefined;
  /** The node accepted a solution (a block). */
  onAccepted?: () => void;
}

export class Submitter {
  /** `sent`: the submit was written to a node (it may have taken it), so "already solved" answers our own. */
  private readonly pending: { job: Job; nonce: bigint; sent: boolean }[] = [];
  private readonly sentNonces = new SentNonces();
  private readonly pow = new PowMismatchWatch();
  /** The job of the last "holding back solutions" line. */
  private withheldFor: Buffer | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly opts: SubmitterOptions) {}

  /** Since when (Unix ms) the node has been rejecting this miner's proof of work, if it is. */
  get powMismatchSince(): number | undefined {
    return this.pow.since;
  }

  /** MAX_SUBMITTING submits are waiting for their answer: a new solution would be dropped. */
  get full(): boolean {
    return this.opts.counts.inFlight >= MAX_SUBMITTING;
  }

  /** `sentBefore`: a resubmit of a solution whose first submit may have reached the node. */
  send(job: Job, nonce: bigint, sentBefore = false): void {
    const counts = this.opts.counts;
    if (!this.pow.maySend(job.powHash, nonce)) {
      counts.withheld++;
      if (!this.withheldFor?.equals(job.powHash)) {
        this.withheldFor = job.powHash; // one line per job: the count is in the books
        this.opts.lines.line('withheld', 'info', 'share', 'withheld jobs', `holding back solutions for job ${shortJobId(job.jobId)}: ` +
          'the node rejects this miner\'s proof of work (see the error above); one goes out as a probe on the next job');
      }
      return;
    }
    const again = this.sentNonces.add(job.powHash, nonce) || sentBefore;
    counts.inFlight++;
    const late = (r: SubmitResult): void => this.onSubmitResult(job, nonce, r, again, true);
    const p = this.opts.pool.submit(job, nonce, late).then(
      (r) => this.onSubmitResult(job, nonce, r, again),
      (err: unknown) => this.onSubmitResult(job, nonce, { status: 'error', reason: messageOf(err), rttMs: 0 }, again),
    ).finally(() => {
      counts.inFlight--;
      this.inFlight.delete(p);
    });
    this.inFlight.add(p);
  }

  /**
   * A job from the node (new, or the current one re-sent): solutions kept over a dropped
   * connection go out again when it is their job, and are lost when the node moved on.
   */
  resubmitPending(job: Job): void {
    if (this.pending.length === 0) return;
    const keep = this.pending.splice(0);
    this.opts.counts.pending = 0;
    for (const p of keep) {
      if (sameWork(p.job, job) || p.job.powHash.equals(job.powHash)) {
        this.opts.lines.line('resubmit', 'info', 'share', 'resubmits', `resubmitting a solution for job ${shortJobId(job.jobId)} after reconnect`);
        this.send(job, p.nonce, p.sent);
      } else {
        this.opts.counts.lost++;
        this.opts.lines.line('lost', 'warn', 'share', 'lost solutions',
          `dropped a solution for job ${shortJobId(p.job.jobId)}: the node moved on while we were away`);
      }
    }
  }

  /**
   * Shutting down: waits up to `graceMs` for answers to submits in flight; what is still kept
   * for a reconnect then is lost.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => { timer = setTimeout(r, graceMs); }),
      ]);
      clearTimeout(timer);
    }
    this.opts.counts.lost += this.pending.splice(0).length;
    this.opts.counts.pending = 0;
  }

  /**
   * The node's answer, or its absence. `sentBefore`: this nonce had gone to the node for this
   * job before (so "already solved" is our own earlier submit). `late`: a verdict after the
   * submit was counted timed out; it moves the solution from timed out to its verdict.
   */
  private onSubmitResult(job: Job, nonce: bigint, r: SubmitResult, sentBefore: boolean, late = false): void {
    const counts = this.opts.counts;
    const lines = this.opts.lines;
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
      counts.submitted--;
      counts.timedOut--;
    }
    if (r.status === 'disconnected' && this.stopping) {
      counts.lost++; // shutting down: nobody will be here when the node comes back
      return;
    }
    // Late answers are rare and each one corrects the books: their own rate limit, not drowned by the rest.
    const after = late ? `late answer for job ${id}: ` : '';
    const key = (kind: string): string => (late ? 'late' : kind);
    switch (r.status) {
      case 'accepted':
        counts.submitted++;
        counts.accepted++;
        this.opts.onAccepted?.();
        lines.line(key('accepted'), 'info', 'share', late ? 'late answers' : 'accepted solutions', late
          ? `${after}accepted after ${rtt} (${formatTally(shareSummary(counts))})`
          : `accepted (${formatTally(shareSummary(counts))}) job ${id} in ${rtt}`);
        return;
      case 'rejected':
      case 'error':
        counts.submitted++;
        counts.rejected++;
        if (/stale/i.test(r.reason ?? '')) {
          counts.rejectedStale++;
          lines.line(key('stale'), 'warn', 'share', late ? 'late answers' : 'stale answers', late
            ? `${after}stale (${r.reason}) after ${rtt}`
            : `stale: job ${id} was replaced at the node (${r.reason}) in ${rtt}`);
        } else if (solvedByOther) {
          lines.line(key('rejected'), 'warn', 'share', late ? 'late answers' : 'rejections', `${after}rejected job ${id}: another miner had already ` +
            `sent nonce 0x${nonce.toString(16)}, which this miner never sent before (${r.reason}), in ${rtt}`);
        } else {
          lines.line(key('rejected'), 'warn', 'share', late ? 'late answers' : 'rejections', late
            ? `${after}rejected after ${rtt}: ${r.reason ?? 'no reason given'}`
            : `rejected job ${id}: ${r.reason ?? 'no reason given'} in ${rtt}`);
        }
        return;
      case 'timeout':
        counts.submitted++;
        counts.timedOut++;
        lines.line('timeout', 'warn', 'share', 'unanswered submits', `no answer to a submit for job ${id} within ${rtt}`);
        return;
      case 'disconnected':
        // The node may come back with the same job (window 1): keep it until the next notify says.
        // Bounded: only submits in flight (at most MAX_SUBMITTING) can come back this way.
        this.pending.push({ job, nonce, sent: sentBefore || !r.notSent });
        counts.pending = this.pending.length;
        lines.line('pending', 'warn', 'share', 'solutions kept for reconnect',
          `connection lost before the node answered; keeping the solution for job ${id} until reconnect`);
    }
  }

  /** A run of "Incorrect Nonce" for solutions that passed the host re-check: the node's PoW is not ours. */
  private watchPow(job: Job, nonce: bigint, r: SubmitResult): void {
    const verdict = r.status === 'accepted' ? 'accepted' : r.status === 'rejected' && isIncorrectNonce(r.reason) ? 'incorrect' : 'other';
    const latestJob = this.opts.latest();
    const latest = latestJob !== undefined && job.powHash.equals(latestJob.powHash);
    const outcome = this.pow.onAnswer(job.powHash, nonce, verdict, latest);
    if (outcome === 'cleared') {
      this.opts.lines.line('pow', 'info', 'share', 'PoW mismatch lines', 'the node accepted a solution again: sending every solution');
    } else if (outcome === 'error') {
      const algo = this.opts.algo;
      // Octopus hashes at a height: a job without one was mined at the fixed --height, which may be wrong.
      const height = algo === 'octopus' && job.height === undefined
        ? `, and --height (${this.opts.fixedHeight}): the node's jobs carry no height, so the miner hashes at that one`
        : '';
      this.opts.lines.line('pow', 'error', 'share', 'PoW mismatch lines', `the node answered "Incorrect Nonce" to ${this.pow.incorrectInARow} solutions in a row ` +
        `that passed this miner's own re-check: the node computes a different proof of work than this miner (--algo ${algo}). ` +
        `Check --algo (octopus for mainnet and most nodes, keccak for a node in test mode)${height}. ` +
        'Holding solutions back; one goes out as a probe on each new job');
    }
  }
}
