// `npm run bench -- [--json] [--mode light|full|all] [--seconds S] [--threads N] [--height H]`:
// the same benchmark as `cfx-miner bench`; the last stdout line is one JSON object with --json.
import '../src/runtime-flags.js'; // first: the same V8 flags as the miner
import { parseArgs } from 'node:util';
import os from 'node:os';
import { formatBenchForHumans, runBench } from '../src/commands/bench.js';
import { createLogger } from '../src/log/logger.js';
import { parseHeight } from '../src/hex.js';
import { exitCodeOf, messageOf } from '../src/errors.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      mode: { type: 'string', default: 'all' },
      seconds: { type: 'string', default: '5' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      height: { type: 'string', default: '0' },
      'no-huge-pages': { type: 'boolean', default: false },
    },
  });
  const mode = values.mode;
  if (mode !== 'light' && mode !== 'full' && mode !== 'all') throw new Error('--mode must be light, full or all');
  const logger = createLogger({ level: 'info', json: false, color: 'auto' });
  const result = await runBench({
    mode, threads: Number(values.threads), seconds: Number(values.seconds), height: parseHeight(values.height),
    hugePages: !values['no-huge-pages'], logger,
  });
  process.stdout.write(values.json ? JSON.stringify(result) + '\n' : formatBenchForHumans(result));
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bench: ${messageOf(err)}\n`);
  process.exitCode = exitCodeOf(err);
});
