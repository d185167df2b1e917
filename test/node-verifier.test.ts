// The test node's own checks (test/support/node-verifier.ts, test/support/baseline.ts) against
// the reference vectors and against the addon: implementations that must agree bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashKeccak, meetsBoundary } from '../src/native/index.js';
import { keccak256Fast, keccak256Js } from './support/keccak-js.js';
import { keccakPowJs, meetsBoundaryJs, NodeVerifier } from './support/node-verifier.js';
import { BASELINE_STAGE_LENGTH, baseline, baselineHash, baselineStage } from './support/baseline.js';
import { loadVectors } from './support/fixtures.js';

test('keccak256Fast equals the BigInt reference for every length 0..300', () => {
  for (let len = 0; len <= 300; len++) {
    const data = randomBytes(len);
    assert.equal(keccak256Fast(data).toString('hex'), keccak256Js(data), `length ${len}`);
  }
  assert.equal(keccak256Fast(Buffer.alloc(0)).toString('hex'), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
});

test('keccakPowJs reproduces every keccak reference vector', () => {
  const keccak = loadVectors().filter((v) => v.kind === 'keccak');
  assert.ok(keccak.length > 0, 'the fixture has keccak lines');
  for (const v of keccak) {
    const header = Buffer.from(v.header.replace(/^0x/, ''), 'hex');
    assert.equal(`0x${keccakPowJs(header, BigInt(v.nonce)).toString('hex')}`, v.hash);
  }
});

test('keccakPowJs and meetsBoundaryJs agree with the addon on random inputs', () => {
  for (let i = 0; i < 300; i++) {
    const header = randomBytes(32);
    const nonce = BigInt(`0x${randomBytes(i % 3 === 0 ? 32 : 8).toString('hex')}`);
    const hash = keccakPowJs(header, nonce);
    assert.deepEqual(hash, hashKeccak(header, nonce));
    const boundary = BigInt(`0x${randomBytes(32).toString('hex')}`) >> BigInt(i % 256) || 1n;
    assert.equal(meetsBoundaryJs(hash, nonce, boundary), meetsBoundary(hash, nonce, boundary), `case ${i}`);
  }
});

test('the baseline addon reproduces every sizes, cache node and Octopus reference line', async () => {
  const vectors = loadVectors();
  const sizes = vectors.filter((v) => v.kind === 'sizes');
  assert.ok(sizes.length > 0, 'the fixture has sizes lines');
  for (const v of sizes) {
    assert.deepEqual(baseline().sizes(v.stage), { cacheBytes: v.cache_bytes, datasetBytes: v.dataset_bytes }, `stage ${v.stage}`);
  }
  const items = vectors.filter((v) => v.kind === 'dag_item');
  assert.ok(items.length > 0, 'the fixture has dag_item lines');
  for (const v of items) {
    const { cache } = await baselineStage(Math.floor(v.height / BASELINE_STAGE_LENGTH));
    const node = (v.index % (cache.length / 64)) * 64;
    assert.equal(`0x${cache.subarray(node, node + 64).toString('hex')}`, v.cache_node, `cache node of item ${v.index}`);
  }
  const octopus = vectors.filter((v) => v.kind === 'octopus');
  assert.equal(octopus.length, 25, 'every Octopus line');
  const verifier = new NodeVerifier();
  for (const v of octopus) {
    const header = Buffer.from(v.header.replace(/^0x/, ''), 'hex');
    const nonce = BigInt(v.nonce);
    const hash = await baselineHash(header, v.height, nonce);
    assert.equal(`0x${hash.toString('hex')}`, v.hash, `height ${v.height} nonce ${v.nonce}`);
    // The node's verdict at the boundary: hash < boundary is a solution, hash itself is not.
    const h = BigInt(v.hash);
    assert.equal((await verifier.verify({ algo: 'octopus', header, height: v.height, boundary: h + 1n }, nonce)).valid, true);
    assert.equal((await verifier.verify({ algo: 'octopus', header, height: v.height, boundary: h }, nonce)).valid, false);
  }
});

test('the baseline addon rejects bad arguments with a TypeError or RangeError', async () => {
  const b = baseline();
  const { cache, datasetBytes } = await baselineStage(0);
  const h = Buffer.alloc(32);
  for (const bad of [-1, 1.5, NaN, 2 ** 22, 'x', undefined]) assert.throws(() => b.sizes(bad as never), /TypeError|RangeError/);
  assert.throws(() => b.buildCache(1e9), RangeError, 'a cache over 2 GiB is refused');
  const good = [cache, h, 0n, datasetBytes] as const;
  const bads: unknown[][] = [[Buffer.alloc(63), 'x', undefined], [Buffer.alloc(31), 'x'], [-1n, 2n ** 64n, 'x'], [0, 255, 257, 2 ** 41]];
  for (let i = 0; i < bads.length; i++) {
    for (const bad of bads[i]!) {
      const args = [...good] as unknown[];
      args[i] = bad;
      assert.throws(() => b.hashLight(...(args as Parameters<typeof b.hashLight>)), (e: unknown) => e instanceof TypeError || e instanceof RangeError);
    }
  }
  assert.throws(() => b.hashLightLoop(cache, h, 0n, datasetBytes, 0), RangeError);
});
