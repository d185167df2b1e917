// The addon's edge: every bad argument is a TypeError or RangeError with a clear message,
// never a crash; cancellation and handles behave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import {
  CacheHandle, DatasetHandle, STAGE_LENGTH, SearchEngine, cpuFeatures, hashKeccak, limits, meetsBoundary,
  parseHeight, sizesForHeight, U256_MAX,
} from '../src/native/index.js';
import { diagnoseLoadError, elfArch, loadAddon, staleBuildMessage } from '../src/native/loader.js';
import { missingExports } from '../src/native/contract.js';
import type { LoadFacts } from '../src/native/loader.js';
import { parseHex, parseHexUint } from '../src/hex.js';
import { loadConfig } from '../src/config/load.js';
import { baseline } from './support/baseline.js';
import { repoRoot } from './support/fixtures.js';
import { hashOctopusLight, testHooks } from './support/native-hooks.js';

const header = Buffer.alloc(32, 7);

test('hex and number parsing reject bad input with one-line messages', () => {
  assert.throws(() => parseHex('0x12', 'header', 32), { name: 'RangeError', message: /32 bytes/ });
  assert.throws(() => parseHex('0xzz', 'header'), { name: 'TypeError', message: /not hex/ });
  assert.throws(() => parseHex('', 'header'), TypeError);
  assert.throws(() => parseHex('0x123', 'header'), RangeError);
  assert.deepEqual(parseHex('0X0aFF', 'x'), Buffer.from([0x0a, 0xff]));
  assert.equal(parseHexUint('0x0001', 'nonce', 64), 1n);
  assert.equal(parseHexUint('ff', 'nonce', 8), 255n);
  assert.throws(() => parseHexUint('0x1' + '0'.repeat(16), 'nonce', 64), { name: 'RangeError', message: /64 bits/ });
  assert.throws(() => parseHexUint('-1', 'nonce', 64), TypeError);
  assert.equal(parseHeight('42'), 42);
  for (const bad of ['-1', '1.5', 'abc', '', String(limits().maxHeight + 1), -3, 0.5, NaN, Infinity]) {
    assert.throws(() => parseHeight(bad), (e: Error) => e instanceof RangeError || e instanceof TypeError, String(bad));
  }
});

test('the addon refuses wrong types, lengths and handles', async () => {
  const a = loadAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
  assert.throws(() => a.hashKeccak!(Buffer.alloc(31), Buffer.alloc(32)), { name: 'RangeError', message: /header must be 32 bytes/ });
  assert.throws(() => a.hashKeccak!('x', Buffer.alloc(32)), { name: 'TypeError' });
  assert.throws(() => a.hashOctopusLightAsync!({}, header, 0n, 256), { name: 'TypeError', message: /not a valid handle/ });
  assert.throws(() => a.sizes!(-1), RangeError);
  assert.throws(() => a.sizes!(limits().maxHeight + 1), RangeError);
  assert.throws(() => a.sizes!('1'), TypeError);
  assert.throws(() => a.sizes!(1.5), RangeError);
  const token = a.newCancelToken!();
  const cache = await CacheHandle.build(0);
  // A cancel token is not a cache: tags keep handles apart.
  assert.throws(() => a.hashOctopusLightAsync!(token, header, 0n, 256), { name: 'TypeError' });
  assert.throws(() => a.hashOctopusLightAsync!(cache.handle, header, -1n, 256), RangeError);
  assert.throws(() => a.hashOctopusLightAsync!(cache.handle, header, 1n << 64n, 256), RangeError);
  assert.throws(() => a.hashOctopusLightAsync!(cache.handle, header, 0n, 0), RangeError);
  assert.throws(() => hashOctopusLight(cache, header, 0n, 300), { name: 'RangeError', message: 'dataset bytes must be a multiple of 256' });
  assert.throws(() => hashOctopusLight(cache, header, 0n, 100), { name: 'RangeError', message: /dataset bytes must be from 256 to/ });
  assert.throws(() => hashKeccak(header, -1n), RangeError);
  assert.throws(() => hashKeccak(header, 1n << 256n), RangeError);
  assert.throws(() => new (loadAddon().SearchEngine)(0, () => {}), RangeError);
  assert.throws(() => new (loadAddon().SearchEngine)(1, 5 as never), TypeError);
  await assert.rejects(DatasetHandle.build(cache, { bytes: 100 }), RangeError);
});

test('a released dataset is an error, not a crash', async () => {
  const cache = await CacheHandle.build(0);
  const ds = await DatasetHandle.build(cache, { bytes: 1 << 16, threads: 1 });
  ds.release();
  assert.throws(() => testHooks().hashOctopusFull(ds.handle, header, 0n), /released/);
});

test('cache and dataset builds can be cancelled and report progress', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(CacheHandle.build(0, { signal: controller.signal }), { name: 'AbortError' });
  const cache = await CacheHandle.build(0);
  const seen: number[] = [];
  const ds = await DatasetHandle.build(cache, { bytes: 64 << 20, threads: 2, onProgress: (done, total) => seen.push(done / total) });
  assert.equal(ds.bytes, 64 << 20);
  assert.ok(seen.length > 0 && seen.at(-1) === 1, 'progress ends at 100%');
  ds.release();
  const c2 = new AbortController();
  const p = DatasetHandle.build(cache, { bytes: 256 << 20, threads: 2, signal: c2.signal, onProgress: () => c2.abort() });
  await assert.rejects(p, { name: 'AbortError' });
});

test('a dataset reports the share of it on huge pages: measured, 0 without them, 1 for explicit pages', async () => {
  const cache = await CacheHandle.build(0);
  const plain = await DatasetHandle.build(cache, { bytes: 4 << 20, threads: 1, hugePages: false });
  const huge = await DatasetHandle.build(cache, { bytes: 4 << 20, threads: 1, hugePages: true });
  try {
    assert.equal(plain.hugePages, 'none');
    assert.equal(plain.hugePagesFraction(), 0, 'plain pages asked (MADV_NOHUGEPAGE): none on huge pages');
    assert.ok(['explicit-1g', 'explicit', 'transparent', 'none'].includes(huge.hugePages), huge.hugePages);
    const f = huge.hugePagesFraction();
    assert.ok(f >= 0 && f <= 1, `fraction ${f} in [0, 1]`);
    if (huge.hugePages.startsWith('explicit')) assert.equal(f, 1, 'explicit pages are all huge');
    const again = huge.hugePagesFraction(0); // a fresh read: the kernel's count again
    assert.ok(again >= 0 && again <= 1, `fraction ${again} in [0, 1]`);
    assert.equal(loadAddon().datasetInfo(huge.handle).hugePagesFraction, again, 'the binding reports the same figure');
  } finally {
    plain.release();
    huge.release();
  }
  assert.equal(plain.hugePagesFraction(0), 0, 'a released dataset keeps its last figure');
});

test('boundary rule matches PROTOCOL.md', () => {
  const hash = Buffer.alloc(32);
  hash[31] = 5;
  assert.equal(meetsBoundary(hash, 0n, 6n), true);
  assert.equal(meetsBoundary(hash, 0n, 5n), false);
  assert.equal(meetsBoundary(Buffer.alloc(32, 0xff), 0n, U256_MAX), false);
  // The nonce's top 128 bits (bit 255 cleared) are subtracted from the hash first.
  const h2 = Buffer.alloc(32);
  h2[15] = 1;
  h2[31] = 3;
  assert.equal(meetsBoundary(h2, (1n << 255n) | (1n << 128n), 4n), true);
  assert.equal(meetsBoundary(h2, (1n << 128n), 3n), false);
  assert.throws(() => meetsBoundary(hash, 0n, 0n) && undefined, { name: 'RangeError' }, 'boundary 0');
  assert.equal(sizesForHeight(0).stage, 0);
});

test('the product addon holds no benchmark or baseline code (they are built apart)', () => {
  const exported = Object.keys(loadAddon());
  // The baseline addon's and the probes' own entry points (sizes and buildCache are the product's too).
  const foreign = [...Object.keys(baseline()).filter((k) => k.startsWith('hashLight')), 'keccakScalarHps', 'walkMemory', 'memoryWalkHps'];
  assert.deepEqual(exported.filter((k) => /baseline|bench|probe/i.test(k) || foreign.includes(k)), []);
  // Not linked in either: the baseline's and the probes' own symbols are absent from the binary.
  const binary = readFileSync(path.join(repoRoot, 'build', 'Release', 'cfx_miner.node')).toString('latin1');
  for (const symbol of ['baseline_hash_light', 'baseline_cache', 'memory_walk_hps', 'keccak_scalar_hps']) {
    assert.equal(binary.includes(symbol), false, `${symbol} is in the product addon`);
  }
  assert.ok(binary.includes('octopus_hash_light'), 'the symbol check reads the real binary');
});

test('cpuFeatures names the kernels in use, and CFX_MINER_NO_AVX512=1 and CFX_MINER_NO_AVX2=1 turn every fast one off', () => {
  const f = cpuFeatures();
  assert.ok(['amx', 'avx512', 'avx2', 'portable'].includes(f.polyImpl), f.polyImpl);
  assert.equal(f.polyImpl === 'portable' || f.polyImpl === 'avx2', !f.avx512, 'the polynomial is AVX2 or portable exactly when AVX-512 is off');
  const code = `import('${path.join(repoRoot, 'dist', 'src', 'native', 'hash.js')}').then((m) => console.log(JSON.stringify(m.cpuFeatures())))`;
  const features = (env: Record<string, string>) =>
    JSON.parse(execFileSync(process.execPath, ['-e', code], { env: { ...process.env, ...env } }).toString()) as typeof f;
  // Without AVX-512 the transforms run on AVX2 where the CPU has it (all AVX-512 CPUs do).
  const noAvx512 = features({ CFX_MINER_NO_AVX512: '1' });
  assert.equal(noAvx512.avx512, false);
  assert.equal(noAvx512.keccakImpl, 'scalar');
  if (f.avx512) assert.equal(noAvx512.polyImpl, 'avx2');
  else assert.ok(['avx2', 'portable'].includes(noAvx512.polyImpl), noAvx512.polyImpl);
  assert.deepEqual(features({ CFX_MINER_NO_AVX512: '1', CFX_MINER_NO_AVX2: '1' }), { avx512: false, keccakImpl: 'scalar', polyImpl: 'portable' });
});

// ---- the limits, written once (native/core/params.h) ------------------------------------------

/** A constexpr of params.h, read from the header's text. */
function headerLimit(name: string): number {
  const text = readFileSync(path.join(repoRoot, 'native', 'core', 'params.h'), 'utf8');
  const m = new RegExp(`constexpr \\w+ ${name} = ([^;]+);`).exec(text);
  assert.ok(m, `${name} in params.h`);
  const shift = /^1ULL << (\d+)$/.exec(m[1]!.trim());
  return shift ? 2 ** Number(shift[1]) : Number(m[1]!.trim());
}

test('the addon exports the limits of native/core/params.h', () => {
  const l = limits();
  assert.deepEqual({ ...l }, {
    maxThreads: headerLimit('kMaxThreads'), maxHeight: headerLimit('kMaxHeight'), maxDatasetBytes: headerLimit('kMaxDatasetBytes'),
    stageLength: headerLimit('kStageLength'), maxShareBits: headerLimit('kMaxShareBits'), pageBytes: headerLimit('kPageBytes'),
  });
  assert.ok(Object.isFrozen(l));
  assert.equal(STAGE_LENGTH, l.stageLength, 'the protocol constant the JS layers divide by');
});

test('one past each limit is refused at the binding and by the config; the limit itself is taken', async () => {
  const l = limits();
  const a = loadAddon();
  const cache = await CacheHandle.build(0);
  const engine = (threads: number) => new (a.SearchEngine)(threads, () => {});
  assert.throws(() => engine(l.maxThreads + 1), { name: 'RangeError', message: `threads must be from 1 to ${l.maxThreads}` });
  assert.throws(() => a.sizes(l.maxHeight + 1, false), { name: 'RangeError', message: `height must be from 0 to ${l.maxHeight}` });
  a.sizes(l.maxHeight, false);
  assert.throws(() => a.hashOctopusLightAsync(cache.handle, header, 0n, l.maxDatasetBytes + l.pageBytes), RangeError);
  await a.hashOctopusLightAsync(cache.handle, header, 0n, l.maxDatasetBytes); // a 1 TiB dataset is defined (light mode reads 128 items)
  const one = new SearchEngine(1, () => {});
  try {
    assert.throws(() => one.setShareBits(l.maxShareBits + 1), { name: 'RangeError', message: `bits must be from 0 to ${l.maxShareBits}` });
    one.setShareBits(l.maxShareBits);
  } finally {
    one.destroy();
  }
  await assert.rejects(DatasetHandle.build(cache, { bytes: 1 << 16, threads: l.maxThreads + 1 }), RangeError);
  // The config: the same numbers, in its own words (UsageError naming the setting).
  const env = (v: Record<string, string>) => ({ env: v });
  assert.equal(loadConfig(env({ CFX_MINER_THREADS: String(l.maxThreads) })).settings.threads, l.maxThreads);
  assert.throws(() => loadConfig(env({ CFX_MINER_THREADS: String(l.maxThreads + 1) })),
    { name: 'UsageError', message: new RegExp(`"threads" must be a whole number from 1 to ${l.maxThreads}`) });
  assert.equal(loadConfig(env({ CFX_MINER_HEIGHT: String(l.maxHeight) })).settings.height, l.maxHeight);
  assert.throws(() => loadConfig(env({ CFX_MINER_HEIGHT: String(l.maxHeight + 1) })),
    { name: 'UsageError', message: new RegExp(`"height" must be a whole number from 0 to ${l.maxHeight}`) });
  assert.equal(parseHeight(String(l.maxHeight)), l.maxHeight);
  assert.throws(() => parseHeight(l.maxHeight + 1), { name: 'RangeError', message: new RegExp(`from 0 to ${l.maxHeight}, got`) });
});

test('the product addon exports only what the product calls; the test hooks live in their own addon', () => {
  assert.deepEqual(Object.keys(loadAddon()).sort(), [
    'SearchEngine', 'buildCache', 'buildDataset', 'cacheInfo', 'cancel', 'cancelAllBuilds', 'cpuFeatures', 'datasetInfo',
    'disableKernel', 'hashKeccak', 'hashOctopusLightAsync', 'keccak256', 'limits', 'meetsBoundary',
    'newCancelToken', 'releaseDataset', 'selfTest', 'sizes',
  ]);
  const methods = Object.getOwnPropertyNames(loadAddon().SearchEngine.prototype).filter((k) => k !== 'constructor').sort();
  assert.deepEqual(methods, ['destroy', 'dropped', 'generation', 'hashCounts', 'pause', 'setShareBits', 'start', 'switchedAt']);
  assert.deepEqual(Object.keys(testHooks()).sort(), [
    'allocDataset', 'cacheNode', 'dagItem', 'fillDatasetItems', 'hashOctopusFull', 'hashOctopusLight', 'octopusTrace',
  ]);
});

// ---- the loader's diagnosis, on the errors Node really throws -------------------------------

const facts = (over: Partial<LoadFacts> = {}): LoadFacts => ({
  root: '/opt/cfx', file: 'build/Release/cfx_miner.node', fileArch: process.arch, arch: process.arch, node: '20.20.2', checkout: true, ...over,
});

/** The message require() gives for `file`, which must fail to load. */
function loadError(file: string): string {
  try {
    createRequire(import.meta.url)(file);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`${file} loaded`);
}

test('load failures: each real error names its own fix, and the whole first cause is kept', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gyp = createRequire(import.meta.url)('node-gyp-build') as (d: string) => unknown;

  // No build/Release and no prebuild: node-gyp-build's own error, on an empty directory.
  let missing = '';
  try { gyp(dir); } catch (err) { missing = (err as Error).message; }
  const m = diagnoseLoadError(missing, facts({ file: undefined, fileArch: undefined }));
  assert.equal(m.kind, 'missing');
  assert.match(m.fix, /npm install.*python3, make and a C\+\+17 compiler/);
  assert.match(m.reason, /No native build was found .* loaded from: /, 'both lines of the cause');
  assert.match(diagnoseLoadError(missing, facts({ file: undefined, fileArch: undefined, checkout: false })).fix, /reinstall cfx-miner/);

  // Built for another Node ABI: test/baseline's cfx_wrong_abi claims NODE_MODULE_VERSION 42.
  const abi = loadError(path.join(repoRoot, 'test', 'baseline', 'build', 'Release', 'cfx_wrong_abi.node'));
  const d = diagnoseLoadError(abi, facts());
  assert.equal(d.kind, 'node-abi');
  assert.match(d.fix, /built for another Node\.js; rebuild it with this one \(Node 20\.20\.2\): run `npm rebuild` or `npm run build:native`/);
  assert.match(d.reason, /NODE_MODULE_VERSION 42\. This version of Node\.js requires NODE_MODULE_VERSION \d+\. .*npm rebuild/, 'every line');

  // A prebuild that needs a newer glibc: the product addon with one version need renamed (the
  // hash no longer matches any version libc has, so the dynamic loader reports it by name).
  const product = readFileSync(path.join(repoRoot, 'build', 'Release', 'cfx_miner.node'));
  const at = product.indexOf('GLIBC_2.14');
  if (process.platform === 'linux' && at >= 0) {
    const file = path.join(dir, 'glibc.node');
    writeFileSync(file, Buffer.concat([product.subarray(0, at), Buffer.from('GLIBC_2.99'), product.subarray(at + 10)]));
    const g = diagnoseLoadError(loadError(file), facts());
    assert.equal(g.kind, 'glibc');
    assert.match(g.fix, /needs GLIBC_2\.99, newer than this system's C\/C\+\+ runtime; build the addon here from source: run `npm run build:native`/);
    assert.match(diagnoseLoadError(loadError(file), facts({ checkout: false })).fix, /--build-from-source/);
  }

  // Another architecture: the arm64 prebuild on x64 (made by `npm run build:prebuild` where the
  // cross compiler is installed), where dlopen only says "No such file or directory".
  const arm64 = path.join(repoRoot, 'prebuilds', 'linux-arm64', 'cfx-miner.node');
  if (process.platform === 'linux' && process.arch === 'x64' && existsSync(arm64)) {
    assert.equal(elfArch(arm64), 'arm64');
    const r = diagnoseLoadError(loadError(arm64), facts({ file: 'prebuilds/linux-arm64/cfx-miner.node', fileArch: elfArch(arm64) }));
    assert.equal(r.kind, 'arch');
    assert.match(r.fix, /prebuilds\/linux-arm64\/cfx-miner\.node is built for arm64 and this machine is x64; build it here/);
  }
  if (process.platform === 'linux') {
    // A 32-bit ELF: the product with its class byte changed.
    const file = path.join(dir, 'elf32.node');
    writeFileSync(file, Buffer.concat([product.subarray(0, 4), Buffer.from([1]), product.subarray(5)]));
    assert.equal(diagnoseLoadError(loadError(file), facts({ fileArch: undefined })).kind, 'arch');
  }

  // Not an addon at all (a truncated download).
  const short = path.join(dir, 'short.node');
  writeFileSync(short, 'not an ELF file');
  if (process.platform === 'linux') {
    assert.equal(elfArch(short), 'not-elf');
    assert.equal(diagnoseLoadError(loadError(short), facts({ fileArch: 'not-elf' })).kind, 'damaged');
  }
  // A .node file that loads but is not this version's build (a checkout pulled without a
  // rebuild): here the baseline addon, which has none of the contract's exports but `sizes`.
  assert.deepEqual(missingExports(loadAddon()), [], 'the product addon has every export of the contract');
  const other = createRequire(import.meta.url)(path.join(repoRoot, 'test', 'baseline', 'build', 'Release', 'cfx_baseline.node')) as object;
  const lacking = missingExports(other);
  assert.ok(lacking.includes('limits') && lacking.includes('SearchEngine'), lacking.join(', '));
  const s = diagnoseLoadError(staleBuildMessage(lacking), facts());
  assert.equal(s.kind, 'stale');
  assert.match(s.fix, /does not match this version's JavaScript; rebuild it: run `npm run build:native`/);
  assert.match(s.reason, /another cfx-miner version \(it has no .*limits/);
  // Anything else keeps today's general fix, and its whole text.
  const o = diagnoseLoadError('first line\nsecond line', facts());
  assert.deepEqual([o.kind, o.reason], ['other', 'first line second line']);
});
