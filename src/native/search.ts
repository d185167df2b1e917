// The nonce search on native threads, typed and validated.
import { u256ToBe } from '../hex.js';
import { checkDatasetBytes, checkHeader, checkNonce, destroyOnExit, loadAddon } from './addon.js';
import type { NativeEngine } from './addon.js';
import type { CacheHandle, DatasetHandle } from './handles.js';
import { STAGE_LENGTH, U256_MAX } from './params.js';
import type { Algo } from './params.js';

export interface SearchJobSpec {
  algo: Algo;
  header: Buffer;
  boundary: bigint;
  startNonce: bigint;
  cache?: CacheHandle;
  dataset?: DatasetHandle;
  /** Light mode: the dataset size the hash is defined over (default: the real one for the stage). */
  datasetBytes?: number;
}

/**
 * performance.now() counts libuv's uv_hrtime (CLOCK_MONOTONIC, as std::chrono::steady_clock on
 * Linux) from a fixed origin: the difference, taken once, maps the native clock onto it.
 */
let hrOrigin: number | undefined;
function hrtimeOriginMs(): number {
  hrOrigin ??= Number(process.hrtime.bigint()) / 1e6 - performance.now();
  return hrOrigin;
}

export interface FoundNonce { generation: number; nonce: bigint; hash: Buffer }
/** An internal share: a hash below 2^256 / 2^bits, of any generation (a replaced job's too). */
export interface FoundShare extends FoundNonce { bits: number }
/** The highest share difficulty the engine takes, as log2 (native/core/search.h kMaxShareBits). */
export const MAX_SHARE_BITS = 63;

/**
 * Native search threads. `onSolutions` runs on the main thread with the solutions of the current
 * generation only: the native engine drops (and counts) those of a replaced job before JS sees
 * them, and holds at most a few dozen (the rest are counted as dropped because the queue was full).
 */
export class SearchEngine {
  private readonly native: NativeEngine;
  private destroyed = false;
  private readonly forgetOnExit: () => void;
  private boundaryBe: { value: bigint; be: Buffer } | undefined;

  constructor(readonly threads: number, onSolutions: (found: FoundNonce[]) => void, onShares?: (shares: FoundShare[]) => void) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new RangeError('threads must be 1 to 1024');
    this.native = new (loadAddon().SearchEngine)(threads, (generation, nonces, hashes, shares) => {
      if (this.destroyed) return;
      if (nonces.length > 0) onSolutions(nonces.map((nonce, i) => ({ generation, nonce, hash: hashes[i]! })));
      if (shares && onShares) {
        const out: FoundShare[] = [];
        for (let i = 0; i + 3 < shares.length; i += 4) {
          out.push({ generation: shares[i] as number, nonce: shares[i + 1] as bigint, hash: shares[i + 2] as Buffer, bits: shares[i + 3] as number });
        }
        onShares(out);
      }
    });
    this.forgetOnExit = destroyOnExit(this);
  }

  /** Solutions of replaced jobs, solutions beyond the queue's bound, and shares beyond theirs, dropped natively. */
  get dropped(): { stale: number; full: number; shares: number } {
    return this.native.dropped();
  }

  /** Shares from now on are hashes below 2^256 / 2^bits (0 to MAX_SHARE_BITS); applies within a block. */
  setShareBits(bits: number): void {
    if (!Number.isInteger(bits) || bits < 0 || bits > MAX_SHARE_BITS) throw new RangeError(`share bits must be 0 to ${MAX_SHARE_BITS}`);
    if (!this.destroyed) this.native.setShareBits(bits);
  }

  /**
   * Blocks until every thread works on the current generation (true), or `timeoutMs` passed.
   * For tests and the benchmark: the miner itself never waits for the threads.
   */
  waitSwitched(timeoutMs = 5_000): boolean {
    return this.destroyed ? true : this.native.waitSwitched(timeoutMs);
  }

  /**
   * When every thread had taken `generation`, on the clock of performance.now(), or undefined
   * while one has not (or never will: a newer job came first). Never waits: the switch latency
   * of a job, read after the fact, without the reader's own wake-up in it.
   */
  switchedAt(generation: number): number | undefined {
    if (this.destroyed || !Number.isSafeInteger(generation) || generation < 1) return undefined;
    const ns = this.native.switchedAt(generation);
    return ns < 0 ? undefined : ns / 1e6 - hrtimeOriginMs();
  }

  /** Publishes the job and returns its generation at once; threads switch within a batch. */
  start(job: SearchJobSpec): number {
    if (this.destroyed) throw new Error('search engine destroyed');
    checkHeader(job.header);
    if (job.boundary <= 0n || job.boundary > U256_MAX) throw new RangeError('boundary must be from 1 to 2^256-1');
    checkNonce(job.startNonce, 64);
    let datasetBytes = job.datasetBytes;
    if (job.algo === 'octopus') {
      if (!job.cache) throw new TypeError('octopus needs a cache');
      if (job.dataset) datasetBytes = job.dataset.bytes;
      datasetBytes ??= loadAddon().sizes(job.cache.stage * STAGE_LENGTH).datasetBytes;
      checkDatasetBytes(datasetBytes);
    } else if (job.algo !== 'keccak') {
      throw new TypeError(`unknown algo ${String(job.algo)}`);
    }
    // The boundary changes with the difficulty, not with every job: its bytes are kept (start copies them).
    if (this.boundaryBe?.value !== job.boundary) this.boundaryBe = { value: job.boundary, be: u256ToBe(job.boundary) };
    return this.native.start(job.algo === 'octopus' ? 1 : 0, job.header, this.boundaryBe.be, job.startNonce,
      job.cache?.handle, job.dataset?.handle, datasetBytes);
  }

  pause(): void {
    if (!this.destroyed) this.native.pause();
  }

  get generation(): number {
    return this.destroyed ? 0 : this.native.generation();
  }

  /** Hashes done by each thread since the engine started (relaxed counters, read any time). */
  hashCounts(): number[] {
    return this.native.hashCounts();
  }

  totalHashes(): number {
    return this.hashCounts().reduce((a, b) => a + b, 0);
  }

  /** Stops and joins every thread; safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.forgetOnExit();
    this.native.destroy();
  }
}
