// `cfx-miner bench`: the benchmark as a user runs it, with a progress bar for the dataset build
// on a terminal. `npm run bench` (bench/bench.ts) runs the same options and command with the
// benchmark's extras.
import { Option } from 'commander';
import type { Command } from 'commander';
import { formatBenchForHumans, runBench } from './bench.js';
import type { BenchExtras, BenchOptions } from './bench.js';
import { createLogger } from '../log/logger.js';
import { createProgress } from '../ui/progress.js';
import type { Progress } from '../ui/progress.js';
import { parseHeight } from '../native/limits.js';
import { UsageError } from '../errors.js';
import { configKey } from '../config/schema.js';
import { loadConfig } from '../config/load.js';

const MODES: BenchOptions['mode'][] = ['light', 'full', 'all'];

/** The bench command's options, on the CLI's `bench` and on `npm run bench` (which measures all by default). */
export function benchOptions(cmd: Command, defaultMode: BenchOptions['mode'] = 'light'): Command {
  const threads = configKey('threads');
  return cmd
    .description('measure hashes per second (keccak, light and full mode) on this machine')
    .addOption(new Option('--mode <mode>', 'what to measure; full builds a real dataset (4+ GiB)').choices(MODES).default(defaultMode))
    .option(threads.flags, `${threads.description} (default: ${threads.defaultText})`)
    .option('--seconds <s>', 'seconds per measurement', '5')
    .option('--height <n>', 'block height whose cache and dataset to use', '0')
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
  let height: number;
  try {
    height = parseHeight(opts.height ?? '0');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const threads = threadsFrom(opts.threads);
  const seconds = Number(opts.seconds ?? 5);
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError('--seconds must be more than 0 and at most 3600');
  const mode = (opts.mode ?? 'light') as BenchOptions['mode'];
  const logger = createLogger({ level: 'info', json: false, color: 'auto' });
  let bar: Progress | undefined;
  const result = await runBench({
    mode, threads, seconds, height, hugePages: opts.hugePages !== false, logger, extras,
    progress: (done, total) => {
      bar ??= createProgress({ label: 'building dataset', total, unit: 'items', tty: Boolean(process.stderr.isTTY), logger });
      bar.update(done);
      if (done >= total) bar.stop();
    },
  });
  process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : formatBenchForHumans(result));
  return 0;
}
