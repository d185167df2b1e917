// `cfx-miner secret`: keccak-256 of the password on stdin, one trailing newline stripped, no echo
// on a terminal. Checked against published vectors and an independent JS keccak (test/support).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cliPath, repoRoot } from './support/fixtures.js';
import { childEnv } from './support/miner-process.js';
import { keccak256Js } from './support/keccak-js.js';
import { waitFor } from './support/wait.js';

const EMPTY = 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';
const ABC = '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45';

function secret(input: string | Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, 'secret'], { input, cwd: repoRoot, env: childEnv(), encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the independent JS keccak agrees with the published vectors', () => {
  assert.equal(keccak256Js(new Uint8Array()), EMPTY);
  assert.equal(keccak256Js(Buffer.from('abc')), ABC);
});

test('prints keccak-256 of the password as 64 hex digits: published vectors', () => {
  for (const [input, want] of [['abc', ABC], ['abc\n', ABC], ['abc\r\n', ABC]] as const) {
    const r = secret(input);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${want}\n`, `input ${JSON.stringify(input)}`);
  }
});

test('only one trailing newline is stripped; other bytes, UTF-8 included, are the password', () => {
  const cases = [' pass word ', ' pass word \n', 'pässwörd-🙂', 'x'.repeat(200), 'a\r\n'];
  for (const input of cases) {
    const password = input.endsWith('\r\n') ? input.slice(0, -2) : input.endsWith('\n') ? input.slice(0, -1) : input;
    const r = secret(input);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), keccak256Js(Buffer.from(password, 'utf8')), `input ${JSON.stringify(input)}`);
  }
});

test('refuses an empty password: its keccak would let in any miner that sends none', () => {
  for (const input of ['', '\n', '\r\n']) {
    const r = secret(input);
    assert.equal(r.code, 2, `input ${JSON.stringify(input)}`);
    assert.equal(r.stdout, '', 'no secret printed');
    assert.equal(r.stderr, 'cfx-miner: the password is empty: its keccak-256 as stratum_secret would let in any miner that sends no password; choose a password\n');
    assert.ok(!r.stderr.includes(EMPTY));
  }
});

test('refuses a password with a control character (the miner would refuse it), without showing it', () => {
  // A second newline or a lone \r is left after the one line end is stripped; arrow keys typed at
  // the prompt arrive as escape sequences.
  const cases: [string, string][] = [['hunter2\n\n', 'U+000A, a newline, at the end'], ['hunter2\r', 'U+000D, a carriage return, at the end'],
    ['hun\tter2', 'U+0009, a tab)'], ['hunter2\u001b[D', 'U+001B, escape)'], ['hunter2\r\n\r\n', 'U+000D, a carriage return)']];
  for (const [input, described] of cases) {
    const r = secret(input);
    assert.equal(r.code, 2, `input ${JSON.stringify(input)}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
    assert.ok(r.stderr.startsWith(`cfx-miner: the password contains a control character (${described}`), r.stderr);
    assert.ok(!r.stderr.includes('hunter'), r.stderr);
  }
});

test('refuses invalid UTF-8 and over-long input as usage errors', () => {
  const bad = secret(Buffer.from([0x61, 0xff, 0x62]));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not valid UTF-8/);
  const long = secret('x'.repeat(5000));
  assert.equal(long.code, 2);
  assert.match(long.stderr, /longer than 4096 bytes/);
});

test('on a terminal the password is not echoed', { timeout: 20_000 }, async (t) => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript) {
    t.skip('SKIPPED: util-linux script (for a pseudo-terminal) is not installed');
    console.log('# SKIPPED: util-linux script (for a pseudo-terminal) is not installed');
    return;
  }
  // script(1) runs the command on a pseudo-terminal and relays our pipe to it as keystrokes.
  const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} secret`, '/dev/null'],
    { cwd: repoRoot, env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => { output += c; });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    // Only type once the prompt is up: raw mode (no echo) is on by then.
    await waitFor(() => output.includes('not shown'), 10_000, 'the password prompt');
    child.stdin.write('hunter2x\x7f\r');
    assert.equal(await exited, 0);
    assert.ok(!output.includes('hunter2'), `the typed password was echoed: ${JSON.stringify(output)}`);
    assert.ok(output.includes(keccak256Js(Buffer.from('hunter2'))), 'hash of the password with the backspaced x removed');
  } finally {
    child.kill('SIGKILL');
  }
});
