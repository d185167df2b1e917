// Settings from their four sources, flags > env > file > defaults, each value validated where it
// enters and remembered with the source it came from (for `cfx-miner config` and for errors).
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { Option } from 'commander';
import type { Command } from 'commander';
import { clipText, describeControlChar } from '../control-chars.js';
import { UsageError } from '../errors.js';
import { CONFIG_KEYS, ENV_PREFIX, NON_SETTING_ENV, expectation } from './schema.js';
import { parseHostSpec } from './hosts.js';
import type { ConfigKeyInfo, SettingKey, SettingSource, Settings } from './schema.js';

/** Environment variable naming a config file when --config is not given. */
export const CONFIG_FILE_ENV = 'CFX_MINER_CONFIG';

export interface LoadOptions {
  /**
   * Only the flags the user gave, keyed by setting name (use flagsFromCommander). Values may be
   * commander's raw strings or already-typed values; both are validated.
   */
  flags?: Partial<Record<SettingKey, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** JSON file with settings as camelCase keys; default env CFX_MINER_CONFIG; none when both are unset. */
  configPath?: string;
}

export interface LoadedConfig {
  settings: Settings;
  sources: Record<SettingKey, SettingSource>;
  configPath: string | undefined;
  /** Problems worth a log line but not a stop, e.g. an unknown CFX_MINER_* variable (a likely typo). */
  warnings: string[];
}

/** Throws UsageError (exit 2) with a one-line message naming the key and the source. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const configPath = opts.configPath ?? nonEmpty(env[CONFIG_FILE_ENV]);
  const file = configPath === undefined ? {} : readConfigFile(configPath);
  const settings: Record<string, unknown> = {};
  const sources = {} as Record<SettingKey, SettingSource>;

  for (const info of CONFIG_KEYS) {
    const picked = pick(info, opts.flags ?? {}, env, file, configPath ?? '');
    settings[info.key] = picked.value;
    sources[info.key] = picked.source;
  }
  if (settings['quiet'] === true && settings['verbose'] === true) {
    throw new UsageError(`quiet (from ${sources.quiet}) and verbose (from ${sources.verbose}) cannot both be on; pick one`);
  }
  // Every key was filled from a validated source above, so the record is a Settings.
  return { settings: settings as unknown as Settings, sources, configPath, warnings: envWarnings(env) };
}

function jsonErrorPlace(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (!m) return 'unexpected end or character';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `unexpected character at line ${line}, column ${column}`;
}

function pick(info: ConfigKeyInfo, flags: Partial<Record<SettingKey, unknown>>, env: NodeJS.ProcessEnv,
  file: Record<string, unknown>, configPath: string): { value: unknown; source: SettingSource } {
  const flag = flags[info.key];
  if (flag !== undefined) {
    const label = `option ${info.flagName}`;
    const value = typeof flag === 'string' ? fromText(info, flag, label) : fromTyped(info, flag, label);
    return { value, source: 'flag' };
  }
  const envText = nonEmpty(env[info.env]);
  if (envText !== undefined) {
    return { value: fromText(info, envText, `environment variable ${info.env}`), source: 'env' };
  }
  if (Object.hasOwn(file, info.key)) {
    return { value: fromTyped(info, file[info.key], `config file ${configPath}`), source: 'file' };
  }
  return { value: info.defaultValue(), source: 'default' };
}

// An empty variable (`CFX_MINER_HEIGHT=`) is how shells unset things in scripts: treat it as unset.
function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

// ---- the config file --------------------------------------------------------------------------

/** A config file is a few hundred bytes; anything past this is not one (and is not read whole). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * The file's text. Only a regular file is read: the open of a FIFO blocks until some writer
 * comes, and a device (/dev/zero) never ends. The path is checked before the open, so the
 * usual mistake never opens anything; readRegularFile checks the descriptor again.
 */
function readConfigText(path: string): string {
  refuseUnlessRegular(path, statSync(path));
  return readRegularFile(path);
}

/**
 * Opens `path` and reads it only if the descriptor is a regular file: the guard against a path
 * replaced by a FIFO or a device after it was checked. O_NONBLOCK makes the open return at once
 * even on a FIFO with no writer, and changes nothing for a regular file. Reads at most
 * MAX_CONFIG_FILE_BYTES + 1 bytes. Exported for its test (a FIFO, without the check before).
 */
export function readRegularFile(path: string): string {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    refuseUnlessRegular(path, stats);
    if (stats.size > MAX_CONFIG_FILE_BYTES) {
      throw new UsageError(`config file ${path}: ${stats.size} bytes is too large for a config file (at most ${MAX_CONFIG_FILE_BYTES})`);
    }
    // Bounded still: a regular file can grow between fstat and the read.
    const buf = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let len = 0;
    for (let n; len < buf.length && (n = readSync(fd, buf, len, buf.length - len, null)) > 0;) len += n;
    if (len > MAX_CONFIG_FILE_BYTES) throw new UsageError(`config file ${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes, too large for a config file`);
    return buf.toString('utf8', 0, len);
  } finally {
    closeSync(fd);
  }
}

function refuseUnlessRegular(path: string, stats: Stats): void {
  if (stats.isFile()) return;
  const kind = stats.isDirectory() ? 'a directory'
    : stats.isFIFO() ? 'a FIFO (named pipe)'
      : stats.isCharacterDevice() ? 'a character device'
        : stats.isBlockDevice() ? 'a block device'
          : stats.isSocket() ? 'a socket' : 'something other than a file';
  throw new UsageError(`config file ${path}: is ${kind}, not a regular file; give the path of a JSON file`);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readConfigText(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`config file ${path}: ${readFailure(err)}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // V8's message quotes the text around the error, which may be the password: give the place only.
    throw new UsageError(`config file ${path}: not valid JSON (${jsonErrorPlace(text, err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path}: must be a JSON object with settings as keys, e.g. {"threads": 4}`);
  }
  const known = CONFIG_KEYS.map((k) => k.key as string);
  for (const key of Object.keys(parsed)) {
    if (!known.includes(key)) {
      throw new UsageError(`config file ${path}: unknown key "${key}"${didYouMean(key, known, (k) => `"${k}"`)}`);
    }
  }
  return parsed as Record<string, unknown>;
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot be read (${(err as Error).message})`;
}

// ---- values -----------------------------------------------------------------------------------

function fail(info: ConfigKeyInfo, label: string, got: unknown): never {
  // A secret must not end up in a terminal or a log because it was mistyped.
  const shown = info.secret ? `a ${Array.isArray(got) ? 'list' : typeof got}` : show(got);
  throw new UsageError(`${label}: "${info.key}" must be ${expectation(info.value)}, got ${shown}`);
}

function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
  return clipText(text, 60);
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** Values written as text: environment variables and commander's option arguments. */
function fromText(info: ConfigKeyInfo, text: string, label: string): unknown {
  const v = info.value;
  switch (v.kind) {
    case 'int': {
      const trimmed = text.trim();
      // Only plain digits: Number() would also take "0x10", "1e3" and "" and surprise someone.
      const n = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
      return checkInt(info, n, text, label);
    }
    case 'bool': {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) return true;
      if (FALSE_WORDS.includes(word)) return false;
      throw new UsageError(`${label}: "${info.key}" must be one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')}, got ${show(text)}`);
    }
    case 'hosts':
      return checkHosts(info, text.split(','), label);
    default:
      return fromTyped(info, text, label);
  }
}

/** Values that arrive typed: JSON from the config file, or flags commander already converted. */
function fromTyped(info: ConfigKeyInfo, value: unknown, label: string): unknown {
  const v = info.value;
  switch (v.kind) {
    case 'int':
      return typeof value === 'number' ? checkInt(info, value, value, label) : fail(info, label, value);
    case 'bool':
      return typeof value === 'boolean' ? value : fail(info, label, value);
    case 'string': {
      if (typeof value !== 'string') return fail(info, label, value);
      // Before the emptiness check, which trims: "\n" is a stray newline, not an empty name.
      const control = describeControlChar(value);
      if (control !== undefined) {
        // Described by code point and place only: the value may be a password or a token.
        throw new UsageError(`${label}: "${info.key}" contains a control character (${control}); remove it`);
      }
      if (!v.allowEmpty && value.trim() === '') return fail(info, label, value);
      if (Buffer.byteLength(value, 'utf8') > v.maxBytes) {
        throw new UsageError(`${label}: "${info.key}" is ${Buffer.byteLength(value, 'utf8')} bytes long; at most ${v.maxBytes} are allowed`);
      }
      return value;
    }
    case 'enum':
      return typeof value === 'string' && v.choices.includes(value) ? value : fail(info, label, value);
    case 'hosts': {
      const list = typeof value === 'string' ? value.split(',') : value;
      if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) return fail(info, label, value);
      return checkHosts(info, list.flatMap((h: string) => h.split(',')), label);
    }
  }
}

function checkInt(info: ConfigKeyInfo, n: number, got: unknown, label: string): number {
  const v = info.value;
  if (v.kind !== 'int') throw new TypeError(`${info.key} is not a number setting`);
  if (!Number.isSafeInteger(n) || n < v.min || n > v.max) return fail(info, label, got);
  return n;
}

function checkHosts(info: ConfigKeyInfo, entries: string[], label: string): string[] {
  const control = describeControlChar(entries.join(','));
  if (control !== undefined) throw new UsageError(`${label}: "${info.key}" contains a control character (${control}); remove it`);
  const hosts = entries.map((h) => h.trim()).filter((h) => h !== '');
  if (hosts.length === 0) return fail(info, label, entries.join(','));
  for (const host of hosts) {
    try {
      parseHostSpec(host, 1);
    } catch (err) {
      throw new UsageError(`${label}: "${info.key}": ${(err as Error).message}`);
    }
  }
  return hosts;
}

// ---- typos ------------------------------------------------------------------------------------

function envWarnings(env: NodeJS.ProcessEnv): string[] {
  const known = [...CONFIG_KEYS.map((k) => k.env), ...NON_SETTING_ENV] as string[];
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.includes(name))
    .sort()
    .map((name) => `environment variable ${name} is not a setting and is ignored${didYouMean(name, known, (k) => k)}`);
}

/** ` (did you mean X?)` for the candidate within two edits of `word`, else ''. Also for the CLI's own errors. */
export function didYouMean(word: string, candidates: readonly string[], quote: (s: string) => string): string {
  let best: string | undefined;
  let bestDistance = 3; // beyond two edits a suggestion is more confusing than helpful
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${quote(best)}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

// ---- commander glue -----------------------------------------------------------------------------

/** The subset of commander's Command that flagsFromCommander reads. */
export interface CommanderLike {
  opts(): Record<string, unknown>;
  getOptionValueSource(key: string): string | undefined;
}

/**
 * The settings the user actually typed, keyed by setting name, ready for loadConfig. Commander
 * gives `--no-color` a default of true; only values whose source is the command line count.
 */
export function flagsFromCommander(cmd: CommanderLike): Partial<Record<SettingKey, unknown>> {
  const opts = cmd.opts();
  const flags: Partial<Record<SettingKey, unknown>> = {};
  for (const info of CONFIG_KEYS) {
    if (cmd.getOptionValueSource(info.flagAttr) === 'cli' && opts[info.flagAttr] !== undefined) {
      flags[info.key] = opts[info.flagAttr];
    }
  }
  return flags;
}

/**
 * Adds the options for `keys` (default: every setting) to a commander command, with help text
 * naming the environment variable and the default. No commander defaults are set, so the source
 * of each value stays known; values stay strings and loadConfig validates them.
 */
export function addSettingOptions(cmd: Command, keys: readonly SettingKey[] = CONFIG_KEYS.map((k) => k.key)): Command {
  for (const info of CONFIG_KEYS) {
    if (!keys.includes(info.key)) continue;
    const option = new Option(info.flags, `${info.description} [env ${info.env}; default ${info.defaultText}]`);
    if (info.value.kind === 'hosts') {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    cmd.addOption(option);
  }
  return cmd;
}

/** `--worker` is optional at load time; the mine command calls this before it connects. */
export function requireWorker(settings: Settings): string {
  if (settings.worker === undefined) {
    throw new UsageError('missing option --worker <name> (or CFX_MINER_WORKER, or "worker" in the config file): ' +
      'the worker name sent to the node; see cfx-miner --help');
  }
  return settings.worker;
}
