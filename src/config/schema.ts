// Every setting the miner reads: its type, default, flag, environment variable and help text.
// The CLI's --help, the README table and the loader are all built from CONFIG_KEYS.
import os from 'node:os';
import { DEFAULT_PORT } from './hosts.js';
import { limits } from '../native/limits.js';

export type Algo = 'octopus' | 'keccak';
export type MiningMode = 'auto' | 'light' | 'full';

export interface Settings {
  /** Stratum nodes in failover order; each `host`, `host:port`, `[v6]` or `[v6]:port`. */
  hosts: string[];
  /** Port for hosts that do not name their own. */
  port: number;
  /** Optional at load time; the mine command requires it (requireWorker). */
  worker: string | undefined;
  password: string;
  threads: number;
  algo: Algo;
  mode: MiningMode;
  /** Block height for nodes that send the old three-param mining.notify. */
  height: number | undefined;
  /** The stats API is off unless a port is given. */
  httpPort: number | undefined;
  httpHost: string;
  httpToken: string | undefined;
  /** Host header names the stats API answers besides loopback and its bound address. */
  httpAllowHost: string[];
  logJson: boolean;
  quiet: boolean;
  verbose: boolean;
  /** undefined: colour when stderr is a terminal and NO_COLOR is unset. */
  color: boolean | undefined;
  hugePages: boolean;
  requestTimeoutMs: number;
  printIntervalS: number;
}

export type SettingKey = keyof Settings;
export type SettingSource = 'flag' | 'env' | 'file' | 'default';

/** How a value is written in each source and what makes it valid. */
export type ValueKind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'string'; allowEmpty: boolean; maxBytes: number }
  | { kind: 'bool' }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'hosts' };

export interface ConfigKeyInfo {
  key: SettingKey;
  /** Commander flags string, e.g. `'-t, --threads <n>'` or `'--no-color'`. */
  flags: string;
  /** The long flag alone, for messages: `'--threads'`, `'--no-color'`. */
  flagName: string;
  /** The property commander stores the value under: `'threads'`, `'host'` for --host, `'color'` for --no-color. */
  flagAttr: string;
  env: string;
  value: ValueKind;
  /** The default; a function when it depends on the machine. undefined means unset. */
  defaultValue: () => unknown;
  /** The default as help text shows it. */
  defaultText: string;
  description: string;
  /** Never printed: masked in maskedSettings and in error messages. */
  secret: boolean;
}

export const ENV_PREFIX = 'CFX_MINER_';
/**
 * Environment variables with our prefix that are not settings, so they are not reported as typos:
 * the config file's name, the AVX-512, AMX, AVX2 and prefetch switches (native/core/cpu.cc), and the two switches of the
 * opt-in full-dataset test (test/full-dataset.test.ts), which a developer may leave set while other
 * tests start miners.
 */
export const NON_SETTING_ENV = [
  'CFX_MINER_CONFIG', 'CFX_MINER_FULL_TESTS', 'CFX_MINER_FULL_STAGES', 'CFX_MINER_NO_AVX512',
  'CFX_MINER_NO_AMX', 'CFX_MINER_NO_AVX2', 'CFX_MINER_PREFETCH',
] as const;
function defaultThreads(): number {
  return Math.min(limits().maxThreads, Math.max(1, os.availableParallelism()));
}

type KeySpec = Omit<ConfigKeyInfo, 'key' | 'flagName' | 'flagAttr' | 'env' | 'secret' | 'flags'> & {
  flags?: string;
  short?: string;
  arg?: string;
  env?: string;
  secret?: boolean;
};

const int = (min: number, max: number): ValueKind => ({ kind: 'int', min, max });
/**
 * A bound the native core sets (native/core/params.h): read from the addon when a value is
 * checked, so --help and other settings' usage errors do not need a loadable addon.
 */
const nativeInt = (min: number, max: () => number): ValueKind => ({ kind: 'int', min, get max() { return max(); } });
/**
 * Every string setting has a length bound: it travels in every subscribe line, and no sane
 * password, token or address comes near 1 KiB (the node's own line limit is far above it).
 */
export const MAX_STRING_BYTES = 1024;
/** A worker name is a label in the node's log and in every submit; 256 bytes is plenty. */
export const MAX_WORKER_BYTES = 256;
const str = (allowEmpty = false, maxBytes = MAX_STRING_BYTES): ValueKind => ({ kind: 'string', allowEmpty, maxBytes });
const bool: ValueKind = { kind: 'bool' };
const constant = (v: unknown) => () => v;
/** An on/off switch: `--name` (or `flags`, e.g. `--no-name`) with its default and help text. */
const toggle = (defaultValue: boolean | undefined, description: string, more: Partial<KeySpec> = {}): KeySpec => ({
  value: bool, defaultValue: constant(defaultValue), defaultText: String(defaultValue), description, ...more,
});

// Display order is the --help order.
const SPECS: { [K in SettingKey]: KeySpec } = {
  hosts: {
    flags: '-o, --host <host>', env: 'CFX_MINER_HOST', value: { kind: 'hosts' },
    defaultValue: constant(['127.0.0.1']), defaultText: '127.0.0.1',
    description: 'stratum node, host or host:port; repeat for failover (env: comma-separated)',
  },
  port: {
    arg: '<port>', value: int(1, 65535), defaultValue: constant(DEFAULT_PORT), defaultText: String(DEFAULT_PORT),
    description: 'stratum port for hosts given without one',
  },
  worker: {
    short: '-u', arg: '<name>', value: str(false, MAX_WORKER_BYTES), defaultValue: constant(undefined), defaultText: 'none',
    description: 'worker name sent in mining.subscribe (required to mine)',
  },
  password: {
    short: '-p', arg: '<password>', value: str(true), defaultValue: constant(''), defaultText: 'empty',
    secret: true,
    description: 'stratum password; prefer CFX_MINER_PASSWORD or the config file (flags show in ps)',
  },
  threads: {
    short: '-t', arg: '<n>', value: nativeInt(1, () => limits().maxThreads), defaultValue: defaultThreads,
    defaultText: 'number of CPUs', description: 'search threads',
  },
  algo: {
    arg: '<algo>', value: { kind: 'enum', choices: ['octopus', 'keccak'] },
    defaultValue: constant('octopus'), defaultText: 'octopus',
    description: 'proof of work: octopus (mainnet) or keccak (test nodes)',
  },
  mode: {
    arg: '<mode>', value: { kind: 'enum', choices: ['auto', 'light', 'full'] },
    defaultValue: constant('auto'), defaultText: 'auto',
    description: 'full builds the multi-GiB dataset, light hashes from the cache; auto picks by free memory',
  },
  height: {
    arg: '<n>', value: nativeInt(0, () => limits().maxHeight), defaultValue: constant(undefined), defaultText: 'none',
    description: 'block height for nodes that send mining.notify without one',
  },
  httpPort: {
    arg: '<port>', value: int(0, 65535), defaultValue: constant(undefined), defaultText: 'off',
    description: 'serve the read-only stats API (/summary, /metrics) on this port (0: any free port, logged)',
  },
  httpHost: {
    arg: '<addr>', value: str(), defaultValue: constant('127.0.0.1'), defaultText: '127.0.0.1',
    description: 'address the stats API binds to',
  },
  httpToken: {
    arg: '<token>', value: str(), defaultValue: constant(undefined), defaultText: 'none', secret: true,
    description: 'require Authorization: Bearer <token> on the stats API',
  },
  httpAllowHost: {
    arg: '<name>', value: { kind: 'hosts' }, defaultValue: constant([]), defaultText: 'none',
    description: 'also answer stats API requests whose Host header is this name (name:port: that port only), ' +
      'e.g. a reverse proxy\'s; loopback names and --http-host always work; repeat (env: comma-separated)',
  },
  logJson: toggle(false, 'log one JSON object per line on stderr'),
  quiet: toggle(false, 'log warnings and errors only', { short: '-q' }),
  verbose: toggle(false, 'log debug lines too', { short: '-v' }),
  color: toggle(undefined, 'no colours in log lines (NO_COLOR is respected too)', {
    flags: '--no-color', defaultText: 'when stderr is a terminal',
  }),
  hugePages: toggle(true, 'do not try huge pages for the dataset', { flags: '--no-huge-pages' }),
  requestTimeoutMs: {
    arg: '<ms>', value: int(100, 600_000), defaultValue: constant(10_000), defaultText: '10000',
    description: 'how long to wait for a stratum reply before treating the node as gone',
  },
  printIntervalS: {
    arg: '<s>', value: int(1, 3600), defaultValue: constant(10), defaultText: '10',
    description: 'seconds between hashrate lines',
  },
};

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function upperSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

function buildInfo(key: SettingKey, spec: KeySpec): ConfigKeyInfo {
  const long = `--${kebab(key)}`;
  const flags = spec.flags ?? [spec.short, spec.arg ? `${long} ${spec.arg}` : long].filter(Boolean).join(', ');
  const flagName = flags.split(/[ ,]+/).find((part) => part.startsWith('--')) ?? long;
  // Commander stores `--no-x` under `x` and `--some-flag` under `someFlag`.
  const flagAttr = flagName.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return {
    key,
    flags,
    flagName,
    flagAttr,
    env: spec.env ?? ENV_PREFIX + upperSnake(key),
    value: spec.value,
    defaultValue: spec.defaultValue,
    defaultText: spec.defaultText,
    description: spec.description,
    secret: spec.secret ?? false,
  };
}

export const CONFIG_KEYS: readonly ConfigKeyInfo[] = Object.freeze(
  (Object.keys(SPECS) as SettingKey[]).map((key) => Object.freeze(buildInfo(key, SPECS[key]))),
);

export function configKey(key: SettingKey): ConfigKeyInfo {
  const info = CONFIG_KEYS.find((k) => k.key === key);
  if (!info) throw new TypeError(`unknown setting ${key}`);
  return info;
}

/** What a valid value looks like, for error messages: `'a whole number from 1 to 65535'`. */
export function expectation(kind: ValueKind): string {
  switch (kind.kind) {
    case 'int': return `a whole number from ${kind.min} to ${kind.max}`;
    case 'string': return `${kind.allowEmpty ? 'a string' : 'a non-empty string'} of at most ${kind.maxBytes} bytes`;
    case 'bool': return 'true or false';
    case 'enum': return `one of ${kind.choices.join(', ')}`;
    case 'hosts': return 'a list of host or host:port entries';
  }
}

/** A copy safe to print: the password and the API token become '***' when set. */
export function maskedSettings(settings: Settings): Settings {
  return {
    ...settings,
    hosts: [...settings.hosts],
    password: settings.password === '' ? '' : '***',
    httpToken: settings.httpToken === undefined ? undefined : '***',
  };
}

