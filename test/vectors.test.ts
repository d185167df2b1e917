// Every line of the reference vectors through the addon: light mode, and full (dataset) mode
// both at the real dataset size (sparse dataset holding the pages the hash reads) and over
// small datasets built from the real cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheHandle, DatasetHandle, STAGE_LENGTH, hashKeccak, sizesForHeight } from '../src/native/index.js';
import { parseHex } from '../src/hex.js';
import { loadVectors } from './support/fixtures.js';
import { allocateDataset, cacheNode, dagItem, fillDataset, hashOctopusFull, hashOctopusLight, octopusTrace } from './support/native-hooks.js';

const vectors = loadVectors();
const caches = new Map<number, Promise<CacheHandle>>();
function cacheFor(height: number): Promise<CacheHandle> {
  const stage = Math.floor(height / STAGE_LENGTH);
  if (!caches.has(stage)) caches.set(stage, CacheHandle.build(stage));
  return caches.get(stage)!;
}
const hex = (b: Buffer) => '0x' + b.toString('hex');

test('the fixture holds every kind of vector', () => {
  const kinds = new Set(vectors.map((v) => v.kind));
  assert.deepEqual([...kinds].sort(), ['dag_item', 'keccak', 'octopus', 'sizes']);
  assert.equal(vectors.length, 50);
});

test('sizes: stage, seed, cache and dataset bytes', () => {
  let n = 0;
  for (const v of vectors) {
    if (v.kind !== 'sizes') continue;
    const s = sizesForHeight(v.height);
    assert.equal(s.stage, v.stage, `stage at ${v.height}`);
    assert.equal(hex(s.seed), v.seed, `seed at ${v.height}`);
    assert.equal(s.cacheBytes, v.cache_bytes, `cache bytes at ${v.height}`);
    assert.equal(s.datasetBytes, v.dataset_bytes, `dataset bytes at ${v.height}`);
    n++;
  }
  assert.ok(n >= 9);
});

test('dag items and cache nodes', async () => {
  for (const v of vectors) {
    if (v.kind !== 'dag_item') continue;
    const cache = await cacheFor(v.height);
    assert.equal(hex(cacheNode(cache, v.index % cache.nodes)), v.cache_node, `cache node for item ${v.index}`);
    assert.equal(hex(dagItem(cache, v.index)), v.item, `dag item ${v.index}`);
  }
});

test('octopus in light mode: a, b, c, w, polynomial values, digest and hash', async () => {
  for (const v of vectors) {
    if (v.kind !== 'octopus') continue;
    const cache = await cacheFor(v.height);
    const header = parseHex(v.header, 'header', 32);
    const nonce = BigInt(v.nonce);
    const t = octopusTrace(cache, header, nonce);
    const what = `${v.header} at ${v.height}, nonce ${v.nonce}`;
    if (v.a !== undefined) assert.deepEqual([t.a, t.b, t.c, t.w], [v.a, v.b, v.c, v.w], `a b c w for ${what}`);
    if (v.poly_values) assert.deepEqual(t.values, v.poly_values, `values for ${what}`);
    if (v.poly_digest) assert.equal('0x' + t.digest.toString(16).padStart(16, '0'), v.poly_digest, `digest for ${what}`);
    assert.equal(hex(t.hash), v.hash, `trace hash for ${what}`);
    assert.equal(hex(hashOctopusLight(cache, header, nonce)), v.hash, `light hash for ${what}`);
  }
});

test('octopus in full mode at the real dataset size reads the right items', async () => {
  // The dataset is reserved at its real size (4-9 GiB of untouched address space) and only the
  // 32 pages light mode says the hash visits are filled: a full-mode hash that computed any page
  // differently would read zeros and miss the vector.
  for (const v of vectors) {
    if (v.kind !== 'octopus') continue;
    const cache = await cacheFor(v.height);
    const header = parseHex(v.header, 'header', 32);
    const nonce = BigInt(v.nonce);
    const { datasetBytes } = sizesForHeight(v.height);
    const dataset = allocateDataset(cache.stage, datasetBytes);
    try {
      for (const page of octopusTrace(cache, header, nonce).pages) fillDataset(dataset, cache, page * 4, 4);
      assert.equal(hex(hashOctopusFull(dataset, header, nonce)), v.hash, `full hash for ${v.header} at ${v.height}`);
    } finally {
      dataset.release();
    }
  }
});

test('octopus in full mode over small datasets built from the real cache equals light mode', async () => {
  const byStage = new Map<number, Extract<(typeof vectors)[number], { kind: 'octopus' }>[]>();
  for (const v of vectors) {
    if (v.kind !== 'octopus' || v.height >= 2 * STAGE_LENGTH) continue;  // the low-height stages
    const stage = Math.floor(v.height / STAGE_LENGTH);
    byStage.set(stage, [...(byStage.get(stage) ?? []), v]);
  }
  assert.deepEqual([...byStage.keys()].sort(), [0, 1]);
  for (const [stage, lines] of byStage) {
    const cache = await cacheFor(stage * STAGE_LENGTH);
    for (const bytes of [256 * 4099, 4 << 20]) {
      const dataset = await DatasetHandle.build(cache, { bytes, threads: 2 });
      assert.equal(dataset.bytes, bytes);
      for (const v of lines) {
        const header = parseHex(v.header, 'header', 32);
        const nonce = BigInt(v.nonce);
        const light = hashOctopusLight(cache, header, nonce, bytes);
        assert.equal(hex(hashOctopusFull(dataset, header, nonce)), hex(light), `full == light, ${bytes} bytes, ${v.header}`);
      }
      assert.equal(dataset.stage, stage);
      dataset.release();
    }
  }
});

test('keccak test PoW', () => {
  let n = 0;
  for (const v of vectors) {
    if (v.kind !== 'keccak') continue;
    assert.equal(hex(hashKeccak(parseHex(v.header, 'header', 32), BigInt(v.nonce))), v.hash, `keccak for ${v.header}`);
    n++;
  }
  assert.ok(n >= 8);
});
