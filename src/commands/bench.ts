// The benchmark: every figure measured in one run on this machine, with independent references
// measured in the same run where they are given (machines are shared and noisy: ratios travel,
// absolute numbers don't). The references are test and bench code built apart from the product
// (`npm run bench` provides them, see bench/references.ts); `cfx-miner bench` alone measures the
// miner's own figures and leaves the ratios null.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  CacheHandle, DatasetHandle, SearchEngine, cpuFeatures, sizesForHeight,
} from '../native/index.js';
import type { Algo, SearchJobSpec } from '../native/index.js';
import { formatHashrate, plural } from '../log/format.js';
import type { Logger } from '../log/types.js';
import { silentLogger } from '../log/types.js';
import { StratumClient } from '../stratum/client.js';
import { MiningEngine } from '../miner/engine.js';
import { StageResources } from '../miner/resources.js';
import { UsageError } from '../errors.js';

export interface BenchOptions {
  mode: 'light' | 'full' | 'all';
  threads: number;
  /** Seconds per measurement. */
  seconds: number;
  /** Dataset height for full mode (stage 0 by default: 4 GiB). */
  height: number;
  hugePages: boolean;
  logger: Logger;
  /** Build progress for the dataset. */
  progress?: (done: number, total: number) => void;
}

export type BenchResult = Record<string, string | number | boolean | null>;

/**
 * CPU time the hypervisor gave to others while this VM wanted it (/proc/stat "steal", all CPUs,
 * in ms; USER_HZ is 100 on Linux), or null where there is no such figure. On a shared host it
 * tells a reader whether a run's tail latencies and ratios come from an idle machine.
 */
function stealMs(): number | null {
  try {
    const fields = /^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]?.trim().split(/\s+/);
    const steal = Number(fields?.[7]);
    return Number.isFinite(steal) ? steal * 10 : null;
  } catch {
    return null;
  }
}

/** Steal since `start` (a stealMs() reading), in ms. */
const stealSince = (start: number | null): number | null => {
  const now = stealMs();
  return start === null || now === null ? null : now - start;
};

const IMPOSSIBLE = 1n; // hash < 1 never happens: every hash is counted, none is a solution

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What a bench job hashes: the algorithm and, for Octopus, the cache and dataset. */
type BenchWork = Pick<SearchJobSpec, 'algo' | 'cache' | 'dataset' | 'datasetBytes'>;

/** A job of `work` with a fresh random header and start nonce. */
function freshJob(work: BenchWork, boundary: bigint): SearchJobSpec {
  return { ...work, header: randomBytes(32), boundary, startNonce: randomBytes(8).readBigUInt64LE() };
}

/**
 * Switch latencies read after the fact: record() a job when it is handed over, settle() when the
 * next one comes (or at the end). A job's latency runs from its hand-over to the moment the last
 * thread took it, as the native engine noted it; a job some thread never took counts as the
 * whole time it was current (a lower bound of its real latency). Nothing waits on the threads.
 */
function switchLatencies(switchedAt: (generation: number) => number | undefined) {
  const times: number[] = [];
  let last: { generation: number; at: number } | undefined;
  return {
    times,
    record(generation: number, at: number): void { last = { generation, at }; },
    settle(now: number): void {
      if (!last) return;
      times.push((switchedAt(last.generation) ?? now) - last.at);
      last = undefined;
    },
  };
}

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

/**
 * Independent figures the benchmark compares the miner with, measured in the same run. They live
 * outside the product (test/baseline/, bench/native/) and are handed in by `npm run bench`.
 */
export interface BenchReferences {
  /** Light hashes per second of the independent scalar baseline on one thread at `height`. */
  baselineLightHps(height: number, seconds: number): Promise<number>;
  /** A plain scalar keccak PoW loop's rate per thread with `threads` loops running at once. */
  keccakScalarHps(threads: number, seconds: number): number;
  /** Memory of `bytes` (pseudo-random, laid out as a dataset) for the page walk alone. */
  walkMemory(bytes: number, threads: number, hugePages: boolean): { walkHps(seconds: number): number; release(): void };
}

let references: BenchReferences | undefined;

/** Gives the bench command its references (bench/bench.ts calls this before the CLI runs). */
export function provideBenchReferences(r: BenchReferences): void {
  references = r;
}

/**
 * The share of hashes spent on replaced jobs when a new job comes every `periodMs`: the search
 * runs an easy boundary (a solution every `difficulty` hashes on average), and every hash of the
 * current job is a solution with probability 1/difficulty, so 1 - (solutions delivered for the
 * job current at delivery) / (all hashes / difficulty) is the share that went elsewhere. It looks
 * only at what the engine delivers, not at how it switches. Slight overestimate: a solution found
 * just before a switch but delivered after it counts as replaced (delivery takes well under a
 * millisecond on an idle event loop).
 */
async function replacedHashFraction(threads: number, seconds: number, periodMs: number, difficulty: bigint,
  work: BenchWork): Promise<number> {
  let current = 0;
  const engine = new SearchEngine(threads, (found) => { current += found.length; });
  const boundary = (1n << 256n) / difficulty;
  const next = () => engine.start(freshJob(work, boundary));
  try {
    next();
    await sleep(300); // warm-up: first touches, thread wake-up
    current = 0;
    const h0 = engine.totalHashes();
    const timer = setInterval(next, periodMs);
    await sleep(seconds * 1000);
    clearInterval(timer);
    engine.pause();
    await sleep(50); // solutions queued before the pause reach JS (and count as replaced)
    const hashes = engine.totalHashes() - h0;
    return hashes > 0 ? Math.max(0, 1 - current / (hashes / Number(difficulty))) : 0;
  } finally {
    engine.destroy();
  }
}

/**
 * Switch latency of the native engine alone: a new job every `periodMs` straight into
 * SearchEngine.start (no stratum, no MiningEngine: those are what jobSwitchTimes measures, and
 * they do not depend on the mode), read as jobSwitchTimes reads it. For full mode, whose
 * StageResources would build a dataset of its own.
 */
async function engineSwitchTimes(threads: number, seconds: number, periodMs: number, work: BenchWork): Promise<number[]> {
  const engine = new SearchEngine(threads, () => {});
  const switches = switchLatencies((g) => engine.switchedAt(g));
  const next = () => {
    switches.settle(performance.now());
    const startedAt = performance.now();
    switches.record(engine.start(freshJob(work, IMPOSSIBLE)), startedAt);
  };
  try {
    next();
    const timer = setInterval(next, periodMs);
    await sleep(seconds * 1000);
    clearInterval(timer);
    await sleep(periodMs);
    switches.settle(performance.now());
    return switches.times.slice(2); // the first switches include warm-up (page faults, thread wake-up)
  } finally {
    engine.destroy();
  }
}

/**
 * The loopback node of jobSwitchTimes, on a worker thread: a node is another process, and its
 * allocations and timers in the miner's own isolate would add collections and wake-ups to the
 * event loop being measured. It answers the subscribe, then pushes a fresh job every `periodMs`.
 */
const NOTIFY_PUSHER = `
const net = require('node:net');
const { randomBytes } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const sockets = new Set();
let id = 17;
const server = net.createServer((sock) => {
  sockets.add(sock);
  sock.on('error', () => {});
  sock.on('close', () => sockets.delete(sock));
  sock.setEncoding('utf8').on('data', (d) => {
    for (const line of d.split('\\n').filter(Boolean)) {
      const msg = JSON.parse(line);
      if (msg.method === 'mining.subscribe') sock.write(JSON.stringify({ jsonrpc: '2.0', result: true, id: msg.id }) + '\\n');
    }
  });
});
let timer;
parentPort.on('message', (m) => {
  if (m === 'push') {
    timer = setInterval(() => {
      const pow = '0x' + randomBytes(32).toString('hex');
      const line = '{ "id": ' + id++ + ', "method": "mining.notify", "params": ["' + pow + '", "0", "' + pow + '", "0x1"] }\\n';
      for (const s of sockets) s.write(line);
    }, workerData.periodMs);
  } else {
    clearInterval(timer);
    for (const s of sockets) s.destroy();
    server.close(() => parentPort.close());
  }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

/**
 * Notify arrival -> every thread on the new job, through the real client and engine: a loopback
 * node (NOTIFY_PUSHER) pushes a job every 25 ms. Per job: how long onJob holds the event loop
 * (the switch itself never waits for the threads), and the time from the parsed notify until
 * the last thread took the new job.
 */
async function jobSwitchTimes(algo: Algo, threads: number, seconds: number): Promise<{ switchMs: number[]; loopBlockMs: number[] }> {
  const node = new Worker(NOTIFY_PUSHER, { eval: true, workerData: { periodMs: 25 } });
  const port = await new Promise<number>((resolve, reject) => {
    node.once('message', resolve);
    node.once('error', reject);
  });
  const logger = silentLogger;
  const client = new StratumClient({ hosts: [{ host: '127.0.0.1', port }], worker: 'bench', password: '', logger });
  const resources = new StageResources({
    mode: 'light', threads, hugePages: false, logger, progress: () => ({ update() {}, stop() {} }),
  });
  const engine = new MiningEngine({ algo, threads, logger, pool: client, resources });
  if (algo === 'octopus') await resources.cache(0);
  // How long one switch holds the event loop: onJob, which hands the job to the search and
  // returns (the cache is built here beforehand, so no job waits for one).
  const loopBlockMs: number[] = [];
  // Each switch is read when the next job comes (25 ms later): the reader's own wake-up is not
  // in the figure.
  const switches = switchLatencies((g) => engine.switchedAt(g));
  client.on('job', (job) => {
    switches.settle(performance.now());
    const t0 = performance.now();
    engine.onJob(job);
    loopBlockMs.push(performance.now() - t0);
    if (engine.generation > 0) switches.record(engine.generation, job.receivedAt);
  });
  client.start();
  await new Promise<void>((r) => client.once('subscribed', () => r()));
  node.postMessage('push');
  await sleep(seconds * 1000);
  node.postMessage('stop');
  await new Promise((r) => node.once('exit', r));
  await sleep(30);
  switches.settle(performance.now());
  const times = [...switches.times];
  await engine.stop(0);
  await client.close();
  await resources.close();
  // The first switches include warm-up (page faults, thread wake-up).
  return { switchMs: times.slice(2), loopBlockMs: loopBlockMs.slice(2) };
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number | null, digits = 1) => (x === null ? null : Number(x.toFixed(digits)));

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  if (!(o.seconds > 0 && o.seconds <= 3600)) throw new UsageError('--seconds must be more than 0 and at most 3600');
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
  const refs = references;
  let keccak = 0;
  let keccakScalar: number | null = refs ? 0 : null;
  for (let i = 0; i < 3; i++) {
    keccak += (await searchRate(o.threads, o.seconds / 3, { algo: 'keccak' })) / 3;
    if (refs && keccakScalar !== null) keccakScalar += refs.keccakScalarHps(o.threads, o.seconds / 3) / 3;
  }
  result.keccak_hps = Math.round(keccak);
  result.keccak_scalar_hps_per_thread = keccakScalar === null ? null : Math.round(keccakScalar);
  result.keccak_vs_scalar = keccakScalar ? round(keccak / o.threads / keccakScalar, 2) : null;

  if (o.mode === 'light' || o.mode === 'all' || o.mode === 'full') {
    if (refs) log.info('bench', 'the independent scalar light-mode baseline on 1 thread');
    const base = refs ? await refs.baselineLightHps(o.height, o.seconds) : null;
    result.light_baseline_hps_per_thread = round(base);
    log.info('bench', 'light mode on 1 thread');
    const one = await searchRate(1, o.seconds, { algo: 'octopus', cache, datasetBytes: sizes.datasetBytes });
    result.light_hps_per_thread = round(one);
    log.info('bench', `light mode on ${plural(o.threads, 'thread')}`);
    result.light_hps = round(await searchRate(o.threads, o.seconds, { algo: 'octopus', cache, datasetBytes: sizes.datasetBytes }));
    result.light_vs_baseline = base ? round(one / base, 2) : null;
  }

  // Before the dataset: building and freeing 4 GiB leaves the kernel work (freeing, compaction)
  // that these light-mode figures should not inherit.
  log.info('bench', 'job switch latency (notify parsed -> all threads on the new job), octopus light');
  const switchSteal0 = stealMs();
  const switchSeconds = Math.max(2, Math.min(o.seconds, 10));
  const switches = await jobSwitchTimes('octopus', o.threads, switchSeconds);
  result.job_switches = switches.switchMs.length;
  result.job_switch_p50_ms = round(percentile(switches.switchMs, 50), 3);
  result.job_switch_p99_ms = round(percentile(switches.switchMs, 99), 3);
  result.job_switch_loop_block_p99_ms = round(percentile(switches.loopBlockMs, 99), 3);
  const kswitches = await jobSwitchTimes('keccak', o.threads, switchSeconds);
  result.job_switch_keccak_p99_ms = round(percentile(kswitches.switchMs, 99), 3);
  result.job_switch_keccak_loop_block_p99_ms = round(percentile(kswitches.loopBlockMs, 99), 3);
  result.job_switch_steal_ms = stealSince(switchSteal0);
  log.info('bench', 'hashes spent on replaced jobs, keccak and light mode, a job every 50 ms');
  result.replaced_hash_fraction_keccak = round(await replacedHashFraction(o.threads, Math.min(o.seconds, 3), 50, 4096n, {
    algo: 'keccak',
  }), 4);
  result.replaced_hash_fraction_light = round(await replacedHashFraction(o.threads, Math.min(o.seconds, 3), 50, 4n, {
    algo: 'octopus', cache, datasetBytes: sizes.datasetBytes,
  }), 4);

  if (o.mode === 'full' || o.mode === 'all') {
    log.info('bench', `building the ${(sizes.datasetBytes / 2 ** 30).toFixed(2)} GiB dataset for height ${o.height} on ${plural(o.threads, 'thread')}`);
    const t0 = performance.now();
    const dataset = await DatasetHandle.build(cache, {
      threads: o.threads, hugePages: o.hugePages, bytes: sizes.datasetBytes, onProgress: o.progress,
    });
    result.dag_build_seconds = round((performance.now() - t0) / 1000, 2);
    result.dataset_bytes = dataset.bytes;
    result.huge_pages = dataset.hugePages !== 'none';
    result.huge_pages_kind = dataset.hugePages;
    try {
      // Full mode and the memory ceiling alternate in slices of about a second, so that a change
      // in the machine's load (it is often shared, and its memory throughput moves by a third
      // within seconds) hits both sides of full_vs_memory_ceiling alike. The ratio is of the
      // sums; the spread of the slice pairs' ratios says how steady the machine was.
      log.info('bench', `full mode${refs ? ' and the page walk alone (memory ceiling)' : ''} on ${plural(o.threads, 'thread')}${refs ? ', alternating' : ''}`);
      // The ceiling walks its own memory of the dataset's size (filled once, freed after).
      const walk = refs?.walkMemory(sizes.datasetBytes, o.threads, o.hugePages);
      const slices = Math.max(3, Math.round(o.seconds));
      let full = 0;
      let ceiling: number | null = walk ? 0 : null;
      const pairs: number[] = [];
      try {
        for (let i = 0; i < slices; i++) {
          const f = await searchRate(o.threads, o.seconds / slices, { algo: 'octopus', cache, dataset });
          full += f / slices;
          if (walk && ceiling !== null) {
            const c = walk.walkHps(o.seconds / slices);
            ceiling += c / slices;
            if (c > 0) pairs.push(f / c);
          }
        }
      } finally {
        walk?.release();
      }
      result.full_hps = Math.round(full);
      result.full_hps_per_thread = Math.round(full / o.threads);
      const light = typeof result.light_hps === 'number' ? result.light_hps : null;
      result.full_vs_light = light ? round(full / light, 1) : null;
      const base = typeof result.light_baseline_hps_per_thread === 'number' ? result.light_baseline_hps_per_thread : null;
      result.full_vs_baseline = base ? round(full / (base * o.threads), 1) : null;
      result.memory_ceiling_hps = ceiling === null ? null : Math.round(ceiling);
      result.full_vs_memory_ceiling = ceiling ? round(full / ceiling, 3) : null;
      result.full_vs_memory_ceiling_min = pairs.length ? round(Math.min(...pairs), 3) : null;
      result.full_vs_memory_ceiling_max = pairs.length ? round(Math.max(...pairs), 3) : null;
      log.info('bench', 'job switch latency, full mode (engine.start -> all threads on the new job), a job every 25 ms');
      const fullSwitches = await engineSwitchTimes(o.threads, Math.max(2, Math.min(o.seconds, 5)), 25, {
        algo: 'octopus', cache, dataset,
      });
      result.job_switch_full_p50_ms = round(percentile(fullSwitches, 50), 3);
      result.job_switch_full_p99_ms = round(percentile(fullSwitches, 99), 3);
      log.info('bench', 'hashes spent on replaced jobs, full mode, a job every 50 ms');
      result.replaced_hash_fraction = round(await replacedHashFraction(o.threads, Math.min(o.seconds, 5), 50, 64n, {
        algo: 'octopus', cache, dataset,
      }), 4);
    } finally {
      dataset.release();
    }
  }

  result.steal_ms = stealSince(steal0);
  return result;
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
  if ('full_hps' in r) {
    rows.push(['dataset build', `${r.dag_build_seconds} s for ${((r.dataset_bytes as number) / 2 ** 30).toFixed(2)} GiB, huge pages: ${r.huge_pages_kind}`]);
    rows.push(['full mode, all threads', n('full_hps')]);
    rows.push(['full / light', `${r.full_vs_light}x`]);
    rows.push(['full / baseline (same threads)', `${r.full_vs_baseline}x`]);
    rows.push(['page walk alone (memory ceiling)', n('memory_ceiling_hps')]);
    rows.push(['full / memory ceiling', r.full_vs_memory_ceiling_min == null ? String(r.full_vs_memory_ceiling ?? 'n/a')
      : `${r.full_vs_memory_ceiling} (slices ${r.full_vs_memory_ceiling_min} to ${r.full_vs_memory_ceiling_max})`]);
    rows.push(['job switch, full mode, p50 / p99', `${r.job_switch_full_p50_ms} / ${r.job_switch_full_p99_ms} ms`]);
    rows.push(['hashes on replaced jobs (full, 50 ms jobs)', String(r.replaced_hash_fraction ?? 'n/a')]);
  }
  rows.push(['job switch p50 / p99', `${r.job_switch_p50_ms} / ${r.job_switch_p99_ms} ms (${r.job_switches} switches)`]);
  rows.push(['event loop held per switch, p99', `${r.job_switch_loop_block_p99_ms} ms`]);
  if (typeof r.steal_ms === 'number') rows.push(['CPU taken by the host (steal)', `${r.steal_ms} ms over the run`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}
