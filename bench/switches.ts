// What the benchmark measures beyond the miner's hashes per second: how fast a new job reaches
// every search thread, and how many hashes go to jobs already replaced. Handed to the bench
// command as its extras by bench/bench.ts, run while the command's cache or dataset exists.
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { SearchEngine } from '../src/native/index.js';
import type { Algo } from '../src/native/index.js';
import { silentLogger } from '../src/log/types.js';
import { StratumClient } from '../src/stratum/client.js';
import { MiningEngine } from '../src/miner/engine.js';
import { StageResources } from '../src/miner/resources.js';
import { IMPOSSIBLE, freshJob, round, stealMs, stealSince } from '../src/commands/bench.js';
import type { BenchOptions, BenchResult, BenchWork } from '../src/commands/bench.js';

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
 * Notify arrival -> every thread on the new job, through the real client and engine: the test
 * node on a worker thread (bench/job-pusher.ts) pushes a job every 25 ms. Per job: how long onJob
 * holds the event loop (the switch itself never waits for the threads), and the time from the
 * parsed notify until the last thread took the new job.
 */
async function jobSwitchTimes(algo: Algo, threads: number, seconds: number): Promise<{ switchMs: number[]; loopBlockMs: number[] }> {
  const node = new Worker(new URL('./job-pusher.js', import.meta.url), { workerData: { periodMs: 25 } });
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

const p = (values: number[], at: number) => round(percentile(values, at), 3);

/** Job switches through the client (Octopus light and keccak) and replaced hashes, before any dataset exists. */
export async function lightSwitchFigures(o: BenchOptions, light: BenchWork): Promise<BenchResult> {
  o.logger.info('bench', 'job switch latency (notify parsed -> all threads on the new job), octopus light');
  const steal0 = stealMs();
  const seconds = Math.max(2, Math.min(o.seconds, 10));
  const octopus = await jobSwitchTimes('octopus', o.threads, seconds);
  const keccak = await jobSwitchTimes('keccak', o.threads, seconds);
  const result: BenchResult = {
    job_switches: octopus.switchMs.length,
    job_switch_p50_ms: p(octopus.switchMs, 50),
    job_switch_p99_ms: p(octopus.switchMs, 99),
    job_switch_loop_block_p99_ms: p(octopus.loopBlockMs, 99),
    job_switch_keccak_p99_ms: p(keccak.switchMs, 99),
    job_switch_keccak_loop_block_p99_ms: p(keccak.loopBlockMs, 99),
    job_switch_steal_ms: stealSince(steal0),
  };
  o.logger.info('bench', 'hashes spent on replaced jobs, keccak and light mode, a job every 50 ms');
  const replacedSeconds = Math.min(o.seconds, 3);
  result.replaced_hash_fraction_keccak = round(await replacedHashFraction(o.threads, replacedSeconds, 50, 4096n, { algo: 'keccak' }), 4);
  result.replaced_hash_fraction_light = round(await replacedHashFraction(o.threads, replacedSeconds, 50, 4n, light), 4);
  return result;
}

/** Job switches on the native engine alone and replaced hashes, in full mode (the dataset is the command's). */
export async function fullSwitchFigures(o: BenchOptions, full: BenchWork): Promise<BenchResult> {
  o.logger.info('bench', 'job switch latency, full mode (engine.start -> all threads on the new job), a job every 25 ms');
  const switches = await engineSwitchTimes(o.threads, Math.max(2, Math.min(o.seconds, 5)), 25, full);
  const result: BenchResult = { job_switch_full_p50_ms: p(switches, 50), job_switch_full_p99_ms: p(switches, 99) };
  o.logger.info('bench', 'hashes spent on replaced jobs, full mode, a job every 50 ms');
  result.replaced_hash_fraction = round(await replacedHashFraction(o.threads, Math.min(o.seconds, 5), 50, 64n, full), 4);
  return result;
}
