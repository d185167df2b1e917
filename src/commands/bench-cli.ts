// `cfx-miner bench`: the benchmark as a user runs it (same figures as `npm run bench`), with a
// progress bar for the dataset build on a terminal.
import os from 'node:os';
import { formatBenchForHumans, runBench } from './bench.js';
import { createLogger } from '../log/logger.js';
import { createProgress } from '../ui/progress.js';
import type { Progress } from '../ui/progress.js';
import { parseHeight } from '../native/limits.js';
import { UsageError } from '../errors.js';

export async function benchCommand(opts: Record<string, string | boolean | undefined>): Promise<number> {
  const threads = opts.threads === undefined ? os.availableParallelism() : Number(opts.threads);
  const seconds = Number(opts.seconds ?? 5);
  let height: number;
  try {
    height = parseHeight(opts.height ?? '0');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const mode = (opts.mode ?? 'light') as 'light' | 'full' | 'all';
  const logger = createLogger({ level: 'info', json: false, color: 'auto' });
  let bar: Progress | undefined;
  const result = await runBench({
    mode, threads, seconds, height, hugePages: opts.hugePages !== false, logger,
    progress: (done, total) => {
      bar ??= createProgress({ label: 'building dataset', total, unit: 'items', tty: Boolean(process.stderr.isTTY), logger });
      bar.update(done);
      if (done >= total) bar.stop();
    },
  });
  process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : formatBenchForHumans(result));
  return 0;
}
