#!/usr/bin/env -S node --no-memory-reducer
// argv -> command. The only place that calls process.exit; every command returns its exit code
// and every error class carries one (src/errors.ts).
import './runtime-flags.js'; // first: V8 flags for a long-running, mostly idle event loop
import { Command, CommanderError, Option } from 'commander';
import { hashBatch, hashCommand, verifyCommand } from './commands/hash.js';
import { mineCommand } from './commands/mine.js';
import { configCommand } from './commands/config.js';
import { benchCommand } from './commands/bench-cli.js';
import { secretCommand } from './commands/secret.js';
import { addSettingOptions, flagsFromCommander, loadConfig } from './config/load.js';
import { ExitCode, exitCodeOf, messageOf } from './errors.js';
import { VERSION } from './version.js';

function buildProgram(run: (p: Promise<number>) => void): Command {
  const program = new Command('cfx-miner')
    .description('Native-accelerated CPU solo miner for Conflux (Octopus and the keccak test PoW)')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });

  addSettingOptions(program)
    .option('-c, --config <file>', 'JSON config file with the same keys as the options (env CFX_MINER_CONFIG)')
    .action(() => {
      const { settings, warnings } = loadConfig({ flags: flagsFromCommander(program), configPath: program.opts().config as string | undefined });
      run(mineCommand(settings, warnings));
    });

  addSettingOptions(program.command('config'))
    .description('print the effective settings as JSON (password and token masked), with where each came from')
    .option('--print', 'print the settings (the default)')
    .option('-c, --config <file>', 'JSON config file with the same keys as the options')
    .action((opts: Record<string, unknown>, cmd: Command) => {
      run(configCommand(loadConfig({ flags: flagsFromCommander(cmd), configPath: opts.config as string | undefined }), process.stdout));
    });

  program.command('bench')
    .description('measure hashes per second (keccak, light, full, scalar baseline) and job-switch latency')
    .addOption(new Option('--mode <mode>', 'what to measure; full builds a real dataset (4+ GiB)').choices(['light', 'full', 'all']).default('light'))
    .option('-t, --threads <n>', 'search threads (default: number of CPUs)')
    .option('--seconds <s>', 'seconds per measurement', '5')
    .option('--height <n>', 'block height whose cache and dataset to use', '0')
    .option('--no-huge-pages', 'do not ask for huge pages for the dataset')
    .option('--json', 'print one JSON line on stdout')
    .action((opts: Record<string, string | boolean | undefined>) => run(benchCommand(opts)));

  program.command('secret')
    .description('read a password on stdin (not echoed on a terminal) and print keccak-256 of it: the node\'s stratum_secret')
    .action(() => run(secretCommand(process.stdin, process.stdout, process.stderr)));

  const powOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--algo <algo>', 'proof of work').choices(['octopus', 'keccak']).default('octopus'))
      .option('--header <hex>', 'the 32-byte pow hash (0x + 64 hex digits)')
      .option('--height <n>', 'block height (selects the Octopus cache; unused by keccak)')
      .option('--nonce <hex>', 'the nonce (0x + hex; Octopus uses its low 64 bits)');

  powOptions(program.command('hash'))
    .description('print the PoW hash of one (header, height, nonce), or of JSON lines on stdin with --batch')
    .option('--batch', 'read {"algo","header","height","nonce"} JSON lines on stdin, write {"hash"} lines')
    .action((opts: Record<string, string | boolean | undefined>) => {
      run(opts.batch ? hashBatch(process.stdin, process.stdout) : hashCommand(opts as Record<string, string>, process.stdout));
    });

  powOptions(program.command('verify'))
    .description('print "valid" (exit 0) or "invalid" (exit 1) for a nonce against a boundary')
    .option('--boundary <hex>', 'the target: valid when (hash - lower_bound(nonce)) mod 2^256 < boundary')
    .action((opts: Record<string, string>) => run(verifyCommand(opts, process.stdout)));

  return program;
}

function fail(err: unknown): number {
  process.stderr.write(`cfx-miner: ${messageOf(err)}\n`);
  return exitCodeOf(err);
}

async function main(argv: string[]): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram((p) => { pending = p; });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are exit 0; everything else commander rejects is a usage error.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return fail(err);
  }
  if (!pending) return ExitCode.ok;
  try {
    return await pending;
  } catch (err) {
    return fail(err);
  }
}

main(process.argv).then(
  (code) => {
    // A second Ctrl-C cut the shutdown short: end now, not when the event loop drains
    // (index.ts cancels native builds and joins the search threads on 'exit').
    if (code === ExitCode.interrupted) process.exit(code);
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`cfx-miner: unexpected failure: ${messageOf(err)}\n`);
    process.exit(ExitCode.failure);
  },
);
