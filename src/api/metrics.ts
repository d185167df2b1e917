// Prometheus metrics, read from the same Summary as /summary at scrape time, so the two views
// can never disagree and the mining code needs no metric calls of its own.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { HashrateWindow } from '../miner/hashrate.js';
import type { Summary } from '../miner/summary.js';

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Stats-API connections closed at once at the connection cap (ApiServer.droppedConnections). */
  droppedApiConnections?: () => number;
}

const WINDOWS: readonly HashrateWindow[] = ['10s', '60s', '15m'];
const SHARE_RESULTS = ['accepted', 'rejected', 'stale'] as const;

/**
 * A dedicated Registry (never prom-client's global one, so several can coexist, e.g. in tests)
 * whose metrics are filled from getSummary() on each scrape:
 *   cfx_miner_shares_total{result="accepted|rejected|stale"}   counter
 *   cfx_miner_hashrate_hps{window="10s|60s|15m"}               gauge, omitted while null
 *   cfx_miner_thread_hashrate_hps{thread="0".."N-1"}           gauge, each thread's 10 s rate, omitted while null
 *   cfx_miner_threads, cfx_miner_job_difficulty, cfx_miner_job_height, cfx_miner_job_age_seconds
 *                                                               gauges (job ones omitted with no job)
 *   cfx_miner_connected (1 when subscribed), cfx_miner_dataset_progress_ratio, cfx_miner_uptime_seconds
 *   cfx_miner_dataset_huge_pages_ratio                           gauge, /summary's dataset.huge_pages_fraction; omitted while null
 *   cfx_miner_info{version,algo,mode} 1
 *   cfx_miner_api_connections_dropped_total                      counter, stats-API connections over the cap
 *   cfx_miner_hashes_total                                       counter, hashes since start, all threads
 *   cfx_miner_best_difficulty                                    gauge (float), the best hash since start; omitted before one
 *   cfx_miner_expected_block_seconds                             gauge, job difficulty / hashrate; omitted without either
 *   cfx_miner_effort                                             gauge, blocks' worth of hashes since start or the last accepted one
 *   cfx_miner_share_difficulty                                   gauge (float), the internal share difficulty; omitted while unset
 *   cfx_miner_self_check_checked_total, _invalid_total           counters, internal shares re-hashed on the host, and the wrong ones
 *   cfx_miner_effective_hashrate_hps                             gauge, the rate the checked shares prove; omitted while null
 *   cfx_miner_healthy                                            gauge, 1/0, what GET /health says (200/503)
 *   cfx_miner_self_test_ok                                       gauge, 1/0, the start-up self-test of the kernels
 * Each metric calls getSummary() once per scrape; it should be cheap (it reads counters).
 */
export function createMetricsRegistry(getSummary: () => Summary, opts: MetricsOptions = {}): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Counter({
    name: 'cfx_miner_shares_total', help: 'Solutions the node answered, by result.', labelNames: ['result'],
    registers,
    collect() {
      const shares = getSummary().shares;
      this.reset();
      for (const result of SHARE_RESULTS) this.inc({ result }, shares[result]);
    },
  });
  new Gauge({
    name: 'cfx_miner_hashrate_hps', help: 'Hashes per second averaged over the window.', labelNames: ['window'],
    registers,
    collect() {
      const rates = getSummary().hashrate;
      this.reset();
      for (const window of WINDOWS) {
        const rate = rates[window];
        if (rate !== null) this.set({ window }, rate);
      }
    },
  });
  new Gauge({
    name: 'cfx_miner_thread_hashrate_hps', help: 'Hashes per second of one search thread, over 10 s.', labelNames: ['thread'],
    registers,
    collect() {
      const rates = getSummary().hashrate.threads;
      this.reset();
      rates.forEach((rate, i) => { if (rate !== null) this.set({ thread: String(i) }, rate); });
    },
  });
  simpleGauge(registers, 'cfx_miner_threads', 'Search threads.', () => getSummary().threads);
  simpleGauge(registers, 'cfx_miner_job_difficulty', 'Difficulty of the current job (float; /summary has it exact).',
    () => { const job = getSummary().job; return job ? Number(job.difficulty) : null; });
  simpleGauge(registers, 'cfx_miner_job_height', 'Block height of the current job.',
    () => getSummary().job?.height ?? null);
  simpleGauge(registers, 'cfx_miner_job_age_seconds', 'Seconds since the current job arrived (a stuck node keeps it growing).',
    () => getSummary().job?.age_s ?? null);
  simpleGauge(registers, 'cfx_miner_connected', '1 while subscribed to a node, else 0.',
    () => (getSummary().connection.state === 'connected' ? 1 : 0));
  simpleGauge(registers, 'cfx_miner_dataset_progress_ratio', 'Progress of the full-mode dataset build, 0 to 1 (1 once built, 0 without a dataset).',
    () => getSummary().dataset.progress);
  simpleGauge(registers, 'cfx_miner_dataset_huge_pages_ratio', 'Share of the dataset in use on huge pages, 0 to 1 (measured; below 0.95 full mode hashes slower); omitted without a dataset.',
    () => getSummary().dataset.huge_pages_fraction);
  simpleGauge(registers, 'cfx_miner_uptime_seconds', 'Seconds since the miner started.', () => getSummary().uptime_s);
  new Gauge({
    name: 'cfx_miner_info', help: 'Always 1; the labels describe the miner.', labelNames: ['version', 'algo', 'mode'],
    registers,
    collect() {
      const { version, algo, mode } = getSummary();
      this.reset();
      this.set({ version, algo, mode }, 1);
    },
  });

  const dropped = opts.droppedApiConnections;
  if (dropped) {
    new Counter({
      name: 'cfx_miner_api_connections_dropped_total',
      help: 'Stats-API connections closed at once because the connection cap was reached.',
      registers,
      collect() {
        this.reset();
        this.inc(dropped());
      },
    });
  }
  simpleCounter(registers, 'cfx_miner_hashes_total', 'Hashes computed since start, all threads.', () => getSummary().hashes);
  simpleGauge(registers, 'cfx_miner_best_difficulty',
    'Difficulty of the best hash since start, floor((2^256-1)/hash) (float; /summary has it exact).',
    () => { const best = getSummary().best; return best ? Number(best.difficulty) : null; });
  simpleGauge(registers, 'cfx_miner_expected_block_seconds', 'Seconds one block is expected to take: job difficulty / hashrate.',
    () => getSummary().expected_block_s);
  simpleGauge(registers, 'cfx_miner_effort',
    'Blocks\' worth of hashes since start or the last accepted solution (1 = one block was expected by now).',
    () => getSummary().effort);
  simpleGauge(registers, 'cfx_miner_share_difficulty', 'Difficulty of the internal shares the host re-checks (float).',
    () => { const d = getSummary().self_check.share_difficulty; return d === null ? null : Number(d); });
  simpleCounter(registers, 'cfx_miner_self_check_checked_total', 'Internal shares re-hashed on the host by an independent path.',
    () => getSummary().self_check.checked);
  simpleCounter(registers, 'cfx_miner_self_check_invalid_total',
    'Internal shares whose host re-hash disagreed with the search: a kernel computes wrong hashes.',
    () => getSummary().self_check.invalid);
  simpleGauge(registers, 'cfx_miner_effective_hashrate_hps', 'Hashes per second that the checked internal shares prove.',
    () => getSummary().self_check.effective_hps);
  simpleGauge(registers, 'cfx_miner_healthy', '1 while GET /health answers 200, else 0.',
    () => (getSummary().health.ok ? 1 : 0));
  simpleGauge(registers, 'cfx_miner_self_test_ok', '1 when the start-up self-test of every selected kernel passed, else 0.',
    () => (getSummary().self_test.ok ? 1 : 0));

  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** A label-less counter read at scrape time from a count the miner keeps. */
function simpleCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name, help, registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A label-less gauge read at scrape time; null leaves it without a sample (e.g. no job yet). */
function simpleGauge(registers: Registry[], name: string, help: string, read: () => number | null): void {
  new Gauge({
    name, help, registers,
    collect() {
      const value = read();
      // reset() leaves a label-less gauge at 0; no job is not difficulty 0, so drop the sample.
      if (value === null) this.remove({});
      else this.set(value);
    },
  });
}
