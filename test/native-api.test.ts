// The addon's edge: every bad argument is a TypeError or RangeError with a clear message,
// never a crash; cancellation and handles behave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  CacheHandle, DatasetHandle, cpuFeatures, hashKeccak, hashOctopusLight, meetsBoundary, sizesForHeight, U256_MAX,
} from '../src/native/index.js';
import { loadAddon } from '../src/native/addon.js';
import { parseHeight, parseHex, parseHexUint } from '../src/hex.js';
import { baseline } from './support/baseline.js';
import { repoRoot } from './support/fixtures.js';

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
  for (const bad of ['-1', '1.5', 'abc', '', String(2 ** 40 + 1), -3, 0.5, NaN, Infinity]) {
    assert.throws(() => parseHeight(bad), (e: Error) => e instanceof RangeError || e instanceof TypeError, String(bad));
  }
});

test('the addon refuses wrong types, lengths and handles', async () => {
  const a = loadAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
  assert.throws(() => a.hashKeccak!(Buffer.alloc(31), Buffer.alloc(32)), { name: 'RangeError', message: /header must be 32 bytes/ });
  assert.throws(() => a.hashKeccak!('x', Buffer.alloc(32)), { name: 'TypeError' });
  assert.throws(() => a.hashOctopusLight!({}, header, 0n, 256), { name: 'TypeError', message: /not a valid handle/ });
  assert.throws(() => a.sizes!(-1), RangeError);
  assert.throws(() => a.sizes!(2 ** 40 + 1), RangeError);
  assert.throws(() => a.sizes!('1'), TypeError);
  assert.throws(() => a.sizes!(1.5), RangeError);
  const token = a.newCancelToken!();
  const cache = await CacheHandle.build(0);
  // A cancel token is not a cache: tags keep handles apart.
  assert.throws(() => a.hashOctopusLight!(token, header, 0n, 256), { name: 'TypeError' });
  assert.throws(() => a.hashOctopusLight!(cache.handle, header, -1n, 256), RangeError);
  assert.throws(() => a.hashOctopusLight!(cache.handle, header, 1n << 64n, 256), RangeError);
  assert.throws(() => a.hashOctopusLight!(cache.handle, header, 0n, 0), RangeError);
  assert.throws(() => hashOctopusLight(cache, header, 0n, 100), { name: 'RangeError', message: /multiple of 256/ });
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
  const a = loadAddon();
  assert.throws(() => a.hashOctopusFull(ds.handle, header, 0n), /released/);
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

test('cpuFeatures names the kernels in use, and CFX_MINER_NO_AVX512=1 turns every fast one off', () => {
  const f = cpuFeatures();
  assert.ok(['amx', 'avx512', 'portable'].includes(f.polyImpl), f.polyImpl);
  assert.equal(f.polyImpl === 'portable', !f.avx512, 'the polynomial is portable exactly when AVX-512 is off');
  const code = `import('${path.join(repoRoot, 'dist', 'src', 'native', 'hash.js')}').then((m) => console.log(JSON.stringify(m.cpuFeatures())))`;
  const forced = JSON.parse(execFileSync(process.execPath, ['-e', code], { env: { ...process.env, CFX_MINER_NO_AVX512: '1' } }).toString()) as typeof f;
  assert.deepEqual(forced, { avx512: false, keccakImpl: 'scalar', polyImpl: 'portable' });
});
