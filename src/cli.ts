#!/usr/bin/env -S node --no-memory-reducer
// argv -> command. The only place that calls process.exit; every command returns its exit code
// and every error class carries one (src/errors.ts).
import './runtime-flags.js'; // first: V8 flags for a long-running, mostly idle event loop
import { Command, CommanderError, Option } from 'commander';
import { hashBatch, hashCommand, verifyCommand } from './commands/hash.js';
import { mineCommand } from './commands/mine.js';
import { configCommand } from './commands/config.js';
import { benchCommand, benchOptions } from './commands/bench-cli.js';
import { secretCommand } from './commands/secret.js';
import { addSettingOptions, didYouMean, flagsFromCommander, loadConfig } from './config/load.js';
import { parseHostSpec } from './config/hosts.js';
import { replaceControlChars } from './control-chars.js';
import { ExitCode, UsageError, exitCodeOf, messageOf } from './errors.js';
import { VERSION } from './version.js';

function buildProgram(run: (p: Promise<number>) => void): Command {
  const program = new Command('cfx-miner')
    .description('Native-accelerated CPU solo miner for Conflux (Octopus and the keccak test PoW)')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    // Commander's own errors are not printed as it writes them: overrideExits turns each into
    // one `cfx-miner: ...` usage line, printed by fail() like every other error.
    .configureOutput({ outputError: () => {} });

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

  benchOptions(program.command('bench'))
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
    .description('print "valid" (exit 0) or "invalid" (exit 5) for a nonce against a boundary')
    .option('--boundary <hex>', 'the target: valid when (hash - lower_bound(nonce)) mod 2^256 < boundary')
    .action((opts: Record<string, string>) => run(verifyCommand(opts, process.stdout)));

  overrideExits(program);
  return program;
}

/** Every command, the subcommands included: help and version go through, errors become UsageErrors. */
function overrideExits(cmd: Command): void {
  cmd.exitOverride((err) => {
    if (err.exitCode === 0) throw err; // --help, --version
    throw new UsageError(commanderUsage(err, cmd), { cause: err });
  });
  for (const sub of cmd.commands) overrideExits(sub);
}

/**
 * One line for an error commander found in argv, with a pointer to the command's --help. An
 * option's value and a stray argument are never quoted: either may be a password
 * (`--pasword=hunter2`, `-Phunter2`, or a password with a space that was not quoted).
 */
function commanderUsage(err: CommanderError, cmd: Command): string {
  const see = `see ${cmd.parent ? `cfx-miner ${cmd.name()}` : 'cfx-miner'} --help`;
  if (err.code === 'commander.unknownOption') {
    const given = /^error: unknown option '([\s\S]*?)'(?:\n\(Did you mean [^\n]*\?\))?$/.exec(err.message)?.[1] ?? '';
    const name = given.startsWith('--') ? given.split('=')[0]! : given.slice(0, 2);
    const known = [...cmd.options.flatMap((o) => o.long ?? []), '--help'];
    return `unknown option '${printable(name)}'${didYouMean(name, known, (f) => f)}; ${see}`;
  }
  if (err.code === 'commander.excessArguments') return `${unexpectedArgument(cmd)}; ${see}`;
  // Missing option values, invalid choices, ...: commander's words, on one line.
  return `${printable(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').replace(/\.$/, ''), 300)}; ${see}`;
}

/** `stratum+tcp://host:port`, `host:port`, `[v6]:port`: a node address given without --host. */
const LOOKS_LIKE_ADDRESS = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/|\[|[A-Za-z0-9.-]+:\d+$)/;

function unexpectedArgument(cmd: Command): string {
  const first = cmd.args[cmd.registeredArguments.length] ?? '';
  if (!cmd.parent) {
    if (LOOKS_LIKE_ADDRESS.test(first) && !first.includes('@')) {
      try {
        parseHostSpec(first);
      } catch (err) {
        return `unexpected argument: a node address goes after --host, and this one is not valid: ${printable(messageOf(err), 300)}`;
      }
      return `unexpected argument '${printable(first)}': give the node with --host ${printable(first)}`;
    }
    const commands = cmd.commands.map((c) => c.name());
    if (first === 'help') return 'there is no help command: use --help (cfx-miner --help, cfx-miner <command> --help)';
    const command = didYouMean(first, commands, (c) => c);
    if (command !== '') return `unknown command '${printable(first)}'${command}`;
    return `unexpected argument (not shown, in case it is a password): cfx-miner takes options, or a command first (${commands.join(', ')})`;
  }
  return `unexpected argument to ${cmd.name()} (not shown, in case it is a password): it takes options only`;
}

/** Control characters as \u escapes, and at most `max` characters: argv goes to a terminal. */
function printable(text: string, max = 80): string {
  const clean = replaceControlChars(text, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
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
    // (native/loader.ts cancels native builds and joins the search threads on 'exit').
    if (code === ExitCode.interrupted) process.exit(code);
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`cfx-miner: unexpected failure: ${messageOf(err)}\n`);
    process.exit(ExitCode.failure);
  },
);
