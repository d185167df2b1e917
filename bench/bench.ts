// `npm run bench -- [--json] [--mode light|full|all] [--seconds S] [--threads N] [--height H[,H2]]`:
// `cfx-miner bench` (the same options, command and output), with --mode all unless another
// mode is given, plus what only the benchmark measures: the independent references of
// bench/references.ts, so the ratios (keccak_vs_scalar, light_vs_baseline,
// full_vs_memory_ceiling, ...) are filled in, and the job-switch and replaced-hash figures of
// bench/switches.ts. The last stdout line is one JSON object with --json.
import '../src/runtime-flags.js'; // first, as in the CLI: the bench measures the miner as it runs
import { Command, CommanderError } from 'commander';
import { benchCommand, benchOptions } from '../src/commands/bench-cli.js';
import { ExitCode, exitCodeOf, messageOf } from '../src/errors.js';
import { benchReferences } from './references.js';
import { fullSwitchFigures, lightSwitchFigures } from './switches.js';

const program = benchOptions(new Command('npm run bench'), 'all')
  .description('cfx-miner bench with the references the ratios need, the job-switch latency and the replaced hashes')
  // Commander's errors become one `npm run bench: ...` line with the usage exit code, as the CLI's do.
  .configureOutput({ outputError: () => {} })
  .exitOverride()
  .action(async (opts: Record<string, string | boolean | undefined>) => {
    process.exitCode = await benchCommand(opts, { references: benchReferences, light: lightSwitchFigures, full: fullSwitchFigures });
  });
try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode !== 0) process.stderr.write(`npm run bench: ${err.message.replace(/^error: /, '')}\n`);
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else {
    process.stderr.write(`npm run bench: ${messageOf(err)}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
