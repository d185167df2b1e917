// `cfx-miner hash` and `verify` as a user runs them: the real binary, the reference vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cliPath, loadVectors } from './support/fixtures.js';
import { ExitCode } from '../src/errors.js';

interface Run { code: number | null; stdout: string; stderr: string }

function runCli(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const vectors = loadVectors();

test('hash --batch reproduces every octopus and keccak vector, in order', async () => {
  const lines = vectors.filter((v) => v.kind === 'octopus' || v.kind === 'keccak');
  const input = lines
    .map((v) => JSON.stringify({ algo: v.kind, header: v.header, height: 'height' in v ? v.height : undefined, nonce: v.nonce }))
    .join('\n');
  const r = await runCli(['hash', '--batch'], input + '\n');
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { hash: string });
  assert.equal(out.length, lines.length);
  out.forEach((o, i) => assert.equal(o.hash, (lines[i] as { hash: string }).hash, `line ${i + 1}`));
});

test('hash prints 0x<hash> for single vectors of each algorithm', async () => {
  const oct = vectors.find((v) => v.kind === 'octopus' && v.height > 0)!;
  assert.equal(oct.kind, 'octopus');
  const r1 = await runCli(['hash', '--algo', 'octopus', '--header', oct.header, '--height', String(oct.height), '--nonce', oct.nonce]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.stdout, `${oct.hash}\n`);
  const kec = vectors.find((v) => v.kind === 'keccak')!;
  assert.equal(kec.kind, 'keccak');
  const r2 = await runCli(['hash', '--algo', 'keccak', '--header', kec.header, '--nonce', kec.nonce]);
  assert.equal(r2.stdout, `${kec.hash}\n`);
});

test('verify says valid (exit 0) or invalid (exit 5, not the failure status 1) by the strict boundary rule', async () => {
  const kec = vectors.find((v) => v.kind === 'keccak')!;
  assert.equal(kec.kind, 'keccak');
  const hash = BigInt(kec.hash);
  const base = ['verify', '--algo', 'keccak', '--header', kec.header, '--nonce', kec.nonce];
  const above = await runCli([...base, '--boundary', '0x' + (hash + 1n).toString(16)]);
  assert.deepEqual([above.code, above.stdout], [0, 'valid\n']);
  const equal = await runCli([...base, '--boundary', '0x' + hash.toString(16)]);
  assert.deepEqual([equal.code, equal.stdout], [ExitCode.invalid, 'invalid\n']);
  assert.equal(ExitCode.invalid, 5);
  assert.notEqual(ExitCode.invalid, ExitCode.failure);
});

test('bad input is one clear line on stderr and exit 2, never a crash', async () => {
  const header = '0x' + '11'.repeat(32);
  const cases: [string[], RegExp][] = [
    [['hash', '--algo', 'octopus', '--header', '0x1234', '--height', '0', '--nonce', '0x0'], /header must be 32 bytes/],
    [['hash', '--algo', 'octopus', '--header', '0x' + 'zz'.repeat(32), '--height', '0', '--nonce', '0x0'], /not hex/],
    [['hash', '--algo', 'octopus', '--header', header, '--height', '-5', '--nonce', '0x0'], /height/],
    [['hash', '--algo', 'octopus', '--header', header, '--height', '1099511627777', '--nonce', '0x0'], /height/],
    [['hash', '--algo', 'octopus', '--header', header, '--nonce', '0x0'], /--height is required/],
    [['hash', '--algo', 'keccak', '--header', header, '--nonce', '0x' + '1'.repeat(65)], /256 bits/],
    [['hash', '--algo', 'keccak', '--header', header, '--nonce', '-1'], /not hex/],
    [['verify', '--algo', 'keccak', '--header', header, '--nonce', '0x1', '--boundary', '0x0'], /boundary must not be 0/],
    [['hash', '--algo', 'sha256', '--header', header, '--nonce', '0x1'], /invalid|Allowed choices/],
    [['hash', '--unknown-flag'], /unknown option/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
});

test('hash --batch reports bad lines in place and exits 2', async () => {
  const kec = vectors.find((v) => v.kind === 'keccak')!;
  assert.equal(kec.kind, 'keccak');
  const good = JSON.stringify({ algo: 'keccak', header: kec.header, nonce: kec.nonce });
  const r = await runCli(['hash', '--batch'], [good, '[1,2]', '{"algo":"keccak","header":"0x12","nonce":"0x1"}', good].join('\n'));
  assert.equal(r.code, 2);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(out.length, 4);
  assert.equal(out[0]!.hash, kec.hash);
  assert.match(out[1]!.error!, /line 2: not a JSON object/);
  assert.match(out[2]!.error!, /line 3: header must be 32 bytes/);
  assert.equal(out[3]!.hash, kec.hash);
});
