// A mining job as the rest of the miner sees it: built from a validated mining.notify, with the
// boundary and the difficulty it implies. 256-bit values stay bigint; nothing here does I/O.
import { U256_MAX, strip0x } from '../hex.js';

export const TWO_POW_256 = 1n << 256n;

export interface Job {
  /** As received, normalized to lowercase with a `0x` prefix; echoed back in mining.submit. */
  readonly jobId: string;
  /** Block height; undefined for the three-param notify (the mining layer decides what to do). */
  readonly height: number | undefined;
  /** The 32-byte header hash the PoW is computed over. */
  readonly powHash: Buffer;
  /** A nonce is valid when its hash (big-endian) is strictly below this; 1 .. 2^256-1. */
  readonly boundary: bigint;
  /** floor(2^256 / boundary); at least 1. */
  readonly difficulty: bigint;
  /** performance.now() when the notify line was parsed. */
  readonly receivedAt: number;
}

export interface JobFields {
  jobId: string;
  height: number | undefined;
  powHash: Buffer;
  boundary: bigint;
  receivedAt?: number;
}

/** Builds a Job from already-validated fields (messages.ts validates network input). */
export function createJob(fields: JobFields): Job {
  return {
    jobId: fields.jobId.toLowerCase(),
    height: fields.height,
    powHash: fields.powHash,
    boundary: fields.boundary,
    difficulty: difficultyFromBoundary(fields.boundary),
    receivedAt: fields.receivedAt ?? performance.now(),
  };
}

/** floor(2^256 / boundary); a boundary of 2^256-1 (accept everything) is difficulty 1. */
export function difficultyFromBoundary(boundary: bigint): bigint {
  if (boundary <= 0n || boundary > U256_MAX) throw new RangeError('boundary must be from 1 to 2^256-1');
  return TWO_POW_256 / boundary;
}

/** floor(2^256 / difficulty), clamped to 2^256-1 so difficulty 1 still fits in 256 bits. */
export function boundaryFromDifficulty(difficulty: bigint): bigint {
  // Past 2^256 the boundary would be 0: no nonce could ever be valid.
  if (difficulty < 1n || difficulty > TWO_POW_256) throw new RangeError('difficulty must be from 1 to 2^256');
  const boundary = TWO_POW_256 / difficulty;
  return boundary > U256_MAX ? U256_MAX : boundary;
}

const UNITS = ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];

/** Human form for logs: 999, 1.23 K, 45.6 M, 789 T; past Y, scientific notation. */
export function formatDifficulty(difficulty: bigint): string {
  if (difficulty < 1000n) return difficulty.toString();
  // A double is plenty for three significant digits, even at 2^256.
  let value = Number(difficulty);
  let unit = 0;
  // Compare the rounded value so 999_999 becomes "1.00 M", not "1000 K".
  while (unit < UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
    value /= 1000;
    unit++;
  }
  if (Number(value.toPrecision(3)) >= 1000) return Number(difficulty).toExponential(2);
  return `${value.toPrecision(3)} ${UNITS[unit]}`;
}

/** The first 8 hex digits of a job id (no prefix), enough to tell jobs apart in a log. */
export function shortJobId(jobId: string): string {
  const body = strip0x(jobId);
  return body.slice(0, 8).toLowerCase();
}

/** True when two jobs ask for the same work (the node re-sends its current job every ~60 s). */
export function sameWork(a: Job, b: Job): boolean {
  return a.jobId === b.jobId && a.height === b.height && a.boundary === b.boundary && a.powHash.equals(b.powHash);
}
