// The package as users get it. `npm pack`, then `npm install -g` from the tarball with a PATH
// that holds node, npm and sh but no compiler, make or python3; then the installed `cfx-miner`:
// --version, reference hashes, and mining against the test node. Then the HiveOS and mmpOS
// packages made from the same tarball (scripts/rig-package.sh), unpacked and run as the OS
// would: h-config.sh turns a flight sheet into a config the miner accepts, h-run.sh and
// cfx-miner.sh mine with it, h-stats.sh and mmp-stats.sh report what the stats API says.
//
// The prebuilt addon must exist (`npm test` runs `npm run build:prebuild` first). The rig
// scripts need jq and curl (HiveOS and mmpOS have both; .ci/run installs them): without them
// those tests skip, loudly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadVectors, repoRoot } from './support/fixtures.js';
import { runCommand } from './support/run.js';
import type { RunResult } from './support/run.js';
import { TestNode } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import type { MinerProcess } from './support/miner-process.js';
import { freePort } from './support/net.js';
import { pollUntil, waitFor } from './support/wait.js';

const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const TARGET = `${process.platform}-${process.arch}`;
const STEP_MS = 120_000;
const SOLUTION_WAIT_MS = 60_000;

function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return runCommand(command, args, { ...options, timeoutMs: options.timeoutMs ?? STEP_MS });
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function skipWithout(...names: string[]): string | false {
  const missing = names.filter((n) => onPath(n) === undefined);
  if (missing.length === 0) return false;
  const reason = `SKIPPED: ${missing.join(' and ')} not installed (HiveOS and mmpOS have them; .ci/run installs them)`;
  console.log(`# ${reason}`);
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
}

const rigSkip = skipWithout('jq', 'curl');

/**
 * Debian 11's C and C++ libraries (glibc 2.31, libstdc++ from GCC 10: those of Ubuntu 20.04, which
 * HiveOS images are built on), made by scripts/sysroot.sh amd64; the prebuild is linked against
 * them (scripts/prebuild.sh). The installed miner runs on them through their own dynamic loader.
 */
const SYSROOT = path.join(repoRoot, '.cache', 'sysroot', 'bullseye-amd64');
const OLD_LOADER = path.join(SYSROOT, 'lib64', 'ld-linux-x86-64.so.2');
const oldLibsSkip = ((): string | false => {
  if (TARGET !== 'linux-x64') return `SKIPPED: the glibc 2.31 run is for linux-x64 (here ${TARGET})`;
  if (existsSync(OLD_LOADER)) return false;
  const reason = `SKIPPED: no glibc 2.31 sysroot at ${SYSROOT} (scripts/sysroot.sh amd64 makes it; .ci/run does)`;
  console.log(`# ${reason}`);
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
})();

/** This Node with `args`, on Debian 11's libraries instead of the system's. */
function onOldLibs(...args: string[]): string[] {
  const libs = [path.join(SYSROOT, 'lib', 'x86_64-linux-gnu'), path.join(SYSROOT, 'usr', 'lib', 'x86_64-linux-gnu')];
  return [OLD_LOADER, '--library-path', libs.join(':'), process.execPath, ...args];
}

/** npm's own script: the one running this test under `npm test`, else the npm on the PATH. */
function npmCli(): string {
  const fromNpm = process.env['npm_execpath'];
  if (fromNpm && /npm-cli\.js$/.test(fromNpm)) return fromNpm;
  const npm = onPath('npm');
  if (!npm) throw new Error('npm is not on the PATH');
  return realpathSync(npm);
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: ${res.statusCode} ${body}`));
        try { resolve(JSON.parse(body)); } catch (err) { reject(err instanceof Error ? err : new Error(String(err))); }
      });
    }).on('error', reject);
  });
}

interface Summary {
  version: string; uptime_s: number; algo: string; threads: number;
  hashrate: { '10s': number | null; threads: Array<number | null> };
  shares: { accepted: number; rejected: number; stale: number };
}

/** /summary once the 10 s window has data, so the stats scripts have a hashrate to report. */
function summaryWithHashrate(port: number, miner: MinerProcess): Promise<Summary> {
  return pollUntil(async () => {
    const s = await getJson(`http://127.0.0.1:${port}/summary`).catch(() => undefined) as Summary | undefined;
    return s && s.hashrate['10s'] !== null && s.hashrate['10s'] > 0 ? s : undefined;
  }, 30_000, `a hashrate on the stats API at port ${port}`, { intervalMs: 200, giveUp: () => miner.exitInfo !== undefined });
}

/** Asserts that `value` lies between the two readings taken before and after it (inclusive). */
function between(value: number, a: number, b: number, what: string): void {
  assert.ok(value >= Math.min(a, b) && value <= Math.max(a, b), `${what}: ${value} is not between ${a} and ${b}`);
}

/** A rate read between two /summary calls: within a quarter of the nearer of the two readings. */
function nearRate(value: number, a: number, b: number, what: string): void {
  const nearer = Math.abs(value - a) < Math.abs(value - b) ? a : b;
  assert.ok(Math.abs(value - nearer) <= 0.25 * nearer, `${what}: ${value} vs ${a} / ${b}`);
}

let work = '';
let tarball = '';
/** node, npm and sh: everything `npm install` and the miner need, and nothing that compiles. */
let bareBin = '';
let prefix = '';
let installed = '';

before(async () => {
  const prebuilds = path.join(repoRoot, 'prebuilds', TARGET);
  assert.ok(existsSync(prebuilds) && readdirSync(prebuilds).some((f) => f.endsWith('.node')),
    `no prebuilt addon in ${prebuilds}: run \`npm run build:prebuild\` (npm test does) first`);
  work = mkdtempSync(path.join(os.tmpdir(), 'cfx-package-'));
  // --ignore-scripts: pack what `npm test` has built (prepack would rebuild build/ under the
  // feet of the tests running beside this one).
  const pack = await run(process.execPath, [npmCli(), 'pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=warn']);
  assert.equal(pack.code, 0, pack.stderr);
  tarball = path.join(work, `cfx-miner-${VERSION}.tgz`);
  assert.ok(existsSync(tarball), `npm pack made ${pack.stdout.trim()}, expected ${tarball}`);

  bareBin = path.join(work, 'bin');
  mkdirSync(bareBin);
  symlinkSync(process.execPath, path.join(bareBin, 'node'));
  symlinkSync(npmCli(), path.join(bareBin, 'npm'));
  symlinkSync('/bin/sh', path.join(bareBin, 'sh'));
  prefix = path.join(work, 'prefix');
  installed = path.join(prefix, 'lib', 'node_modules', 'cfx-miner');
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CFX_MINER_') && !k.startsWith('npm_')) env[k] = v;
  }
  return { ...env, PATH: bareBin, CC: '/nonexistent', CXX: '/nonexistent', NO_COLOR: '1', ...extra };
}

test('the tarball holds the compiled JS, the native sources, the prebuilt addon and no tests', async () => {
  const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const files = list.stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'scripts/install.mjs', 'dist/src/cli.js',
    'dist/src/native/loader.js', 'native/core/search.cc', 'native/binding/addon.cc']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.ok(files.some((f) => f.startsWith(`prebuilds/${TARGET}/`) && f.endsWith('.node')), `a prebuilt ${TARGET} addon`);
  const stray = files.filter((f) => /^(test|bench|build|src|dist\/test|dist\/bench|native\/test|deploy|release)\//.test(f) ||
    /\.(map|ts|jsonl|o)$/.test(f));
  assert.deepEqual(stray, [], 'nothing for development only');
});

test('npm install -g from the tarball needs no compiler, make or python3', async () => {
  const tools = await run('/bin/sh', ['-c', 'command -v g++ c++ cc gcc clang make python3 python || true'], { env: bareEnv() });
  assert.equal(tools.stdout.trim(), '', 'the test PATH has no build tool');
  // allow-scripts: npm 11 warns about install scripts it was not told to trust, and may one day
  // skip them; the install script must run here (asserted below), so it is trusted.
  const started = performance.now();
  const r = await run(process.execPath, [npmCli(), 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit',
    '--no-fund', '--foreground-scripts', tarball], { env: bareEnv({ npm_config_allow_scripts: 'cfx-miner' }) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  console.log(`# npm install -g from the tarball took ${seconds} s`);
  assert.match(r.stdout + r.stderr, /> cfx-miner@[\d.]+ install\n> node scripts\/install\.mjs/, 'the install script ran');
  assert.doesNotMatch(r.stdout + r.stderr, /building it from source|> cfx-miner@[\d.]+ prepare/, 'no build, no prepare');
  assert.ok(!existsSync(path.join(installed, 'build')), 'nothing was compiled');
  assert.ok(existsSync(path.join(prefix, 'bin', 'cfx-miner')), 'cfx-miner is on the prefix\'s PATH');
  assert.ok(!existsSync(path.join(installed, 'node_modules', 'typescript')), 'no devDependency');
});

test('the installed cfx-miner: --version and reference hashes', async () => {
  const bin = path.join(prefix, 'bin', 'cfx-miner');
  const v = await run(bin, ['--version'], { env: bareEnv(), cwd: work });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), VERSION);
  const vectors = loadVectors();
  const kec = vectors.find((l) => l.kind === 'keccak')!;
  assert.equal(kec.kind, 'keccak');
  const k = await run(bin, ['hash', '--algo', 'keccak', '--header', kec.header, '--nonce', kec.nonce], { env: bareEnv(), cwd: work });
  assert.equal(k.code, 0, k.stderr);
  assert.equal(k.stdout, `${kec.hash}\n`);
  const oct = vectors.find((l) => l.kind === 'octopus')!;
  assert.equal(oct.kind, 'octopus');
  const o = await run(bin, ['hash', '--algo', 'octopus', '--header', oct.header, '--height', String(oct.height), '--nonce', oct.nonce],
    { env: bareEnv(), cwd: work });
  assert.equal(o.code, 0, o.stderr);
  assert.equal(o.stdout, `${oct.hash}\n`);
});

test('the installed cfx-miner mines: solutions accepted by the test node, clean Ctrl-C', async (t) => {
  const node = new TestNode({ algo: 'keccak', difficulty: 1_000_000, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  node.newJob(); // sent to the miner on subscribe (notifyOnSubscribe)
  try {
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'pkg', '--algo', 'keccak', '--threads', '1'],
      { t, cwd: work, command: [path.join(prefix, 'bin', 'cfx-miner')], env: { PATH: bareBin } });
    await waitFor(() => node.stats.accepted >= 1 || miner.exitInfo !== undefined, SOLUTION_WAIT_MS, 'an accepted solution')
      .catch((err: Error) => { throw new Error(`${err.message}; the miner said:\n${miner.stderrText()}${miner.stdoutText()}`); });
    assert.equal(miner.exitInfo, undefined, miner.stderrText());
    assert.equal((await miner.stop('SIGINT')).code, 0, miner.stderrText());
    assert.equal(node.stats.rejected, 0);
    assert.match(miner.stderrText(), /accepted \(1\//);
  } finally {
    await node.close();
  }
});

test('on glibc 2.31 and GCC 10\'s libstdc++ (Ubuntu 20.04, HiveOS\'s base): the installed prebuild hashes and mines', { skip: oldLibsSkip }, async (t) => {
  const cli = path.join(installed, 'dist', 'src', 'cli.js');
  // Node itself says which C library it runs on.
  const glibc = await run(OLD_LOADER, onOldLibs('-p', 'process.report.getReport().header.glibcVersionRuntime').slice(1),
    { env: bareEnv(), cwd: work });
  assert.equal(glibc.code, 0, glibc.stderr);
  assert.equal(glibc.stdout.trim(), '2.31');
  const vectors = loadVectors();
  const oct = vectors.find((l) => l.kind === 'octopus')!;
  assert.equal(oct.kind, 'octopus');
  const o = await run(OLD_LOADER, onOldLibs(cli, 'hash', '--algo', 'octopus', '--header', oct.header, '--height', String(oct.height),
    '--nonce', oct.nonce).slice(1), { env: bareEnv(), cwd: work });
  assert.equal(o.code, 0, o.stderr);
  assert.equal(o.stdout, `${oct.hash}\n`);

  const node = new TestNode({ algo: 'keccak', difficulty: 1_000_000, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  node.newJob();
  try {
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'old-glibc', '--algo', 'keccak', '--threads', '2'],
      { t, cwd: work, command: onOldLibs(cli), env: { PATH: bareBin } });
    await waitFor(() => node.stats.accepted >= 1 || miner.exitInfo !== undefined, SOLUTION_WAIT_MS, 'an accepted solution')
      .catch((err: Error) => { throw new Error(`${err.message}; the miner said:\n${miner.stderrText()}${miner.stdoutText()}`); });
    assert.equal(miner.exitInfo, undefined, miner.stderrText());
    assert.equal((await miner.stop('SIGINT')).code, 0, miner.stderrText());
    assert.equal(node.stats.rejected, 0);
    assert.match(miner.stderrText() + miner.stdoutText(), /self-test ok/);
  } finally {
    await node.close();
  }
});

test('without a prebuilt addon that fits, install says in one line that it builds from source', async () => {
  // node-gyp-build reads <NAME>_PREBUILD as the place to look instead of the package: nothing there.
  const npmDir = path.dirname(path.dirname(npmCli()));
  const r = await run(process.execPath, [path.join(installed, 'scripts', 'install.mjs')], {
    cwd: installed,
    env: bareEnv({ CFX_MINER_PREBUILD: path.join(work, 'nothing'), npm_config_node_gyp: path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') }),
  });
  assert.equal(r.stderr.split('\n')[0], `cfx-miner: no prebuilt addon for ${TARGET}; building it from source with node-gyp ` +
    '(needs python3, make and a C++17 compiler)');
  assert.notEqual(r.code, 0, 'the build cannot succeed without python3 and a compiler');
});

/** Unpacks a rig package made from the tarball into `dir`; returns the cfx-miner/ folder. */
async function rigPackage(kind: 'hiveos' | 'mmpos', dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = path.join(work, kind);
  mkdirSync(out);
  const made = await run('bash', [path.join(repoRoot, 'scripts', 'rig-package.sh'), kind, tarball, out]);
  assert.equal(made.code, 0, made.stderr);
  const file = made.stdout.trim();
  assert.equal(path.basename(file), kind === 'hiveos' ? `cfx-miner-${VERSION}.tar.gz` : `cfx-miner-mmpos-${VERSION}.tar.gz`);
  const listed = spawnSync('tar', ['-tzf', file], { encoding: 'utf8' });
  assert.deepEqual([...new Set(listed.stdout.trim().split('\n').map((f) => f.split('/')[0]))], ['cfx-miner'], 'one top-level folder');
  const x = spawnSync('tar', ['-xzf', file, '-C', dir], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  const pkg = path.join(dir, 'cfx-miner');
  assert.ok(readdirSync(path.join(pkg, 'app', 'prebuilds', 'linux-x64')).some((f) => f.endsWith('.node')), 'the prebuilt addon');
  assert.ok(existsSync(path.join(pkg, 'app', 'node_modules', 'commander')), 'production dependencies');
  assert.ok(!existsSync(path.join(pkg, 'app', 'node_modules', 'typescript')), 'no devDependency');
  return pkg;
}

test('HiveOS: flight sheet -> config, h-run.sh mines, h-stats.sh reports /summary', { skip: rigSkip }, async (t) => {
  const root = path.join(work, 'hive-root');
  const pkg = await rigPackage('hiveos', path.join(root, 'hive', 'miners', 'custom'));
  const manifest = readFileSync(path.join(pkg, 'h-manifest.conf'), 'utf8');
  assert.match(manifest, new RegExp(`^CUSTOM_VERSION=${VERSION.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(manifest, /^CUSTOM_NAME=cfx-miner$/m);

  const node = new TestNode({ algo: 'keccak', difficulty: 1_000_000, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  node.newJob(); // sent to the miner on subscribe (notifyOnSubscribe)
  const apiPort = await freePort();
  const hiveEnv = { ...process.env, CFX_HIVE_ROOT: root, CFX_HIVE_API_PORT: String(apiPort) };
  const configFile = path.join(root, 'hive', 'miners', 'custom', 'cfx-miner', 'cfx-miner.json');
  try {
    // As HiveOS does it: the manifest, then h-config.sh, sourced, with the flight sheet in scope.
    const hiveConfig = (sheet: Record<string, string>): Promise<RunResult> =>
      run('bash', ['-c', '. ./h-manifest.conf && . ./h-config.sh'], { cwd: pkg, env: { ...hiveEnv, ...sheet } });
    const sheet = {
      CUSTOM_URL: `stratum+tcp://${host}:${port}, 10.0.0.2:32525`,
      CUSTOM_TEMPLATE: 'hive-rig',
      CUSTOM_PASS: 'change-me',
      CUSTOM_ALGO: 'keccak',
      CUSTOM_USER_CONFIG: '{"threads": 2, "mode": "light"}',
    };
    const c = await hiveConfig(sheet);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), {
      hosts: [`${host}:${port}`, '10.0.0.2:32525'], worker: 'hive-rig', password: 'change-me', algo: 'keccak',
      httpPort: apiPort, threads: 2, mode: 'light',
    });
    const printed = await run(process.execPath, [path.join(pkg, 'app', 'dist', 'src', 'cli.js'), 'config', '--print', '--config', configFile]);
    assert.equal(printed.code, 0, printed.stderr);
    const settings = (JSON.parse(printed.stdout) as { settings: Record<string, unknown> }).settings;
    assert.deepEqual([settings['worker'], settings['httpPort'], settings['threads']], ['hive-rig', apiPort, 2]);

    // Bad flight sheets: one line each, and a failure HiveOS shows.
    for (const [bad, message] of [
      [{ ...sheet, CUSTOM_URL: ' ' }, /^cfx-miner: the flight sheet's Pool URL is empty/],
      [{ ...sheet, CUSTOM_USER_CONFIG: '{"threads": ' }, /^cfx-miner: the flight sheet's Extra config arguments start with \{ but are not a JSON object/],
    ] as const) {
      const r = await hiveConfig(bad);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
    // Extra flags instead of JSON go to h-run.sh's command line.
    const flags = await hiveConfig({ ...sheet, CUSTOM_USER_CONFIG: '--threads 1\n--print-interval-s 2' });
    assert.equal(flags.code, 0, flags.stderr);

    const miner = startMiner([], { t, cwd: pkg, command: ['bash', path.join(pkg, 'h-run.sh')], env: { CFX_HIVE_ROOT: root } });
    await waitFor(() => node.stats.accepted >= 1 || miner.exitInfo !== undefined, SOLUTION_WAIT_MS, 'an accepted solution')
      .catch((err: Error) => { throw new Error(`${err.message}; the miner said:\n${miner.stdoutText()}${miner.stderrText()}`); });
    assert.equal(miner.exitInfo, undefined, miner.stdoutText());
    const first = await summaryWithHashrate(apiPort, miner);
    assert.equal(first.threads, 1, 'the extra flag --threads 1 was used');
    const stats = await run('bash', ['-c', '. ./h-manifest.conf && . ./h-stats.sh && printf "%s\\n%s\\n" "$khs" "$stats"'],
      { cwd: pkg, env: hiveEnv });
    const second = await getJson(`http://127.0.0.1:${apiPort}/summary`) as Summary;
    assert.equal(stats.code, 0, stats.stderr);
    const [khsLine, statsLine] = stats.stdout.trim().split('\n');
    const s = JSON.parse(statsLine!) as { hs: number[]; hs_units: string; uptime: number; ar: number[]; algo: string; ver: string };
    assert.deepEqual(Object.keys(s).sort(), ['algo', 'ar', 'hs', 'hs_units', 'uptime', 'ver']);
    assert.equal(s.hs_units, 'hs');
    assert.equal(s.algo, 'keccak');
    assert.equal(s.ver, VERSION);
    between(s.uptime, first.uptime_s, second.uptime_s, 'uptime');
    between(s.ar[0]!, first.shares.accepted, second.shares.accepted, 'accepted');
    between(s.ar[1]!, first.shares.rejected + first.shares.stale, second.shares.rejected + second.shares.stale, 'rejected');
    assert.ok(s.ar[0]! >= 1);
    assert.equal(s.hs.length, 1);
    nearRate(Number(khsLine) * 1000, first.hashrate['10s']!, second.hashrate['10s']!, 'khs');
    nearRate(s.hs[0]!, first.hashrate.threads[0]!, second.hashrate.threads[0]!, 'hs[0]');

    // Run directly, it prints the same two things.
    const direct = await run('bash', [path.join(pkg, 'h-stats.sh')], { env: hiveEnv });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(direct.stdout.trim().split('\n').length, 2);
    assert.equal((JSON.parse(direct.stdout.trim().split('\n')[1]!) as { ver: string }).ver, VERSION);

    assert.equal((await miner.stop('SIGINT')).code, 0, miner.stdoutText());
    const log = readFileSync(path.join(root, 'var', 'log', 'miner', 'cfx-miner', 'cfx-miner.log'), 'utf8');
    assert.match(log, /share +accepted \(1\//, 'the log file has the miner\'s lines');
  } finally {
    await node.close();
  }
});

test('mmpOS: cfx-miner.sh mines, mmp-stats.sh reports /summary', { skip: rigSkip }, async (t) => {
  const pkg = await rigPackage('mmpos', path.join(work, 'mmp'));
  assert.match(readFileSync(path.join(pkg, 'mmp-external.conf'), 'utf8'), new RegExp(`^EXTERNAL_VERSION=${VERSION.replace(/\./g, '\\.')}$`, 'm'));
  const node = new TestNode({ algo: 'keccak', difficulty: 1_000_000, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  node.newJob(); // sent to the miner on subscribe (notifyOnSubscribe)
  const apiPort = await freePort();
  const env = { ...process.env, CFX_MMP_API_PORT: String(apiPort) };
  try {
    const miner = startMiner(['--host', `stratum+tcp://${host}:${port}`, '--worker', 'mmp-rig', '--algo', 'keccak', '--threads', '1'],
      { t, cwd: pkg, command: ['bash', path.join(pkg, 'cfx-miner.sh')], env: { CFX_MMP_API_PORT: String(apiPort) } });
    await waitFor(() => node.stats.accepted >= 1 || miner.exitInfo !== undefined, SOLUTION_WAIT_MS, 'an accepted solution')
      .catch((err: Error) => { throw new Error(`${err.message}; the miner said:\n${miner.stderrText()}${miner.stdoutText()}`); });
    assert.equal(miner.exitInfo, undefined, miner.stderrText());
    const first = await summaryWithHashrate(apiPort, miner);
    // The agent's call: mmp-stats.sh <device count> <log file>.
    const stats = await run('bash', [path.join(pkg, 'mmp-stats.sh'), '1', path.join(work, 'mmp.log')], { env });
    const second = await getJson(`http://127.0.0.1:${apiPort}/summary`) as Summary;
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(stats.stdout.trim().split('\n').length, 1, 'one JSON line');
    const s = JSON.parse(stats.stdout) as { busid: unknown[]; hash: number[]; units: string; air: number[]; miner_name: string; miner_version: string };
    assert.deepEqual(s.busid, ['cpu']);
    assert.equal(s.units, 'hs');
    assert.equal(s.miner_name, 'cfx-miner');
    assert.equal(s.miner_version, VERSION);
    assert.equal(s.hash.length, 1);
    nearRate(s.hash[0]!, first.hashrate['10s']!, second.hashrate['10s']!, 'hash');
    between(s.air[0]!, first.shares.accepted, second.shares.accepted, 'accepted');
    between(s.air[1]!, first.shares.rejected, second.shares.rejected, 'invalid');
    between(s.air[2]!, first.shares.stale, second.shares.stale, 'rejected');
    assert.equal((await miner.stop('SIGINT')).code, 0, miner.stderrText());

    // With no miner listening, the stats script fails in one line instead of printing a guess.
    const down = await run('bash', [path.join(pkg, 'mmp-stats.sh'), '1', path.join(work, 'mmp.log')], { env });
    assert.notEqual(down.code, 0);
    assert.equal(down.stdout, '');
    assert.match(down.stderr, /^cfx-miner: no answer from the stats API at 127\.0\.0\.1:\d+\n$/);
  } finally {
    await node.close();
  }
});

test('the rig start scripts say in one line how to get Node.js when there is none', { skip: rigSkip }, async () => {
  const hive = path.join(work, 'hive-root', 'hive', 'miners', 'custom', 'cfx-miner');
  const mmp = path.join(work, 'mmp', 'cfx-miner');
  for (const script of [path.join(hive, 'h-run.sh'), path.join(mmp, 'cfx-miner.sh')]) {
    assert.ok(existsSync(script), `${script} (made by the tests above)`);
    const r = await run('/bin/bash', [script], { env: { PATH: path.join(work, 'nothing'), CFX_HIVE_ROOT: path.join(work, 'hive-root') } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^cfx-miner: needs Node\.js 20\.17 or later \(found: none\); install it with: .*nodejs\n$/);
  }
});
