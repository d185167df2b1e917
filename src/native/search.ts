// The nonce search on native threads, typed; the binding checks every argument.
import { u256ToBe } from '../hex.js';
import type { SearchBinding } from './contract.js';
import type { CacheHandle, DatasetHandle } from './handles.js';
import { stageBytes } from './handles.js';
import { destroyOnExit, loadAddon } from './loader.js';
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

/**
 * Native search threads. `onSolutions` runs on the main thread with the solutions of the current
 * generation only: the native engine drops (and counts) those of a replaced job before JS sees
 * them, and holds at most a few dozen (the rest are counted as dropped because the queue was full).
 */
export class SearchEngine {
  private readonly native: SearchBinding;
  private destroyed = false;
  private readonly forgetOnExit: () => void;
  private boundaryBe: { value: bigint; be: Buffer } | undefined;

  constructor(readonly threads: number, onSolutions: (found: FoundNonce[]) => void, onShares?: (shares: FoundShare[]) => void) {
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

  /** Shares from now on are hashes below 2^256 / 2^bits (0 to limits().maxShareBits); applies within a block. */
  setShareBits(bits: number): void {
    if (!this.destroyed) this.native.setShareBits(bits);
  }

  /**
   * When every thread had taken `generation` (0: had gone idle after pause()), on the clock of
   * performance.now(), or undefined while one has not (or never will: a newer job came first).
   * Never waits: the switch latency of a job, read after the fact, without the reader's own
   * wake-up in it.
   */
  switchedAt(generation: number): number | undefined {
    if (this.destroyed || !Number.isSafeInteger(generation) || generation < 0) return undefined;
    const ns = this.native.switchedAt(generation);
    return ns < 0 ? undefined : ns / 1e6 - hrtimeOriginMs();
  }

  /** Publishes the job and returns its generation at once; threads switch within a batch. */
  start(job: SearchJobSpec): number {
    if (this.destroyed) throw new Error('search engine destroyed');
    let datasetBytes = job.datasetBytes;
    if (job.algo === 'octopus') {
      if (job.dataset) datasetBytes = job.dataset.bytes;
      if (job.cache) datasetBytes ??= stageBytes(job.cache.stage).datasetBytes;
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
