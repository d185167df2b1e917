// Stage sizes, and the cache and dataset as handles: built on native threads, cancellable,
// shared by the search and the host-side re-check.
import { parseHeight } from '../hex.js';
import { checkDatasetBytes, loadAddon } from './addon.js';
import { MAX_HEIGHT, STAGE_LENGTH } from './params.js';
import type { HugePages } from './params.js';

export interface StageSizes { stage: number; seed: Buffer; cacheBytes: number; datasetBytes: number }

export function sizesForHeight(height: number): StageSizes {
  return loadAddon().sizes(parseHeight(height)) as StageSizes;
}

let lastStageBytes: { stage: number; bytes: Readonly<{ cacheBytes: number; datasetBytes: number }> } | undefined;

/**
 * The cache and dataset sizes of a stage, without the seed (which costs a keccak per stage). The
 * last answer is kept: every job asks, and the prime search behind it costs ~10 us each time.
 */
export function stageBytes(stage: number): Readonly<{ cacheBytes: number; datasetBytes: number }> {
  if (lastStageBytes?.stage === stage) return lastStageBytes.bytes;
  const { cacheBytes, datasetBytes } = loadAddon().sizes(parseHeight(stage * STAGE_LENGTH), false);
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

function abortError(err: unknown): unknown {
  if (err instanceof Error && err.message === 'cancelled') {
    const e = new Error('build cancelled');
    e.name = 'AbortError';
    return e;
  }
  return err;
}

export class CacheHandle {
  private constructor(readonly handle: object, readonly stage: number, readonly bytes: number, readonly nodes: number) {}

  /** Builds the cache for a stage on a native thread (a few hundred ms at stage 0). */
  static async build(stage: number, opts: BuildOptions = {}): Promise<CacheHandle> {
    if (!Number.isInteger(stage) || stage < 0 || stage > Math.floor(MAX_HEIGHT / STAGE_LENGTH)) {
      throw new RangeError(`stage must be a whole number from 0 to ${Math.floor(MAX_HEIGHT / STAGE_LENGTH)}`);
    }
    const a = loadAddon();
    try {
      const h = await a.buildCache(stage, opts.onProgress, cancelToken(opts.signal));
      const info = a.cacheInfo(h);
      return new CacheHandle(h, info.stage, info.bytes, info.nodes);
    } catch (err) {
      throw abortError(err);
    }
  }

  static forHeight(height: number, opts: BuildOptions = {}): Promise<CacheHandle> {
    return CacheHandle.build(stageOf(height), opts);
  }

  node(index: number): Buffer {
    return loadAddon().cacheNode(this.handle, index);
  }

  dagItem(index: number): Buffer {
    return loadAddon().dagItem(this.handle, index);
  }
}

export class DatasetHandle {
  private released = false;
  private constructor(readonly handle: object, readonly stage: number, readonly bytes: number, readonly hugePages: HugePages) {}

  /**
   * Builds a dataset from `cache` on `threads` native threads. `bytes` defaults to the real size
   * for the cache's stage; tests pass a small size (a multiple of 256).
   */
  static async build(cache: CacheHandle, opts: BuildOptions & { bytes?: number; threads?: number; hugePages?: boolean } = {}): Promise<DatasetHandle> {
    const a = loadAddon();
    const bytes = opts.bytes ?? a.sizes(cache.stage * STAGE_LENGTH).datasetBytes;
    checkDatasetBytes(bytes);
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new RangeError('threads must be 1 to 1024');
    try {
      const h = await a.buildDataset(cache.handle, bytes, threads, opts.hugePages ?? true, opts.onProgress, cancelToken(opts.signal));
      const info = a.datasetInfo(h);
      return new DatasetHandle(h, info.stage, info.bytes, info.hugePages);
    } catch (err) {
      throw abortError(err);
    }
  }

  /**
   * A dataset whose memory is reserved but not filled: only the items written through
   * `fill` hold data. Tests use it to run full mode at a real size without building 4 GiB.
   */
  static allocate(stage: number, bytes: number): DatasetHandle {
    checkDatasetBytes(bytes);
    const a = loadAddon();
    const h = a.allocDataset(bytes, stage);
    const info = a.datasetInfo(h);
    return new DatasetHandle(h, info.stage, info.bytes, info.hugePages);
  }

  fill(cache: CacheHandle, firstItem: number, count: number): void {
    loadAddon().fillDatasetItems(this.handle, cache.handle, firstItem, count);
  }

  /** Frees the memory now rather than at garbage collection; engines holding it keep it alive. */
  release(): void {
    if (this.released) return;
    this.released = true;
    loadAddon().releaseDataset(this.handle);
  }
}
