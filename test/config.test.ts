import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { addSettingOptions, flagsFromCommander, loadConfig, requireWorker } from '../src/config/load.js';
import { CONFIG_KEYS, maskedSettings } from '../src/config/schema.js';
import { DEFAULT_PORT, parseHostSpec } from '../src/config/hosts.js';
import { limits } from '../src/native/index.js';

let dir = '';
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-miner-config-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

/** Asserts a UsageError whose message contains every fragment. */
function usageError(fn: () => unknown, ...fragments: string[]): string {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  assert.ok(caught instanceof UsageError, `expected a UsageError, got ${String(caught)}`);
  assert.equal(caught.exitCode, 2);
  assert.ok(!caught.message.includes('\n'), 'one line');
  for (const f of fragments) assert.ok(caught.message.includes(f), `"${caught.message}" should mention ${f}`);
  return caught.message;
}

describe('precedence', () => {
  it('takes flags over env over file over defaults, and reports each source', () => {
    const configPath = file('precedence.json', { threads: 2, port: 4000, worker: 'from-file', algo: 'keccak' });
    const { settings, sources } = loadConfig({
      flags: { threads: '7' },
      env: { CFX_MINER_THREADS: '5', CFX_MINER_PORT: '5000' },
      configPath,
    });
    assert.equal(settings.threads, 7);
    assert.equal(sources.threads, 'flag');
    assert.equal(settings.port, 5000);
    assert.equal(sources.port, 'env');
    assert.equal(settings.worker, 'from-file');
    assert.equal(sources.worker, 'file');
    assert.equal(settings.algo, 'keccak');
    assert.equal(sources.algo, 'file');
    assert.equal(settings.mode, 'auto');
    assert.equal(sources.mode, 'default');
    assert.equal(settings.requestTimeoutMs, 10_000);
    assert.equal(sources.requestTimeoutMs, 'default');
  });

  it('has the documented defaults', () => {
    const { settings, sources, configPath, warnings } = loadConfig({ env: {} });
    assert.deepEqual(settings, {
      hosts: ['127.0.0.1'], port: 32525, worker: undefined, password: '', threads: Math.min(limits().maxThreads, os.availableParallelism()),
      algo: 'octopus', mode: 'auto', height: undefined, httpPort: undefined, httpHost: '127.0.0.1',
      httpToken: undefined, httpAllowHost: [], logJson: false, quiet: false, verbose: false, color: undefined, hugePages: true,
      requestTimeoutMs: 10_000, printIntervalS: 10,
    });
    assert.ok(Object.values(sources).every((s) => s === 'default'));
    assert.equal(configPath, undefined);
    assert.deepEqual(warnings, []);
  });

  it('CFX_MINER_THREADS=3 yields 3 whatever the core count', () => {
    const { settings, sources } = loadConfig({ env: { CFX_MINER_THREADS: '3' } });
    assert.equal(settings.threads, 3);
    assert.equal(sources.threads, 'env');
  });

  it('reads hosts from a comma list in env, a list in the file, and repeated flags', () => {
    assert.deepEqual(loadConfig({ env: { CFX_MINER_HOST: 'a, b:1 ,[::1]:2' } }).settings.hosts, ['a', 'b:1', '[::1]:2']);
    const configPath = file('hosts.json', { hosts: ['n1', 'n2:32526'] });
    assert.deepEqual(loadConfig({ env: {}, configPath }).settings.hosts, ['n1', 'n2:32526']);
    const fromFlags = loadConfig({ flags: { hosts: ['x', 'y'] }, env: { CFX_MINER_HOST: 'z' }, configPath });
    assert.deepEqual(fromFlags.settings.hosts, ['x', 'y']);
    assert.equal(fromFlags.sources.hosts, 'flag');
  });

  it('parses booleans from env words and from typed flags; empty env means unset', () => {
    const { settings, sources } = loadConfig({
      flags: { hugePages: false },
      env: { CFX_MINER_LOG_JSON: 'yes', CFX_MINER_COLOR: '0', CFX_MINER_HEIGHT: '' },
    });
    assert.equal(settings.logJson, true);
    assert.equal(settings.color, false);
    assert.equal(settings.hugePages, false);
    assert.equal(sources.hugePages, 'flag');
    assert.equal(settings.height, undefined);
    assert.equal(sources.height, 'default');
  });

  it('finds the file through CFX_MINER_CONFIG when no path is given', () => {
    const configPath = file('via-env.json', { worker: 'w1' });
    const loaded = loadConfig({ env: { CFX_MINER_CONFIG: configPath } });
    assert.equal(loaded.settings.worker, 'w1');
    assert.equal(loaded.configPath, configPath);
  });
});

describe('bad input', () => {
  it('rejects an unknown key in the file, naming it and the file, with a suggestion', () => {
    const configPath = file('unknown.json', { thread: 4 });
    usageError(() => loadConfig({ env: {}, configPath }), 'unknown.json', '"thread"', 'did you mean "threads"');
  });

  it('rejects wrong types in the file', () => {
    const cases: [unknown, string][] = [
      [{ threads: 'x' }, `"threads" must be a whole number from 1 to ${limits().maxThreads}, got "x"`],
      [{ threads: 2.5 }, 'got 2.5'],
      [{ threads: 0 }, 'got 0'],
      [{ port: 70000 }, '"port" must be a whole number from 1 to 65535'],
      [{ logJson: 'true' }, '"logJson" must be true or false'],
      [{ algo: 'ethash' }, '"algo" must be one of octopus, keccak'],
      [{ worker: '' }, '"worker" must be a non-empty string'],
      [{ hosts: [1] }, '"hosts" must be a list'],
      [{ hosts: ['bad host'] }, '"hosts": bad node address "bad host"'],
    ];
    for (const [content, fragment] of cases) {
      const configPath = file('wrong-type.json', content);
      usageError(() => loadConfig({ env: {}, configPath }), `config file ${configPath}: `, fragment);
    }
  });

  it('rejects wrong values in env and flags, naming the variable or the option', () => {
    usageError(() => loadConfig({ env: { CFX_MINER_THREADS: 'four' } }), 'environment variable CFX_MINER_THREADS', 'got "four"');
    usageError(() => loadConfig({ env: { CFX_MINER_THREADS: '0x10' } }), 'CFX_MINER_THREADS', 'got "0x10"');
    usageError(() => loadConfig({ env: { CFX_MINER_HEIGHT: '9007199254740993' } }), 'CFX_MINER_HEIGHT');
    usageError(() => loadConfig({ env: { CFX_MINER_HUGE_PAGES: 'maybe' } }), 'CFX_MINER_HUGE_PAGES', 'got "maybe"');
    usageError(() => loadConfig({ env: { CFX_MINER_MODE: 'fast' } }), 'CFX_MINER_MODE', 'one of auto, light, full');
    usageError(() => loadConfig({ flags: { threads: '1025' }, env: {} }), 'option --threads', 'got "1025"');
    usageError(() => loadConfig({ flags: { httpPort: 65536 }, env: {} }), 'option --http-port', 'got 65536');
    assert.equal(loadConfig({ flags: { httpPort: 0 }, env: {} }).settings.httpPort, 0, 'port 0 asks for any free port');
  });

  it('never echoes a mistyped secret', () => {
    const configPath = file('secret.json', { password: 123456789 });
    const message = usageError(() => loadConfig({ env: {}, configPath }), '"password" must be a string', 'got a number');
    assert.ok(!message.includes('123456789'));
  });

  it('refuses control characters (C0, DEL, C1) in the worker, the password and the token, from every source', () => {
    const settings = [['worker', '--worker', 'CFX_MINER_WORKER'], ['password', '--password', 'CFX_MINER_PASSWORD'],
      ['httpToken', '--http-token', 'CFX_MINER_HTTP_TOKEN']] as const;
    const bad: [string, string][] = [['hunter2\n', 'U+000A, a newline, at the end'], ['hun\u001b[31mter2', 'U+001B, escape)'],
      ['hunter\u007f2', 'U+007F, DEL)'], ['hunter\u009b2', 'U+009B)'], ['\u0000hunter2', 'U+0000, NUL)'], ['hunter2\r\n', 'U+000D, a carriage return)']];
    for (const [key, flag, env] of settings) {
      for (const [value, described] of bad) {
        const fromFile = file('control.json', { [key]: value });
        for (const [load, where] of [
          [() => loadConfig({ flags: { [key]: value }, env: {} }), `option ${flag}: `],
          [() => loadConfig({ env: { [env]: value } }), `environment variable ${env}: `],
          [() => loadConfig({ env: {}, configPath: fromFile }), `config file ${fromFile}: `],
        ] as const) {
          const message = usageError(load, where, `"${key}" contains a control character (${described}`);
          assert.ok(!message.includes('hunter'), `the value is not shown: ${message}`);
          assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(message), 'the message itself has no control character');
        }
      }
      // Printable text, spaces and non-ASCII letters included, is fine.
      assert.equal(loadConfig({ env: { [env]: ' pässwörd 🙂 ' } }).settings[key], ' pässwörd 🙂 ');
    }
    usageError(() => loadConfig({ env: { CFX_MINER_HOST: '10.0.0.2\u001b[2J' } }), 'CFX_MINER_HOST', '"hosts" contains a control character (U+001B');
  });

  it('rejects --quiet together with --verbose', () => {
    usageError(() => loadConfig({ flags: { verbose: true }, env: { CFX_MINER_QUIET: '1' } }), 'quiet (from env)', 'verbose (from flag)');
  });

  it('names the file when it is missing, not JSON, or not an object', () => {
    const missing = path.join(dir, 'nope.json');
    usageError(() => loadConfig({ env: {}, configPath: missing }), `config file ${missing}: not found`);
    const broken = file('broken.json', '{"threads": 4,');
    usageError(() => loadConfig({ env: {}, configPath: broken }), `config file ${broken}: not valid JSON`);
    const list = file('list.json', '[1, 2]');
    usageError(() => loadConfig({ env: {}, configPath: list }), `config file ${list}: must be a JSON object`);
    usageError(() => loadConfig({ env: {}, configPath: dir }), `config file ${dir}: is a directory`);
  });

  it('warns about CFX_MINER_* variables that are not settings', () => {
    const { warnings } = loadConfig({ env: { CFX_MINER_THREAD: '2', CFX_MINER_FULL_TESTS: '1', OTHER: 'x' } });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /CFX_MINER_THREAD is not a setting.*did you mean CFX_MINER_THREADS\?/);
  });
});

describe('helpers', () => {
  it('masks the password and the API token for printing, and leaves the original alone', () => {
    const { settings } = loadConfig({ env: { CFX_MINER_PASSWORD: 'hunter2', CFX_MINER_HTTP_TOKEN: 'tok' } });
    const masked = maskedSettings(settings);
    assert.equal(masked.password, '***');
    assert.equal(masked.httpToken, '***');
    assert.equal(settings.password, 'hunter2');
    assert.ok(!JSON.stringify(masked).includes('hunter2'));
    const plain = maskedSettings(loadConfig({ env: {} }).settings);
    assert.equal(plain.password, '');
    assert.equal(plain.httpToken, undefined);
  });

  it('requires a worker only when asked', () => {
    usageError(() => requireWorker(loadConfig({ env: {} }).settings), '--worker', 'CFX_MINER_WORKER');
    assert.equal(requireWorker(loadConfig({ env: { CFX_MINER_WORKER: 'rig1' } }).settings), 'rig1');
  });

  it('splits host entries', () => {
    assert.deepEqual(parseHostSpec('node'), { host: 'node', port: DEFAULT_PORT });
    assert.deepEqual(parseHostSpec('node:1234', 32525), { host: 'node', port: 1234 });
    assert.deepEqual(parseHostSpec('stratum+tcp://10.0.0.2:4444', 1), { host: '10.0.0.2', port: 4444 });
    assert.deepEqual(parseHostSpec('[::1]:5', 1), { host: '::1', port: 5 });
    assert.deepEqual(parseHostSpec('::1', 7), { host: '::1', port: 7 });
    assert.throws(() => parseHostSpec('node:99999', 1), UsageError);
    assert.throws(() => parseHostSpec(':80', 1), UsageError);
  });

  it('reads --http-allow-host from a comma list in env, a list in the file, and repeated flags', () => {
    const env = { CFX_MINER_HTTP_ALLOW_HOST: 'miner.example, proxy.example:8443 ,[fd00::1]:80' };
    assert.deepEqual(loadConfig({ env }).settings.httpAllowHost, ['miner.example', 'proxy.example:8443', '[fd00::1]:80']);
    const configPath = file('allow.json', { httpAllowHost: ['a.example'] });
    assert.deepEqual(loadConfig({ env: {}, configPath }).settings.httpAllowHost, ['a.example']);
    const cmd = addSettingOptions(new Command().exitOverride());
    cmd.parse(['--http-allow-host', 'x.example', '--http-allow-host', 'y.example:1'], { from: 'user' });
    const fromFlags = loadConfig({ flags: flagsFromCommander(cmd), env, configPath });
    assert.deepEqual([fromFlags.settings.httpAllowHost, fromFlags.sources.httpAllowHost], [['x.example', 'y.example:1'], 'flag']);
    assert.throws(() => loadConfig({ env: { CFX_MINER_HTTP_ALLOW_HOST: 'bad name' } }),
      (err: unknown) => err instanceof UsageError && err.message.includes('CFX_MINER_HTTP_ALLOW_HOST') && err.message.includes('"bad name"'));
    assert.throws(() => loadConfig({ env: {}, configPath: file('allow-bad.json', { httpAllowHost: [7] }) }), UsageError);
  });

  it('describes every setting once, with a flag and an environment variable', () => {
    assert.equal(new Set(CONFIG_KEYS.map((k) => k.key)).size, 19);
    assert.equal(new Set(CONFIG_KEYS.map((k) => k.flagName)).size, CONFIG_KEYS.length);
    assert.equal(new Set(CONFIG_KEYS.map((k) => k.env)).size, CONFIG_KEYS.length);
    const threads = CONFIG_KEYS.find((k) => k.key === 'threads')!;
    assert.equal(threads.flagName, '--threads');
    assert.equal(threads.env, 'CFX_MINER_THREADS');
    assert.equal(CONFIG_KEYS.find((k) => k.key === 'printIntervalS')!.env, 'CFX_MINER_PRINT_INTERVAL_S');
  });

  it('wires into commander: only typed flags count, --no-color and repeated --host included', () => {
    const cmd = addSettingOptions(new Command().exitOverride());
    cmd.parse(['--host', 'a', '-o', 'b:2', '--no-color', '-t', '3', '--http-port', '8080'], { from: 'user' });
    const flags = flagsFromCommander(cmd);
    assert.deepEqual(flags, { hosts: ['a', 'b:2'], color: false, threads: '3', httpPort: '8080' });
    const { settings, sources } = loadConfig({ flags, env: {} });
    assert.equal(settings.threads, 3);
    assert.equal(settings.httpPort, 8080);
    assert.equal(settings.color, false);
    assert.equal(sources.hugePages, 'default', '--no-huge-pages not given, so its commander default does not count');
  });
});
