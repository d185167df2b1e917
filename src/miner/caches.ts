// Caches per stage, one registry for the miner (StageResources) and the verifier (the test node,
// `cfx-miner verify`): one build per stage shared by every caller, at most `max` held or
// building (least recently used first out, a build in progress cancelled), and a cache that
// would not fit in available memory refused before a byte is allocated.
import { CacheHandle, STAGE_LENGTH, stageBytes } from '../native/index.js';
import { AbortError } from '../errors.js';
import { formatBytes } from '../log/format.js';
import type { Logger } from '../log/types.js';

/** Left free beside a cache: a cache is tens of MiB, so a cache that leaves less than this is absurd. */
export const CACHE_MARGIN_BYTES = 256 * 2 ** 20;

/**
 * Whether a build for `stage` is still wanted while the jobs are of stage `current`: its own
 * stage, or the next one (a dataset built ahead of the stage change, and the cache it needs; it
 * takes longer than the node's 0.5 s between jobs, so ending it at every job would restart it
 * forever). The one rule for CacheRegistry's and StageResources' endBuildsNotWanted.
 */
export function stillWanted(stage: number, current: number): boolean {
  return stage === current || stage === current + 1;
}

export interface CacheRegistryOptions {
  /** Caches held or building at once. */
  max: number;
  /** Bytes the system can give us now; omitted: no memory check (the build fails if it must). */
  availableBytes?: () => number;
  /** Build lines ("building cache ...", "... ready in ...") go here when set. */
  logger?: Logger;
}

interface Entry {
  promise: Promise<CacheHandle>;
  abort: AbortController;
  ready?: CacheHandle;
}

export class CacheRegistry {
  /** In order of last use, oldest first; at most opts.max. */
  private readonly entries = new Map<number, Entry>();
  private closed = false;
  /** The last key touch() moved to the end of `entries`. */
  private newest: number | undefined;

  constructor(private readonly opts: CacheRegistryOptions) {
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new RangeError('max must be at least 1');
  }

  ready(stage: number): CacheHandle | undefined {
    const e = this.entries.get(stage);
    if (e?.ready) this.touch(stage, e);
    return e?.ready;
  }

  /**
   * The cache for a stage. Rejects (allocating nothing) when it would not fit in available
   * memory, naming `height` in the message; rejects with an AbortError when the build is
   * cancelled (endBuildsNotWanted(), eviction, close()).
   */
  get(stage: number, height = stage * STAGE_LENGTH): Promise<CacheHandle> {
    const existing = this.entries.get(stage);
    if (existing) {
      this.touch(stage, existing);
      return existing.promise;
    }
    if (this.closed) return Promise.reject(abortError());
    const { cacheBytes } = stageBytes(stage);
    const available = this.opts.availableBytes?.();
    if (available !== undefined && cacheBytes + CACHE_MARGIN_BYTES > available) {
      return Promise.reject(new Error(`refusing the job at height ${height}: its stage ${stage} needs a ` +
        `${formatBytes(cacheBytes)} cache (+ ${formatBytes(CACHE_MARGIN_BYTES)} margin) and ${formatBytes(available)} is available`));
    }
    for (const [old, e] of this.entries) {
      if (this.entries.size < this.opts.max) break;
      this.drop(old, e);
    }
    const started = performance.now();
    this.opts.logger?.info('dag', `building cache for stage ${stage} (${formatBytes(cacheBytes)})`);
    const abort = new AbortController();
    const entry: Entry = { abort, promise: CacheHandle.build(stage, { signal: abort.signal }) };
    entry.promise = entry.promise.then((cache) => {
      if (this.entries.get(stage) === entry) entry.ready = cache;
      this.opts.logger?.info('dag', `cache for stage ${stage} ready in ${((performance.now() - started) / 1000).toFixed(2)} s`);
      return cache;
    });
    entry.promise.catch(() => { if (this.entries.get(stage) === entry) this.entries.delete(stage); });
    this.entries.set(stage, entry);
    this.newest = stage;
    return entry.promise;
  }

  /** Cancels every build no longer wanted with jobs of `stage` (stillWanted). Built caches stay (up to max). */
  endBuildsNotWanted(stage: number): void {
    for (const [s, e] of this.entries) if (!stillWanted(s, stage) && !e.ready) this.drop(s, e);
  }

  /** Cancels every build and forgets every cache (each is freed with its last user). */
  close(): void {
    this.closed = true;
    for (const [s, e] of this.entries) this.drop(s, e);
  }

  private touch(stage: number, e: Entry): void {
    if (this.newest === stage && this.entries.get(stage) === e) return; // every job asks for the same one
    this.entries.delete(stage);
    this.entries.set(stage, e);
    this.newest = stage;
  }

  private drop(stage: number, e: Entry): void {
    this.entries.delete(stage);
    e.abort.abort(); // a no-op once built
  }
}

function abortError(): Error {
  return new AbortError('closed');
}
