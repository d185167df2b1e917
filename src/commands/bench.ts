// `cfx-miner bench`: the miner's hashes per second (keccak, light and full mode) measured in one
// run on this machine, in one JSON line. What only the benchmark measures (the independent
// references the ratios need, the job-switch latency, the hashes spent on replaced jobs) is
// bench code built apart from the product: `npm run bench` (bench/bench.ts) hands it in as
// BenchExtras, measured in the same run (machines are shared and noisy: ratios travel, absolute
// numbers don't). Without it the ratios are null.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheHandle, DatasetHandle, SearchEngine, cpuFeatures, sizesForHeight } from '../native/index.js';
import type { SearchJobSpec } from '../native/index.js';
import { formatBytes, formatHashrate, percentDown, plural } from '../log/format.js';
import type { Logger } from '../log/types.js';

export interface BenchOptions {
  mode: 'light' | 'full' | 'all';
  threads: number;
  /** Seconds per measurement. */
  seconds: number;
  /** The height whose cache (and dataset, in full mode) every figure uses; stage 0 by default: 4 GiB. */
  height: number;
  /**
   * Full mode again at each of these heights, after `height`'s, one dataset at a time; their
   * figures carry `_<name>` (full_hps_mainnet). None by default.
   */
  moreHeights?: readonly BenchHeight[];
  hugePages: boolean;
  logger: Logger;
  /** Build progress for the dataset. */
  progress?: (done: number, total: number) => void;
  extras?: BenchExtras;
}

export type BenchResult = Record<string, string | number | boolean | null>;

/** A height of --height and the name its keys carry: `mainnet`, or the number (`152000000`). */
export interface BenchHeight { height: number; name: string }

/**
 * The heights the networks mine at today, for `--height mainnet|testnet`: ESTIMATES as of 2026-12
 * (they grow every second, a new stage every 524,288 blocks: 16 MiB more dataset). Refresh them
 * from a node of that network: JSON-RPC `cfx_epochNumber` with "latest_mined" (the pivot chain's
 * height, which the node's jobs carry), or the height in the miner's `job` lines while it mines
 * there. What they give (sizesForHeight):
 * - mainnet 152,000,000: stage 289, cache 34.1 MiB, dataset 8.52 GiB (9,143,580,416 bytes)
 * - testnet 259,000,000: stage 494, cache 46.9 MiB, dataset 11.72 GiB (12,582,908,672 bytes)
 */
export const NAMED_HEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  mainnet: 152_000_000,
  testnet: 259_000_000,
});

/** What a bench job hashes: the algorithm and, for Octopus, the cache and dataset. */
export type BenchWork = Pick<SearchJobSpec, 'algo' | 'cache' | 'dataset' | 'datasetBytes'>;

/**
 * Independent figures the benchmark compares the miner with, measured in the same run. They live
 * outside the product (test/baseline/, bench/native/).
 */
export interface BenchReferences {
  /** Light hashes per second of the independent scalar baseline on one thread at `height`. */
  baselineLightHps(height: number, seconds: number): Promise<number>;
  /** A plain scalar keccak PoW loop's rate per thread with `threads` loops running at once. */
  keccakScalarHps(threads: number, seconds: number): number;
  /** Memory of `bytes` (pseudo-random, laid out as a dataset) for the page walk alone. */
  walkMemory(bytes: number, threads: number, hugePages: boolean): { walkHps(seconds: number): number; release(): void };
}

/**
 * What `npm run bench` adds to the miner's figures (bench/, passed in with the options): the
 * references, each measured alongside the search it is compared with, and measurements that need
 * the cache or the dataset this run builds. Each of those returns the keys it adds to the line.
 */
export interface BenchExtras {
  references: BenchReferences;
  /** After the light-mode figures, before any dataset exists (building and freeing one leaves the kernel work). */
  light(o: BenchOptions, octopus: BenchWork): Promise<BenchResult>;
  /** After the full-mode figures, while the dataset is held. */
  full(o: BenchOptions, octopus: BenchWork): Promise<BenchResult>;
}

/**
 * CPU time the hypervisor gave to others while this VM wanted it (/proc/stat "steal", all CPUs,
 * in ms; USER_HZ is 100 on Linux), or null where there is no such figure. On a shared host it
 * tells a reader whether a run's tail latencies and ratios come from an idle machine.
 */
export function stealMs(): number | null {
  try {
    const fields = /^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]?.trim().split(/\s+/);
    const steal = Number(fields?.[7]);
    return Number.isFinite(steal) ? steal * 10 : null;
  } catch {
    return null;
  }
}

/** Steal since `start` (a stealMs() reading), in ms. */
export const stealSince = (start: number | null): number | null => {
  const now = stealMs();
  return start === null || now === null ? null : now - start;
};

/** hash < 1 never happens: every hash is counted, none is a solution. */
export const IMPOSSIBLE = 1n;

/** A job of `work` with a fresh random header and start nonce. */
export function freshJob(work: BenchWork, boundary: bigint): SearchJobSpec {
  return { ...work, header: randomBytes(32), boundary, startNonce: randomBytes(8).readBigUInt64LE() };
}

export const round = (x: number | null, digits = 1) => (x === null ? null : Number(x.toFixed(digits)));

/** Hashes per second of the native search over `seconds`, after a short warm-up. */
async function searchRate(threads: number, seconds: number, work: BenchWork): Promise<number> {
  const engine = new SearchEngine(threads, () => {});
  try {
    engine.start(freshJob(work, IMPOSSIBLE));
    await sleep(Math.min(1000, seconds * 200));
    const h0 = engine.totalHashes();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const h1 = engine.totalHashes();
    return (h1 - h0) / ((performance.now() - t0) / 1000);
  } finally {
    engine.destroy();
  }
}

/** Every figure of one run; `o` is trusted (the command checks the user's values). */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.logger;
  const result: BenchResult = {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    threads: o.threads,
    keccak_impl: cpuFeatures().keccakImpl,
    poly_impl: cpuFeatures().polyImpl,
    seconds: o.seconds,
  };
  const steal0 = stealMs();
  const sizes = sizesForHeight(o.height);
  log.info('bench', `building the stage ${sizes.stage} cache`);
  const cache = await CacheHandle.build(sizes.stage);

  // The search and its scalar reference alternate in thirds, as full mode and its ceiling do.
  log.info('bench', `keccak test PoW and a plain scalar keccak loop per thread on ${plural(o.threads, 'thread')}, alternating`);
  const refs = o.extras?.references;
  let keccak = 0;
  let keccakScalar: number | null = refs ? 0 : null;
  for (let i = 0; i < 3; i++) {
    keccak += (await searchRate(o.threads, o.seconds / 3, { algo: 'keccak' })) / 3;
    if (refs && keccakScalar !== null) keccakScalar += refs.keccakScalarHps(o.threads, o.seconds / 3) / 3;
  }
  result.keccak_hps = Math.round(keccak);
  result.keccak_scalar_hps_per_thread = keccakScalar === null ? null : Math.round(keccakScalar);
  result.keccak_vs_scalar = keccakScalar ? round(keccak / o.threads / keccakScalar, 2) : null;

  if (refs) log.info('bench', 'the independent scalar light-mode baseline on 1 thread');
  const base = refs ? await refs.baselineLightHps(o.height, o.seconds) : null;
  result.light_baseline_hps_per_thread = round(base);
  const light: BenchWork = { algo: 'octopus', cache, datasetBytes: sizes.datasetBytes };
  log.info('bench', 'light mode on 1 thread');
  const one = await searchRate(1, o.seconds, light);
  result.light_hps_per_thread = round(one);
  log.info('bench', `light mode on ${plural(o.threads, 'thread')}`);
  result.light_hps = round(await searchRate(o.threads, o.seconds, light));
  result.light_vs_baseline = base ? round(one / base, 2) : null;
  if (o.extras) Object.assign(result, await o.extras.light(o, light));

  if (o.mode === 'full' || o.mode === 'all') {
    Object.assign(result, await fullAtHeight(o, o.height, cache, result));
    // One height at a time: fullAtHeight has released the last one's dataset and walk memory
    // (8.5 GiB each at mainnet's height) before the next is built. The light figures, and with
    // them full_vs_light and full_vs_baseline and the extras' figures, are of the first height.
    for (const more of o.moreHeights ?? []) {
      log.info('bench', `building the cache for height ${more.height} (${more.name})`);
      const figures = await fullAtHeight(o, more.height, await CacheHandle.build(sizesForHeight(more.height).stage));
      result[`height_${more.name}`] = more.height;
      for (const [key, value] of Object.entries(figures)) result[`${key}_${more.name}`] = value;
    }
  }

  result.steal_ms = stealSince(steal0);
  return result;
}

/**
 * The dataset of `height` built from `cache`, full mode over it and the extras' figures when
 * `before` (the light figures) is given; the dataset is released before this returns.
 */
async function fullAtHeight(o: BenchOptions, height: number, cache: CacheHandle, before?: BenchResult): Promise<BenchResult> {
  const result: BenchResult = {};
  const datasetBytes = sizesForHeight(height).datasetBytes;
  o.logger.info('bench', `building the ${(datasetBytes / 2 ** 30).toFixed(2)} GiB dataset for height ${height} on ${plural(o.threads, 'thread')}`);
  const t0 = performance.now();
  const dataset = await DatasetHandle.build(cache, {
    threads: o.threads, hugePages: o.hugePages, bytes: datasetBytes, onProgress: o.progress,
  });
  const buildSeconds = (performance.now() - t0) / 1000;
  result.dag_build_seconds = round(buildSeconds, 2);
  result.dag_build_bytes_per_s = Math.round(dataset.bytes / buildSeconds);
  result.dataset_bytes = dataset.bytes;
  result.huge_pages = dataset.hugePages !== 'none';
  result.huge_pages_kind = dataset.hugePages;
  result.huge_pages_fraction = round(dataset.hugePagesFraction(), 3);
  try {
    const full: BenchWork = { algo: 'octopus', cache, dataset };
    Object.assign(result, await fullFigures(o, full, datasetBytes, before));
    if (before && o.extras) Object.assign(result, await o.extras.full(o, full));
  } finally {
    dataset.release();
  }
  return result;
}

/**
 * Full mode and the memory ceiling alternate in slices of about a second, so that a change in the
 * machine's load (it is often shared, and its memory throughput moves by a third within seconds)
 * hits both sides of full_vs_memory_ceiling alike. The ratio is of the sums; the spread of the
 * slice pairs' ratios says how steady the machine was. The ratios to light mode need `before`.
 */
async function fullFigures(o: BenchOptions, full: BenchWork, datasetBytes: number, before?: BenchResult): Promise<BenchResult> {
  const refs = o.extras?.references;
  o.logger.info('bench', `full mode${refs ? ' and the page walk alone (memory ceiling)' : ''} on ${plural(o.threads, 'thread')}${refs ? ', alternating' : ''}`);
  // The ceiling walks its own memory of the dataset's size (filled once, freed after).
  const walk = refs?.walkMemory(datasetBytes, o.threads, o.hugePages);
  const slices = Math.max(3, Math.round(o.seconds));
  let hps = 0;
  let ceiling: number | null = walk ? 0 : null;
  const pairs: number[] = [];
  try {
    for (let i = 0; i < slices; i++) {
      const f = await searchRate(o.threads, o.seconds / slices, full);
      hps += f / slices;
      if (walk && ceiling !== null) {
        const c = walk.walkHps(o.seconds / slices);
        ceiling += c / slices;
        if (c > 0) pairs.push(f / c);
      }
    }
  } finally {
    walk?.release();
  }
  const light = typeof before?.light_hps === 'number' ? before.light_hps : null;
  const base = typeof before?.light_baseline_hps_per_thread === 'number' ? before.light_baseline_hps_per_thread : null;
  return {
    full_hps: Math.round(hps),
    full_hps_per_thread: Math.round(hps / o.threads),
    ...(before && {
      full_vs_light: light ? round(hps / light, 1) : null,
      full_vs_baseline: base ? round(hps / (base * o.threads), 1) : null,
    }),
    memory_ceiling_hps: ceiling === null ? null : Math.round(ceiling),
    full_vs_memory_ceiling: ceiling ? round(hps / ceiling, 3) : null,
    full_vs_memory_ceiling_min: pairs.length ? round(Math.min(...pairs), 3) : null,
    full_vs_memory_ceiling_max: pairs.length ? round(Math.max(...pairs), 3) : null,
  };
}

export function formatBenchForHumans(r: BenchResult): string {
  const rows: [string, string][] = [];
  const n = (k: string) => formatHashrate(typeof r[k] === 'number' ? r[k] as number : null);
  rows.push(['cpu', `${r.cpu} (${plural(Number(r.cores), 'core')}), ${plural(Number(r.threads), 'thread')}, keccak ${r.keccak_impl}`]);
  rows.push(['keccak test PoW', n('keccak_hps')]);
  rows.push(['plain scalar keccak loop, per thread', n('keccak_scalar_hps_per_thread')]);
  rows.push(['keccak per thread / scalar', r.keccak_vs_scalar === null ? 'n/a' : `${r.keccak_vs_scalar}x`]);
  if ('light_hps' in r) {
    rows.push(['light mode, all threads', n('light_hps')]);
    rows.push(['light mode, 1 thread', n('light_hps_per_thread')]);
    rows.push(['scalar baseline, 1 thread', n('light_baseline_hps_per_thread')]);
    rows.push(['light / baseline', r.light_vs_baseline === null ? 'n/a' : `${r.light_vs_baseline}x`]);
  }
  if ('full_hps' in r) rows.push(...fullRows(r, ''));
  // The further heights of --height, each marked by its height_<name> key.
  for (const key of Object.keys(r)) {
    if (key.startsWith('height_')) rows.push(...fullRows(r, key.slice('height_'.length)));
  }
  // The figures bench/ adds (npm run bench).
  if ('job_switch_full_p99_ms' in r) {
    rows.push(['job switch, full mode, p50 / p99', `${r.job_switch_full_p50_ms} / ${r.job_switch_full_p99_ms} ms`]);
    rows.push(['hashes on replaced jobs (full, 50 ms jobs)', String(r.replaced_hash_fraction ?? 'n/a')]);
  }
  if ('job_switch_p99_ms' in r) {
    rows.push(['job switch p50 / p99', `${r.job_switch_p50_ms} / ${r.job_switch_p99_ms} ms (${r.job_switches} switches)`]);
    rows.push(['event loop held per switch, p99', `${r.job_switch_loop_block_p99_ms} ms`]);
  }
  if (typeof r.steal_ms === 'number') rows.push(['CPU taken by the host (steal)', `${r.steal_ms} ms over the run`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

/** The full-mode rows of one height: the first (`name` ''), or a further one (its keys end in `_<name>`). */
/** ` 98%`: the huge-page share; '' where the result has none. */
function share(fraction: unknown): string {
  return typeof fraction === 'number' ? ` ${percentDown(fraction)}` : '';
}

function fullRows(r: BenchResult, name: string): [string, string][] {
  const v = (key: string) => r[name ? `${key}_${name}` : key];
  const hps = (key: string) => formatHashrate(typeof v(key) === 'number' ? v(key) as number : null);
  const at = name ? `, ${name} (height ${r[`height_${name}`]})` : '';
  const rows: [string, string][] = [];
  rows.push([`dataset build${at}`, `${v('dag_build_seconds')} s for ${formatBytes(v('dataset_bytes') as number)} ` +
    `(${formatBytes(v('dag_build_bytes_per_s') as number)}/s), huge pages: ${v('huge_pages_kind')}${share(v('huge_pages_fraction'))}`]);
  rows.push([`full mode, all threads${at}`, hps('full_hps')]);
  if (!name) {
    rows.push(['full / light', `${r.full_vs_light}x`]);
    rows.push(['full / baseline (same threads)', `${r.full_vs_baseline}x`]);
  }
  rows.push([`page walk alone (memory ceiling)${at}`, hps('memory_ceiling_hps')]);
  rows.push([`full / memory ceiling${at}`, v('full_vs_memory_ceiling_min') == null ? String(v('full_vs_memory_ceiling') ?? 'n/a')
    : `${v('full_vs_memory_ceiling')} (slices ${v('full_vs_memory_ceiling_min')} to ${v('full_vs_memory_ceiling_max')})`]);
  return rows;
}
