// Input hygiene (issue 21): what an operator sees when a setting, a config file or the command
// line itself is wrong. Every case runs the real CLI and looks at its exit code and stderr.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './support/fixtures.js';
import { limits } from '../src/native/index.js';
import { childEnv, runCli, usageLine } from './support/miner-process.js';

let dir = '';
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-miner-input-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

describe('control characters in the worker name, the password and the token', { timeout: 60_000 }, () => {
  it('a worker name with a newline and an escape sequence never reaches the node', async () => {
    const r = await runCli(['--host', '127.0.0.1:1', '--worker', 'rig1\n\u001b[31mfake', '--algo', 'keccak']);
    usageLine(r, 'option --worker', '"worker" contains a control character (U+000A, a newline)');
    assert.ok(!r.stderr.includes('connecting'), 'stopped before connecting');
  });

  it('a password from CFX_MINER_PASSWORD with a trailing newline is refused without being shown', async () => {
    const r = await runCli(['--host', '127.0.0.1:1', '--worker', 'rig1', '--algo', 'keccak'],
      { env: { CFX_MINER_PASSWORD: 'hunter2-secret\n' } });
    const line = usageLine(r, 'environment variable CFX_MINER_PASSWORD', 'U+000A, a newline, at the end');
    assert.ok(!line.includes('hunter2'), line);
  });

  it('a token from the config file with a trailing newline is refused without being shown', async () => {
    const configPath = path.join(dir, 'token.json');
    writeFileSync(configPath, JSON.stringify({ worker: 'rig1', httpToken: 'tok-3f9a1c\r\n' }));
    const r = await runCli(['--host', '127.0.0.1:1', '--algo', 'keccak', '--http-port', '0', '--config', configPath]);
    const line = usageLine(r, `config file ${configPath}`, '"httpToken" contains a control character (U+000D');
    assert.ok(!line.includes('tok-3f9a1c'), line);
  });

  it('a token given with --http-token is checked too', async () => {
    const r = await runCli(['config', '--http-token', 'tok-3f9a1c\u0085']);
    const line = usageLine(r, 'option --http-token', 'U+0085, at the end');
    assert.ok(!line.includes('tok-3f9a1c'), line);
  });
});

describe('a config file that is not a regular file', { timeout: 60_000 }, () => {
  let fifo = '';
  before(() => {
    fifo = path.join(dir, 'settings.fifo');
    const made = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
    assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
  });

  // Nobody ever writes to the FIFO: before the fix the miner hung in open() until someone did.
  // runCli's deadline (10 s) turns a hang into a failure.
  it('a FIFO is refused at once, from --config and from CFX_MINER_CONFIG', async () => {
    usageLine(await runCli(['--worker', 'rig1', '--config', fifo]), `config file ${fifo}: is a FIFO (named pipe), not a regular file`);
    usageLine(await runCli(['config'], { env: { CFX_MINER_CONFIG: fifo } }), `config file ${fifo}: is a FIFO`);
  });

  it('/dev/zero and a directory are refused at once', async () => {
    usageLine(await runCli(['config', '--config', '/dev/zero']), 'config file /dev/zero: is a character device, not a regular file');
    usageLine(await runCli(['config', '--config', dir]), `config file ${dir}: is a directory, not a regular file`);
  });

  it('the check after the open refuses a FIFO on its own, without blocking (a path replaced after the first check)', () => {
    // In a child with a deadline: an open() that blocks would stop this process's timers too.
    const loader = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'config', 'load.js')).href;
    const script = `import { readRegularFile } from ${JSON.stringify(loader)};
      try { readRegularFile(process.argv[1]); console.log('read it'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, fifo], { encoding: 'utf8', env: childEnv(), timeout: 10_000 });
    assert.equal(r.error, undefined, 'finished before the deadline');
    assert.equal(r.stdout.trim(), `UsageError: config file ${fifo}: is a FIFO (named pipe), not a regular file; give the path of a JSON file`);
  });
});

describe("commander's own errors: one cfx-miner line that points to --help", { timeout: 120_000 }, () => {
  it('an unknown option, with a suggestion', async () => {
    const line = usageLine(await runCli(['--thread', '2', '--worker', 'rig1']));
    assert.equal(line, "cfx-miner: unknown option '--thread' (did you mean --threads?); see cfx-miner --help");
  });

  it("a subcommand's unknown option points to that subcommand's --help", async () => {
    const line = usageLine(await runCli(['config', '--thread', '2']));
    assert.equal(line, "cfx-miner: unknown option '--thread' (did you mean --threads?); see cfx-miner config --help");
    usageLine(await runCli(['hash', '--bogus']), "unknown option '--bogus'; see cfx-miner hash --help");
  });

  it('an unknown option never shows the value typed with it', async () => {
    const long = usageLine(await runCli(['--pasword=hunter2-secret', '--worker', 'rig1']));
    assert.equal(long, "cfx-miner: unknown option '--pasword' (did you mean --password?); see cfx-miner --help");
    const short = usageLine(await runCli(['-Phunter2-secret', '--worker', 'rig1']));
    assert.equal(short, "cfx-miner: unknown option '-P'; see cfx-miner --help");
  });

  it('an option without its value', async () => {
    const line = usageLine(await runCli(['--worker', 'rig1', '--threads']));
    assert.equal(line, "cfx-miner: option '-t, --threads <n>' argument missing; see cfx-miner --help");
  });

  it('a value outside the choices', async () => {
    usageLine(await runCli(['bench', '--mode', 'fast']), "argument 'fast' is invalid. Allowed choices are light, full, all; see cfx-miner bench --help");
  });

  it('bench reads --threads through the settings schema: the line mining gives for the same value, before any work', async () => {
    for (const bad of ['0', String(limits().maxThreads + 1), 'abc', '0x10']) {
      const mining = usageLine(await runCli(['--worker', 'rig1', '--threads', bad]), 'option --threads', `from 1 to ${limits().maxThreads}`);
      assert.equal(usageLine(await runCli(['bench', '--threads', bad, '--json'])), mining);
    }
  });

  it('a bare stratum+tcp:// address suggests --host with exactly that address, which --host accepts', async () => {
    const address = 'stratum+tcp://127.0.0.1:3333';
    const line = usageLine(await runCli([address, '--worker', 'rig1']));
    assert.equal(line, `cfx-miner: unexpected argument '${address}': give the node with --host ${address}; see cfx-miner --help`);
    const followed = await runCli(['config', '--host', address, '--worker', 'rig1']);
    assert.equal(followed.code, 0, followed.stderr);
    assert.deepEqual((JSON.parse(followed.stdout) as { settings: { hosts: string[] } }).settings.hosts, [address]);
  });

  it('any other stray argument is not shown (it may be a password with a space in it)', async () => {
    const root = usageLine(await runCli(['--worker', 'rig1', '--password', 'hunter2', 'secret-part']),
      'unexpected argument', 'a command first (config, bench, secret, hash, verify); see cfx-miner --help');
    assert.ok(!root.includes('secret-part'), root);
    const sub = usageLine(await runCli(['config', 'secret-part']), 'unexpected argument to config', 'see cfx-miner config --help');
    assert.ok(!sub.includes('secret-part'), sub);
  });

  it('a mistyped command gets a suggestion', async () => {
    assert.equal(usageLine(await runCli(['secrte'])), "cfx-miner: unknown command 'secrte' (did you mean secret?); see cfx-miner --help");
    usageLine(await runCli(['help']), 'there is no help command: use --help');
  });

  it('an option with a control character is shown escaped', async () => {
    usageLine(await runCli(['--fo\u001b[2Jo']), "unknown option '--fo\\u001b[2Jo'");
    // A node address is quoted in parseHostSpec's own message (JSON, which leaves C1 as it is).
    usageLine(await runCli(['stratum+ssl://node\u009b2J:3333']), 'not valid', 'TLS is not supported', 'node\\u009b2J');
  });

  it('--help and --version still print on stdout and exit 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: cfx-miner /);
    assert.equal(help.stderr, '');
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
