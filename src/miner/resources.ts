// Caches and datasets per stage: built once, shared by the search and the host-side re-check,
// and the dataset decision for --mode auto (does it fit in memory, with a margin?).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { DatasetHandle, STAGE_LENGTH, stageBytes } from '../native/index.js';
import type { CacheHandle, HugePages } from '../native/index.js';
import { CacheRegistry, stillWanted } from './caches.js';
import type { Logger } from '../log/types.js';
import { formatBytes, percentDown, plural } from '../log/format.js';
import { AbortError, messageOf } from '../errors.js';

export type ModeSetting = 'auto' | 'light' | 'full';
/** Left free beside a dataset so the rest of the machine (and this process) can breathe. */
export const MEMORY_MARGIN_BYTES = 1.5 * 2 ** 30;
/** Start the next stage's dataset this many blocks before the stage changes (about 3 h on mainnet). */
export const PREBUILD_BLOCKS = 20_000;
/**
 * Caches held at once, built or building: the current stage's and one more (the previous stage,
 * for a node that still accepts its jobs, or the next). A node that changes stage on every job
 * cancels builds instead of stacking them.
 */
export const MAX_CACHES = 2;
/** Datasets held at once: the current stage's and the next, built ahead of a stage change. */
export const MAX_DATASETS = 2;

export interface ProgressSink {
  update(done: number): void;
  stop(): void;
}

export interface ResourceOptions {
  mode: ModeSetting;
  threads: number;
  hugePages: boolean;
  logger: Logger;
  /** Creates a progress display (bar or periodic lines) for a build. */
  progress: (label: string, totalBytes: number) => ProgressSink;
  /** Bytes the system can give us now; default MemAvailable from /proc/meminfo. */
  availableBytes?: () => number;
  /**
   * Tests only: the size of a stage's dataset (a few MiB built from the real cache), so full
   * mode's decisions run without 4 GiB. The miner always uses the real size.
   */
  datasetBytes?: (stage: number) => number;
  /** Called when a dataset becomes ready (the engine restarts the current job in full mode). */
  onDatasetReady?: (stage: number) => void;
}

/** What a job hashes with: its stage's cache, and the stage's dataset once built (full mode). */
export interface StageHandles {
  readonly cache: CacheHandle;
  readonly dataset: DatasetHandle | undefined;
}

export type DatasetStatus =
  | { state: 'idle' }
  | { state: 'building'; stage: number; progress: number }
  | { state: 'ready'; stage: number }
  | { state: 'unavailable'; reason: string };

export function availableMemoryBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return os.freemem();
}

export class StageResources {
  private readonly caches: CacheRegistry;
  private readonly datasets = new Map<number, DatasetHandle>();
  private building: { stage: number; abort: AbortController; done: Promise<void> } | undefined;
  private status: DatasetStatus = { state: 'idle' };
  private decisionLogged = false;
  private fragmentedWarned = false;
  private closed = false;
  /** The stage whose dataset is being built ahead of time (its cache first), if any. */
  private prebuild: number | undefined;
  /** Set when full mode was given up for this run (it kept hashing wrong after a rebuild): why. */
  private fullGivenUp: string | undefined;
  /** The stage of the last forJob(). */
  private jobStage: number | undefined;
  /** The last answer of forJob(), given again while its cache and dataset stay the same. */
  private handles: StageHandles | undefined;

  constructor(private readonly opts: ResourceOptions) {
    this.caches = new CacheRegistry({ max: MAX_CACHES, availableBytes: () => this.available(), logger: opts.logger });
  }

  get datasetStatus(): DatasetStatus {
    return this.status;
  }

  /**
   * The one question a job asks, with its height: builds for any other stage end now (latest job
   * wins; the next stage's dataset, built ahead of time, excepted; built caches stay, MAX_CACHES),
   * the dataset the stage wants starts building in the background (--mode auto or full), and the
   * answer is the stage's cache and dataset as they are now; or, while the cache builds, a promise
   * for it (rejected when it cannot fit, or with an AbortError when cancelled): ask again then.
   * Synchronous, and without an allocation per job when the cache is ready: it runs on every job
   * switch (bench: job_switch_loop_block_p99_ms).
   */
  forJob(height: number): StageHandles | Promise<CacheHandle> {
    const stage = Math.floor(height / STAGE_LENGTH);
    // Nothing starts a build for another stage while jobs stay in one: this is done on a change only.
    if (stage !== this.jobStage) {
      this.jobStage = stage;
      this.endBuildsNotWanted(stage);
    }
    const cache = this.caches.ready(stage);
    if (!cache) return this.caches.get(stage, height);
    this.startDatasetBuild(height, cache);
    const dataset = this.datasets.get(stage);
    const last = this.handles;
    if (last?.cache === cache && last.dataset === dataset) return last; // one object per change, not per job
    return (this.handles = { cache, dataset });
  }

  /** The built cache of a stage, if any (self-repair rebuilds a dataset from it). */
  cacheIfReady(stage: number): CacheHandle | undefined {
    return this.caches.ready(stage);
  }

  /** The cache for a stage (see CacheRegistry.get: shared, bounded, refused when it cannot fit). */
  cache(stage: number, height = stage * STAGE_LENGTH): Promise<CacheHandle> {
    return this.caches.get(stage, height);
  }

  private available(): number {
    return (this.opts.availableBytes ?? availableMemoryBytes)();
  }

  datasetIfReady(stage: number): DatasetHandle | undefined {
    return this.datasets.get(stage);
  }

  /** Jobs of `stage` from now on: every cache and dataset build for a stage not wanted with them ends. */
  private endBuildsNotWanted(stage: number): void {
    this.caches.endBuildsNotWanted(stage);
    const b = this.building;
    if (b && !stillWanted(b.stage, stage)) b.abort.abort();
    if (this.prebuild !== undefined && !stillWanted(this.prebuild, stage)) this.prebuild = undefined;
  }

  /**
   * For every job: decides whether full mode applies, and starts the dataset build for this
   * stage (or, near a stage change, the next one) in the background.
   */
  private startDatasetBuild(height: number, cache: CacheHandle): void {
    if (this.closed || this.opts.mode === 'light' || this.fullGivenUp !== undefined) return;
    const stage = cache.stage;
    if (!this.datasets.has(stage) && this.building?.stage !== stage) {
      this.startBuild(stage, cache, height);
      return;
    }
    const nextStage = stage + 1;
    const blocksLeft = nextStage * STAGE_LENGTH - height;
    if (blocksLeft <= PREBUILD_BLOCKS && this.prebuild !== nextStage && !this.datasets.has(nextStage) && !this.building &&
      this.fits(nextStage, 2)) {
      // Once: jobs keep coming while its cache builds (about a second, two jobs on a real node).
      this.prebuild = nextStage;
      this.opts.logger.info('dag', `stage ${nextStage} starts in ${plural(blocksLeft, 'block')}: building its dataset ahead of time`);
      void this.cache(nextStage).then((c) => {
        if (this.prebuild === nextStage && !this.closed && !this.building) this.startBuild(nextStage, c, nextStage * STAGE_LENGTH);
      }, () => {
        if (this.prebuild === nextStage) this.prebuild = undefined; // cancelled: a later job may try again
      });
    }
  }

  private fits(stage: number, count: number): boolean {
    return this.available() >= count * this.datasetBytes(stage) + MEMORY_MARGIN_BYTES;
  }

  private datasetBytes(stage: number): number {
    return this.opts.datasetBytes?.(stage) ?? stageBytes(stage).datasetBytes;
  }

  /**
   * The dataset of `stage` hashed wrong (self-repair.ts): forget it now (the search threads let go
   * of it at their next look, which frees it) and, with `rebuild`, build it again from the cache as
   * at start. False when there was none.
   */
  discardDataset(stage: number, rebuild?: { cache: CacheHandle; height: number }): boolean {
    const ds = this.datasets.get(stage);
    if (!ds) return false;
    this.datasets.delete(stage);
    const bytes = ds.bytes;
    ds.release();
    this.status = { state: 'idle' };
    // The discarded bytes count as free: MemAvailable may not show them yet (the threads still
    // hold the mapping for a moment).
    if (rebuild && !this.closed && this.fullGivenUp === undefined) this.startBuild(stage, rebuild.cache, rebuild.height, bytes);
    return true;
  }

  /** Full mode keeps hashing wrong: light mode for the rest of this run, every dataset freed. */
  giveUpFullMode(reason: string): void {
    this.fullGivenUp = reason;
    this.building?.abort.abort();
    this.prebuild = undefined;
    for (const ds of this.datasets.values()) ds.release();
    this.datasets.clear();
    this.status = { state: 'unavailable', reason };
  }

  private startBuild(stage: number, cache: CacheHandle, height: number, freedBytes = 0): void {
    const datasetBytes = this.datasetBytes(stage);
    const available = this.available();
    const held = [...this.datasets.values()].reduce((a, d) => a + d.bytes, freedBytes);
    if (available + held < datasetBytes + MEMORY_MARGIN_BYTES) {
      const reason = `the dataset for height ${height} (stage ${stage}) needs ${formatBytes(datasetBytes)} + ${formatBytes(MEMORY_MARGIN_BYTES)} margin, ` +
        `${formatBytes(available)} is available`;
      if (this.opts.mode === 'full') {
        this.opts.logger.error('dag', `cannot use full mode: ${reason}; mining in light mode`);
      } else if (!this.decisionLogged) {
        this.opts.logger.info('dag', `mode auto: light mode, because ${reason}`);
      }
      this.decisionLogged = true;
      this.status = { state: 'unavailable', reason };
      return;
    }
    if (this.building) this.building.abort.abort();
    if (!this.decisionLogged && this.opts.mode === 'auto') {
      this.opts.logger.info('dag', `mode auto: full mode, the ${formatBytes(datasetBytes)} dataset fits in ` +
        `${formatBytes(available)} available; mining in light mode while it builds`);
    }
    this.decisionLogged = true;
    const abort = new AbortController();
    const bar = this.opts.progress(`building dataset for stage ${stage}`, datasetBytes);
    this.status = { state: 'building', stage, progress: 0 };
    const started = performance.now();
    const done = DatasetHandle.build(cache, {
      bytes: datasetBytes, threads: this.opts.threads, hugePages: this.opts.hugePages, signal: abort.signal,
      onProgress: (d, total) => {
        bar.update((d / total) * datasetBytes);
        if (this.status.state === 'building') this.status = { state: 'building', stage, progress: d / total };
      },
    }).then((ds) => {
      bar.stop();
      if (this.closed || this.fullGivenUp !== undefined) return ds.release();
      this.datasets.set(stage, ds);
      // Keep this one and the one in use (when it is the stage just before): at most MAX_DATASETS.
      for (const [s, old] of this.datasets) {
        if (s === stage || (s === stage - 1 && this.datasets.size <= MAX_DATASETS)) continue;
        old.release();
        this.datasets.delete(s);
      }
      this.status = { state: 'ready', stage };
      const fraction = ds.hugePagesFraction();
      this.opts.logger.info('dag', `dataset for stage ${stage} ready in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `${formatBytes(ds.bytes)}, ${hugePagesText(ds.hugePages, fraction)}`);
      this.warnFragmented(ds.hugePages, fraction);
      this.opts.onDatasetReady?.(stage);
    }, (err: unknown) => {
      bar.stop();
      if (err instanceof AbortError) return; // a newer stage, self-repair or close() ended it
      this.status = { state: 'unavailable', reason: messageOf(err) };
      this.opts.logger.error('dag', `dataset build failed: ${messageOf(err)}; mining in light mode`);
    }).finally(() => {
      if (this.building?.done === done) this.building = undefined;
    });
    this.building = { stage, abort, done };
  }

  /**
   * Once per run: transparent huge pages that fell back to 4 KiB pages (fragmented memory) cost
   * full mode up to half its hashrate (TLB misses on every dataset read), and say nothing.
   */
  private warnFragmented(kind: HugePages, fraction: number): void {
    const warning = fragmentedWarning(kind, fraction);
    if (warning === undefined || this.fragmentedWarned) return;
    this.fragmentedWarned = true;
    this.opts.logger.warn('dag', warning);
  }

  /**
   * The measured huge-page share of the dataset in use (the current jobs' stage, else the last
   * one built), refreshed at most every HUGE_PAGES_REFRESH_MS; null without a dataset.
   */
  hugePagesFraction(now?: number): number | null {
    const ds = (this.jobStage !== undefined ? this.datasets.get(this.jobStage) : undefined) ??
      (this.status.state === 'ready' ? this.datasets.get(this.status.stage) : undefined);
    return ds ? ds.hugePagesFraction(undefined, now) : null;
  }

  /**
   * Cancels every build and frees every dataset. Never waits for a build: a cancelled one ends
   * within milliseconds on its own, and one that finishes anyway is released on arrival.
   */
  close(): Promise<void> {
    this.closed = true;
    this.handles = undefined;
    this.building?.abort.abort();
    this.caches.close();
    for (const ds of this.datasets.values()) ds.release();
    this.datasets.clear();
    return Promise.resolve();
  }
}

/** Below this share of huge pages the dataset-ready line is followed by a warning (THP only). */
export const HUGE_PAGES_WARN_BELOW = 0.95;

/** What the dataset-ready line says of its pages: "huge pages: transparent 98%". */
export function hugePagesText(kind: HugePages, fraction: number): string {
  if (kind === 'none') return fraction > 0 ? `no huge pages asked (${percentDown(fraction)} on huge pages anyway)` : 'no huge pages (4 KiB pages: slower)';
  return `huge pages: ${kind} ${percentDown(fraction)}`;
}

/** The warning for transparent huge pages that fell back to 4 KiB pages; undefined when none is due. */
export function fragmentedWarning(kind: HugePages, fraction: number): string | undefined {
  if (kind !== 'transparent' || fraction >= HUGE_PAGES_WARN_BELOW) return undefined;
  return `only ${percentDown(fraction)} of the dataset is on huge pages: memory is fragmented, so the kernel gave 4 KiB pages ` +
    'and full mode hashes slower. Reserve explicit huge pages (vm.nr_hugepages, see the README), or let the kernel ' +
    'compact memory before the build (echo defer+madvise > /sys/kernel/mm/transparent_hugepage/defrag; ' +
    'echo 1 > /proc/sys/vm/compact_memory), or reboot';
}
