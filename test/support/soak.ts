// The soak: the real miner (a child process) against the test node sending a new job every
// 100 ms at a difficulty that gives a few solutions per second (octopus runs in light mode).
// Every second it samples the child's resident memory (VmRSS), thread count (Threads) and open
// file descriptors (/proc/PID/fd). At the end (SIGINT) the miner's books must balance and agree
// exactly with the node's records. Linux only (/proc). test/soak.test.ts runs it for 30 s,
// bench/soak.ts for an hour.
import { readFileSync, readdirSync } from 'node:fs';
import type { Algo } from '../../src/native/index.js';
import { TestNode } from './test-node.js';
import type { TestNodeStats } from './test-node.js';
import { startMiner } from './miner-process.js';
import type { ExitInfo } from './miner-process.js';
import { waitFor } from './wait.js';
import { SubmitLedger, booksProblems, reconcile, summaryOf } from './books.js';
import type { MinerBooks } from './books.js';

export interface SoakOptions {
  seconds: number;
  algo: Algo;
  threads: number;
  /** Default: a few solutions per second on a 2-core machine (keccak 800 000, octopus light 20). */
  difficulty?: number;
  /** Default 100. */
  jobIntervalMs?: number;
  /** Samples before this are warm-up; default 20% of the run, at least 10 s, at most half the run. */
  warmupSeconds?: number;
  log?: (msg: string) => void;
  t?: { after(fn: () => unknown): void };
}

export interface SoakSample {
  /** Seconds since the miner started. */
  t: number;
  rssMb: number;
  threads: number;
  fds: number;
}

export interface SoakResult {
  samples: SoakSample[];
  warmupSeconds: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  rssGrowthPct: number;
  /** Least-squares slope of RSS over the samples after warm-up. */
  rssSlopeMbPerHour: number;
  threadsStart: number;
  threadsEnd: number;
  threadsMaxAfterWarmup: number;
  fdsStart: number;
  fdsEnd: number;
  fdsMaxAfterWarmup: number;
  node: TestNodeStats;
  books: MinerBooks;
  /** booksProblems + reconcile with the node: empty when the books balance and agree. */
  problems: string[];
  exit: ExitInfo;
  seconds: number;
}

const DEFAULT_DIFFICULTY: Record<Algo, number> = { keccak: 800_000, octopus: 20 };

/** VmRSS (MiB) and Threads of a process, and how many descriptors it holds; undefined once it is gone. */
export function sampleProcess(pid: number): { rssMb: number; threads: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    if (!Number.isFinite(rssKb) || !Number.isFinite(threads)) return undefined;
    return { rssMb: rssKb / 1024, threads, fds };
  } catch {
    return undefined;
  }
}

function slopePerHour(points: SoakSample[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mr = points.reduce((a, p) => a + p.rssMb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.rssMb - mr);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  if (process.platform !== 'linux') throw new Error('the soak samples /proc/PID: Linux only');
  const say = o.log ?? (() => {});
  const warmupSeconds = o.warmupSeconds ?? Math.min(Math.max(10, 0.2 * o.seconds), o.seconds / 2);
  const node = new TestNode({
    algo: o.algo, difficulty: o.difficulty ?? DEFAULT_DIFFICULTY[o.algo], jobIntervalMs: o.jobIntervalMs ?? 100,
  });
  const requestTimeoutMs = 10_000;
  const ledger = new SubmitLedger(node, { requestTimeoutMs });
  const { host, port } = await node.listen();
  const args = ['--host', `${host}:${port}`, '--worker', 'soak', '--algo', o.algo, '--threads', String(o.threads),
    '--request-timeout-ms', String(requestTimeoutMs), '--print-interval-s', '60'];
  if (o.algo === 'octopus') args.push('--mode', 'light');
  const miner = startMiner(args, { t: o.t, maxLifetimeMs: (o.seconds + 120) * 1000 });
  const started = performance.now();
  const samples: SoakSample[] = [];
  const pid = miner.proc.pid!;
  let finished!: () => void;
  // Resolves when `seconds` of samples are in, or when the miner exits early.
  const sampled = new Promise<void>((resolve) => { finished = resolve; });
  void miner.exited.then(() => finished(), () => finished());
  // Sampling once a second is the measurement itself, not a wait for something to happen.
  const sampler = setInterval(() => {
    const s = sampleProcess(pid);
    if (s && miner.exitInfo === undefined) samples.push({ t: round((performance.now() - started) / 1000, 1), ...s });
    const last = samples.at(-1);
    if (last && last.t >= o.seconds) finished();
    if (last && samples.length % 60 === 0) {
      say(`${Math.round(last.t)} s: rss ${last.rssMb.toFixed(1)} MiB, ${last.threads} threads, ${last.fds} fds, ` +
        `node accepted ${node.stats.accepted}, jobs ${node.stats.jobs}`);
    }
  }, 1_000);
  try {
    await miner.waitForLine(/subscribed at/, 30_000);
    await sampled;
    if (miner.exitInfo !== undefined) throw new Error(`the miner exited during the soak: ${JSON.stringify(miner.exitInfo)}`);
    clearInterval(sampler);
    const exit = await miner.stop('SIGINT', 5_000);
    await waitFor(() => node.connectionCount === 0, 5_000, 'the node to see the miner go');
    const books = summaryOf(miner.lines);
    const problems = [...booksProblems(books), ...reconcile(books, ledger.expected())];
    if (exit.code !== 0 || exit.signal !== null) problems.push(`exit ${JSON.stringify(exit)} after SIGINT, expected code 0`);
    const after = samples.filter((s) => s.t >= warmupSeconds);
    if (after.length < 2) throw new Error(`only ${after.length} samples after the ${warmupSeconds} s warm-up`);
    const first = after[0]!;
    const last = after.at(-1)!;
    return {
      samples, warmupSeconds,
      rssStartMb: round(first.rssMb), rssEndMb: round(last.rssMb), rssMaxMb: round(Math.max(...after.map((s) => s.rssMb))),
      rssGrowthPct: round(((last.rssMb - first.rssMb) / first.rssMb) * 100),
      rssSlopeMbPerHour: round(slopePerHour(after)),
      threadsStart: first.threads, threadsEnd: last.threads, threadsMaxAfterWarmup: Math.max(...after.map((s) => s.threads)),
      fdsStart: first.fds, fdsEnd: last.fds, fdsMaxAfterWarmup: Math.max(...after.map((s) => s.fds)),
      node: { ...node.stats }, books, problems, exit, seconds: round((performance.now() - started) / 1000, 1),
    };
  } catch (err) {
    const tail = miner.lines.slice(-15).map((l) => `  | ${l}`).join('\n');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nminer log tail:\n${tail}`, { cause: err });
  } finally {
    clearInterval(sampler);
    miner.kill();
    await miner.exited.catch(() => undefined);
    await node.close();
  }
}
