// Opt-in (npm run test:full): real datasets (4+ GiB each, built on all cores) and every vector at
// their heights in full mode. Skipped unless CFX_MINER_FULL_TESTS=1, since CI machines build
// small datasets only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { CacheHandle, DatasetHandle, STAGE_LENGTH, sizesForHeight } from '../src/native/index.js';
import { hashOctopusFull } from './support/native-hooks.js';
import { parseHex } from '../src/hex.js';
import { loadVectors } from './support/fixtures.js';

const enabled = process.env.CFX_MINER_FULL_TESTS === '1';
const vectors = loadVectors();

test('every octopus vector in full mode over a real dataset', { skip: !enabled && 'set CFX_MINER_FULL_TESTS=1 (builds 4+ GiB datasets)', timeout: 30 * 60_000 }, async () => {
  const stages = [...new Set(vectors.flatMap((v) => (v.kind === 'octopus' ? [Math.floor(v.height / STAGE_LENGTH)] : [])))];
  const limit = Number(process.env.CFX_MINER_FULL_STAGES ?? stages.length);
  for (const stage of stages.slice(0, limit)) {
    const cache = await CacheHandle.build(stage);
    const { datasetBytes } = sizesForHeight(stage * STAGE_LENGTH);
    const t0 = performance.now();
    const dataset = await DatasetHandle.build(cache, { threads: os.availableParallelism(), bytes: datasetBytes });
    process.stderr.write(`stage ${stage}: ${(datasetBytes / 2 ** 30).toFixed(2)} GiB built in ${((performance.now() - t0) / 1000).toFixed(1)} s, huge pages ${dataset.hugePages}\n`);
    try {
      for (const v of vectors) {
        if (v.kind !== 'octopus' || Math.floor(v.height / STAGE_LENGTH) !== stage) continue;
        const hash = hashOctopusFull(dataset, parseHex(v.header, 'header', 32), BigInt(v.nonce));
        assert.equal('0x' + hash.toString('hex'), v.hash, `full hash for ${v.header} at ${v.height}`);
      }
    } finally {
      dataset.release();
    }
  }
});
