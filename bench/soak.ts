// `node dist/bench/soak.js [--seconds N] [--algo keccak|octopus] [--threads N] [--difficulty D]
// [--job-interval-ms MS]`: the real miner (a child process) against the test node sending a new
// job every 100 ms at a difficulty that gives a few solutions per second (octopus runs in light
// mode). Every second it samples the child's resident memory (VmRSS), thread count (Threads) and
// open file descriptors (/proc/PID/fd). At the end (SIGINT) the miner's books must balance and
// agree exactly with the node's records. Prints ONE JSON line. Linux only (/proc).
// test/soak.test.ts runs it for 30 s.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runSoak } from '../test/support/soak.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3600' },
      algo: { type: 'string', default: 'keccak' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      difficulty: { type: 'string' },
      'job-interval-ms': { type: 'string', default: '100' },
    },
  });
  const algo = values.algo;
  if (algo !== 'keccak' && algo !== 'octopus') throw new Error('--algo must be keccak or octopus');
  const num = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const seconds = num('seconds', values.seconds);
  const r = await runSoak({
    seconds, algo, threads: num('threads', values.threads),
    difficulty: values.difficulty === undefined ? undefined : num('difficulty', values.difficulty),
    jobIntervalMs: num('job-interval-ms', values['job-interval-ms']),
    log: (msg) => process.stderr.write(`soak: ${msg}\n`),
  });
  const b = r.books;
  process.stdout.write(`${JSON.stringify({
    bench: 'soak',
    ok: r.problems.length === 0,
    problems: r.problems,
    algo,
    seconds: r.seconds,
    samples: r.samples.length,
    warmup_s: r.warmupSeconds,
    rss_start_mb: r.rssStartMb,
    rss_end_mb: r.rssEndMb,
    rss_max_mb: r.rssMaxMb,
    rss_growth_pct: r.rssGrowthPct,
    rss_slope_mb_per_h: r.rssSlopeMbPerHour,
    threads_start: r.threadsStart,
    threads_end: r.threadsEnd,
    threads_max: r.threadsMaxAfterWarmup,
    fds_start: r.fdsStart,
    fds_end: r.fdsEnd,
    fds_max: r.fdsMaxAfterWarmup,
    accepted: b.accepted,
    rejected: b.rejected - b.rejectedStale,
    stale_at_node: b.rejectedStale,
    dropped_stale: b.droppedStale,
    timed_out: b.timedOut,
    found: b.found,
    hashes: b.hashes,
    jobs: r.node.jobs,
    node_accepted: r.node.accepted,
    node_invalid: r.node.rejected,
    node_stale: r.node.stale,
    exit_code: r.exit.code,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cpu_threads: os.availableParallelism(),
    node: process.versions.node,
  })}\n`);
  if (r.problems.length > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
