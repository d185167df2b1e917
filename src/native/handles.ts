// Stage sizes, and the cache and dataset as handles: built on native threads, cancellable,
// shared by the search and the host-side re-check. The binding checks every argument.
import { AbortError } from '../errors.js';
import { parseHeight } from './limits.js';
import { loadAddon } from './loader.js';
import { STAGE_LENGTH } from './params.js';
import type { HugePages } from './params.js';

export interface StageSizes { stage: number; seed: Buffer; cacheBytes: number; datasetBytes: number }

export function sizesForHeight(height: number): StageSizes {
  return loadAddon().sizes(height) as StageSizes;
}

let lastStageBytes: { stage: number; bytes: Readonly<{ cacheBytes: number; datasetBytes: number }> } | undefined;

/**
 * The cache and dataset sizes of a stage, without the seed (which costs a keccak per stage). The
 * last answer is kept: every job asks, and the prime search behind it costs ~10 us each time.
 */
export function stageBytes(stage: number): Readonly<{ cacheBytes: number; datasetBytes: number }> {
  if (lastStageBytes?.stage === stage) return lastStageBytes.bytes;
  const { cacheBytes, datasetBytes } = loadAddon().sizes(stage * STAGE_LENGTH, false);
  lastStageBytes = { stage, bytes: Object.freeze({ cacheBytes, datasetBytes }) };
  return lastStageBytes.bytes;
}

export function stageOf(height: number): number {
  return Math.floor(parseHeight(height) / STAGE_LENGTH);
}

export interface BuildOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

function cancelToken(signal: AbortSignal | undefined): object {
  const a = loadAddon();
  const token = a.newCancelToken();
  if (signal) {
    if (signal.aborted) a.cancel(token);
    else signal.addEventListener('abort', () => a.cancel(token), { once: true });
  }
  return token;
}

/** A build's handle, or the AbortError of a cancelled one (the binding resolves those to undefined). */
function built(handle: object | undefined): object {
  if (handle === undefined) throw new AbortError('build cancelled');
  return handle;
}

export class CacheHandle {
  private constructor(readonly handle: object, readonly stage: number, readonly bytes: number, readonly nodes: number) {}

  /** Builds the cache for a stage on a native thread (a few hundred ms at stage 0). */
  static async build(stage: number, opts: BuildOptions = {}): Promise<CacheHandle> {
    const a = loadAddon();
    const h = built(await a.buildCache(stage, opts.onProgress, cancelToken(opts.signal)));
    const info = a.cacheInfo(h);
    return new CacheHandle(h, info.stage, info.bytes, info.nodes);
  }

  static forHeight(height: number, opts: BuildOptions = {}): Promise<CacheHandle> {
    return CacheHandle.build(stageOf(height), opts);
  }
}

/**
 * How long a measured huge-page share stays good: khugepaged may collapse pages later (or
 * compaction split them), so it is read again after this, but not on every /summary scrape.
 */
export const HUGE_PAGES_REFRESH_MS = 60_000;

export class DatasetHandle {
  private released = false;
  private constructor(readonly handle: object, readonly stage: number, readonly bytes: number, readonly hugePages: HugePages,
    private fraction: number, private fractionAt: number) {}

  /**
   * Builds a dataset from `cache` on `threads` native threads. `bytes` defaults to the real size
   * for the cache's stage; tests pass a small size (a multiple of 256).
   */
  static async build(cache: CacheHandle, opts: BuildOptions & { bytes?: number; threads?: number; hugePages?: boolean } = {}): Promise<DatasetHandle> {
    const a = loadAddon();
    const h = built(await a.buildDataset(cache.handle, {
      bytes: opts.bytes ?? stageBytes(cache.stage).datasetBytes, threads: opts.threads ?? 1,
      hugePages: opts.hugePages ?? true, onProgress: opts.onProgress, cancel: cancelToken(opts.signal),
    }));
    return DatasetHandle.fromNative(h);
  }

  /** The handle of a dataset the binding made (a build here, or a test's own addon). */
  static fromNative(handle: object): DatasetHandle {
    const info = loadAddon().datasetInfo(handle);
    return new DatasetHandle(handle, info.stage, info.bytes, info.hugePages, info.hugePagesFraction, performance.now());
  }

  /**
   * The share of the dataset the kernel really backs with huge pages, 0..1 (1 for explicit pages;
   * transparent ones can fall back to 4 KiB pages under fragmentation). Measured when the handle
   * is made (after the build) and again when asked once `maxAgeMs` has passed; a released
   * dataset keeps its last figure.
   */
  hugePagesFraction(maxAgeMs = HUGE_PAGES_REFRESH_MS, now = performance.now()): number {
    if (!this.released && now - this.fractionAt >= maxAgeMs) {
      this.fraction = loadAddon().datasetInfo(this.handle).hugePagesFraction;
      this.fractionAt = now;
    }
    return this.fraction;
  }

  /** Frees the memory now rather than at garbage collection; engines holding it keep it alive. */
  release(): void {
    if (this.released) return;
    this.released = true;
    loadAddon().releaseDataset(this.handle);
  }
}
