// The miner's periodic and closing lines: the speed line (or "waiting for the node" while there
// is no node to mine for), the summary at exit (a short headline plus one detail line), and the
// solution books. Under --log-json the numbers travel as fields, not only inside `msg`. The farm
// (farm.ts) decides when each is due.
import type { ConsoleLogger } from '../log/logger.js';
import type { LogFields } from '../log/types.js';
import { formatDuration, formatHashrate, plural } from '../log/format.js';
import type { HashrateRates } from './hashrate.js';
import type { ShareCounts } from './books.js';
import { formatDifficulty, shortJobId } from './job.js';
import type { ShareTally } from './summary.js';

export interface SpeedInput {
  rates: HashrateRates;
  shares: ShareTally;
  paused: boolean;
  /** Subscribed to a node: there is work to hash. */
  connected: boolean;
  /** The node being tried, `host:port`, when not connected. */
  node: string | null;
}

export function logSpeed(log: ConsoleLogger, s: SpeedInput): void {
  if (!s.connected && !s.paused) {
    // Hashing stops without a node; a 0 H/s line every interval would look like a broken miner.
    log.info('net', `waiting for the node${s.node ? ` at ${s.node}` : ''}`, jsonOnly(log, { connected: false }));
    return;
  }
  const r = s.rates;
  log.info('cpu', `speed 10s/60s/15m ${formatHashrate(r['10s'])} ${formatHashrate(r['60s'])} ${formatHashrate(r['15m'])}` +
    `${s.paused ? ' (paused)' : ''}  accepted ${s.shares.accepted} rejected ${s.shares.rejected} stale ${s.shares.stale}`,
  jsonOnly(log, {
    hashrate_10s: r['10s'], hashrate_60s: r['60s'], hashrate_15m: r['15m'], paused: s.paused,
    accepted: s.shares.accepted, rejected: s.shares.rejected, stale: s.shares.stale,
  }));
}

export interface SummaryInput {
  ranMs: number;
  /** Time the threads were actually hashing (HashingClock): paused, disconnected and cache-build time left out. */
  hashingMs: number;
  hashes: number;
  counts: ShareCounts;
  shares: ShareTally;
}

/** Two lines: what an operator wants at a glance, then where every solution went. */
export function logSummary(log: ConsoleLogger, s: SummaryInput): void {
  const average = s.hashingMs > 0 ? (s.hashes * 1000) / s.hashingMs : null;
  log.info('miner', `summary: ran ${formatDuration(s.ranMs)}, ${formatHashrate(average)} over ${formatDuration(s.hashingMs)} hashing; ` +
    `accepted ${s.shares.accepted}, rejected ${s.shares.rejected}, stale ${s.shares.stale}`,
  jsonOnly(log, {
    ran_s: Math.round(s.ranMs / 1000), hashing_s: Math.round(s.hashingMs / 1000), hashes: s.hashes, hashrate_avg: average,
    accepted: s.shares.accepted, rejected: s.shares.rejected, stale: s.shares.stale,
  }));
  log.info('miner', `${plural(s.hashes, 'hash', 'hashes')}; ${formatBooks(s.counts)}`,
    jsonOnly(log, {
      found: s.counts.found, sent: s.counts.submitted, replaced: s.counts.droppedStale, stale_at_node: s.counts.rejectedStale,
      timed_out: s.counts.timedOut, failed_recheck: s.counts.droppedInvalid, lost: s.counts.lost, withheld: s.counts.withheld,
      in_flight: s.counts.inFlight, pending: s.counts.pending,
    }));
}

/**
 * The books in words that keep the two kinds of stale apart: "replaced" solutions were found
 * for a job the node had already replaced, so the miner never sent them; "stale at node" ones
 * were sent and the node answered that their job was stale. The headline's `stale` is their sum.
 * "withheld" solutions were never sent because the node was rejecting this miner's proof of work.
 */
export function formatBooks(c: ShareCounts): string {
  // The rare outcomes only when they happened, to keep the line short.
  const rare = ([['timed out', c.timedOut], ['failed re-check', c.droppedInvalid], ['dropped backlog', c.droppedBacklog],
    ['lost', c.lost], ['withheld', c.withheld], ['checking', c.checking], ['in flight', c.inFlight], ['pending', c.pending]] as const).filter(([, n]) => n > 0).map(([what, n]) => `, ${what} ${n}`).join('');
  return `found ${c.found}, sent ${c.submitted}${rare}; stale ${c.droppedStale + c.rejectedStale} = ` +
    `${c.droppedStale} replaced before sending + ${c.rejectedStale} stale at node`;
}

/** Human lines already say these numbers in words; JSON lines carry them as fields. */
function jsonOnly(log: ConsoleLogger, fields: LogFields): LogFields | undefined {
  return log.json ? fields : undefined;
}

/**
 * Hashing time, for an average that means "while it was mining": the time between two samples
 * counts only if the hash count grew between them (paused, disconnected or waiting for a cache
 * build, it does not).
 */
export class HashingClock {
  private lastHashes = 0;
  private lastMs: number | undefined;
  private activeMs = 0;

  sample(totalHashes: number, nowMs: number): void {
    if (this.lastMs !== undefined && totalHashes > this.lastHashes && nowMs > this.lastMs) this.activeMs += nowMs - this.lastMs;
    this.lastHashes = totalHashes;
    this.lastMs = nowMs;
  }

  get hashingMs(): number {
    return this.activeMs;
  }
}

export interface OddsInput {
  best: { difficulty: bigint; nonce: bigint; jobId: string } | null;
  effort: number;
  expectedBlockS: number | null;
  hashrate: number | null;
  shareBits: number | undefined;
  checked: number;
  invalid: number;
  effectiveHps: number | null;
}

/**
 * The solo miner's progress line, every few minutes (a block may be weeks away): the best share
 * since start, effort (1.0 = one block expected by now), the expected time to a block, and the
 * self-check (shares re-hashed, invalid ones, the effective hashrate they prove).
 */
export function logOdds(log: ConsoleLogger, o: OddsInput): void {
  const best = o.best ? `best ${formatDifficulty(o.best.difficulty)} (nonce 0x${o.best.nonce.toString(16)}, job ${shortJobId(o.best.jobId)})` : 'best n/a';
  const expected = formatExpected(o.expectedBlockS);
  const share = o.shareBits === undefined ? 'n/a' : `2^${o.shareBits}`;
  log.info('share', `${best}; effort ${formatEffort(o.effort)}; a block every ~${expected}; ` +
    `self-check ${plural(o.checked, 'share')} at ${share}, ${o.invalid} invalid, effective ${formatHashrate(o.effectiveHps)} ` +
    `vs counted ${formatHashrate(o.hashrate)}`,
  jsonOnly(log, {
    best_difficulty: o.best?.difficulty.toString() ?? null, best_nonce: o.best ? `0x${o.best.nonce.toString(16)}` : null,
    effort: o.effort, expected_block_s: o.expectedBlockS, share_bits: o.shareBits ?? null, shares_checked: o.checked,
    shares_invalid: o.invalid, effective_hps: o.effectiveHps, hashrate: o.hashrate,
  }));
}

/** Effort as a percentage with three significant digits: 0.0123%, 4.56%, 123%. */
export function formatEffort(effort: number): string {
  const pct = effort * 100;
  if (!Number.isFinite(pct) || pct < 0) return 'n/a';
  if (pct === 0) return '0%';
  return `${pct >= 100 ? pct.toFixed(0) : pct.toPrecision(3)}%`;
}

/** The expected time to a block: a duration, or years past one (mainnet on a CPU is measured in those). */
export function formatExpected(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return 'n/a';
  const years = seconds / (365.25 * 86_400);
  if (years >= 1) return `${years >= 100 ? years.toExponential(2) : years.toFixed(1)} years`;
  return formatDuration(seconds * 1000);
}
