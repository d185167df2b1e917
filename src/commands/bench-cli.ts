// `cfx-miner bench`: the benchmark as a user runs it, with a progress bar for the dataset build
// on a terminal. `npm run bench` (bench/bench.ts) runs the same options and command with the
// benchmark's extras.
import { Option } from 'commander';
import type { Command } from 'commander';
import { NAMED_HEIGHTS, formatBenchForHumans, runBench } from './bench.js';
import type { BenchExtras, BenchHeight, BenchOptions } from './bench.js';
import { createLogger } from '../log/logger.js';
import { createProgress } from '../ui/progress.js';
import type { Progress } from '../ui/progress.js';
import { heightProblem, limits } from '../native/limits.js';
import { MAX_SHOWN_CHARS } from '../hex.js';
import { clipText } from '../control-chars.js';
import { UsageError } from '../errors.js';
import { configKey } from '../config/schema.js';
import { loadConfig } from '../config/load.js';

const MODES: BenchOptions['mode'][] = ['light', 'full', 'all'];

/**
 * The most heights one run measures full mode at: each builds its dataset in turn (11.7 GiB and
 * a few minutes at testnet's height, with as much again for the memory ceiling), and stage 0,
 * mainnet and testnet are the three sizes worth comparing.
 */
export const MAX_BENCH_HEIGHTS = 3;

/**
 * --height: a whole number, a network's name (NAMED_HEIGHTS, any case) or a comma-separated list
 * of them, each height once. The first is the height of every figure; the others add full mode at
 * theirs. Anything else is one usage line that lists the choices.
 */
export function parseBenchHeights(text: string): BenchHeight[] {
  const names = Object.keys(NAMED_HEIGHTS);
  const choices = `${names.slice(0, -1).join(', ')} or ${names.at(-1)} (today's heights, estimated), ` +
    `a whole number from 0 to ${limits().maxHeight}, or a comma-separated list of up to ${MAX_BENCH_HEIGHTS} of them`;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length > MAX_BENCH_HEIGHTS) throw new UsageError(`--height takes ${choices}; got ${parts.length} heights`);
  const heights = parts.map((part): BenchHeight => {
    const name = part.toLowerCase();
    const named = Object.hasOwn(NAMED_HEIGHTS, name) ? NAMED_HEIGHTS[name] : undefined;
    if (named !== undefined) return { height: named, name };
    if (/^\d+$/.test(part) && heightProblem(Number(part)) === undefined) return { height: Number(part), name: String(Number(part)) };
    throw new UsageError(`--height takes ${choices}; got ${JSON.stringify(clipText(part, MAX_SHOWN_CHARS))}`);
  });
  const twice = heights.find((h, i) => heights.findIndex((other) => other.height === h.height) !== i);
  if (twice) throw new UsageError(`--height lists height ${twice.height} twice; give each height once`);
  return heights;
}

/** The bench command's options, on the CLI's `bench` and on `npm run bench` (which measures all by default). */
export function benchOptions(cmd: Command, defaultMode: BenchOptions['mode'] = 'light'): Command {
  const threads = configKey('threads');
  return cmd
    .description('measure hashes per second (keccak, light and full mode) on this machine')
    .addOption(new Option('--mode <mode>', 'what to measure; full builds a real dataset (4+ GiB)').choices(MODES).default(defaultMode))
    .option(threads.flags, `${threads.description} (default: ${threads.defaultText})`)
    .option('--seconds <s>', 'seconds per measurement', '5')
    .option('--height <h>', `block height whose cache and dataset to use: a number, ${Object.keys(NAMED_HEIGHTS).join(' or ')} ` +
      "(today's, estimated); a list such as 0,mainnet measures full mode at each in turn", '0')
    .option('--no-huge-pages', 'do not ask for huge pages for the dataset')
    .option('--json', 'print one JSON line on stdout');
}

/**
 * --threads exactly as mining reads it (the schema's range and default, the same one-line
 * error); the benchmark takes its settings from the command line only, not from the environment
 * or a config file.
 */
function threadsFrom(flag: unknown): number {
  return loadConfig({ flags: { threads: flag }, env: {} }).settings.threads;
}

export async function benchCommand(opts: Record<string, string | boolean | undefined>, extras?: BenchExtras): Promise<number> {
  const [first, ...moreHeights] = parseBenchHeights(String(opts.height ?? '0'));
  const threads = threadsFrom(opts.threads);
  const seconds = Number(opts.seconds ?? 5);
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError('--seconds must be more than 0 and at most 3600');
  const mode = (opts.mode ?? 'light') as BenchOptions['mode'];
  if (moreHeights.length > 0 && mode === 'light') {
    throw new UsageError('--height with a list measures full mode at each height: add --mode full (or all)');
  }
  const logger = createLogger({ level: 'info', json: false, color: 'auto' });
  let bar: Progress | undefined;
  const result = await runBench({
    mode, threads, seconds, height: first!.height, moreHeights, hugePages: opts.hugePages !== false, logger, extras,
    progress: (done, total) => {
      bar ??= createProgress({ label: 'building dataset', total, unit: 'items', tty: Boolean(process.stderr.isTTY), logger });
      bar.update(done);
      if (done < total) return;
      bar.stop();
      bar = undefined; // the next height's dataset gets a bar of its own
    },
  });
  process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : formatBenchForHumans(result));
  return 0;
}
