// The keccak vectors through the search engine's 8-lane kernel: a vector's nonce is searched
// with a boundary just above its hash, so the engine must report exactly that hash for it. Runs
// on the path this CPU gets (AVX-512 where present) and again in a child process with
// CFX_MINER_NO_AVX512=1, the portable 8-lane path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SearchEngine, cpuFeatures, hashKeccak } from '../src/native/index.js';
import type { FoundNonce } from '../src/native/index.js';
import { loadVectors } from './support/fixtures.js';

const forcedPortable = (process.env.CFX_MINER_NO_AVX512 ?? '') !== '' && process.env.CFX_MINER_NO_AVX512 !== '0';

function waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() > deadline) return reject(new Error('timed out waiting'));
      setImmediate(tick);
    };
    tick();
  });
}

test(`keccak vectors through the search (${cpuFeatures().keccakImpl})`, async () => {
  if (forcedPortable) assert.equal(cpuFeatures().keccakImpl, 'scalar');
  const vectors = loadVectors().filter((v) => v.kind === 'keccak');
  assert.ok(vectors.length >= 8);
  let searched = 0;
  for (const v of vectors) {
    const header = Buffer.from(v.header.slice(2), 'hex');
    const nonce = BigInt(v.nonce);
    const hash = BigInt(v.hash);
    const boundary = hash + 1n; // hash < boundary holds for the vector's own nonce
    // One thread starts at the nonce rounded down to 1024 (the engine's alignment) and hashes in
    // order: only vectors with few solutions before theirs are searched, so that the solution
    // queue (bounded, issue 11) cannot be full when the vector's nonce comes.
    let before = 0;
    for (let m = nonce - (nonce % 1024n); m < nonce; m++) {
      if (BigInt('0x' + hashKeccak(header, m).toString('hex')) < boundary) before++;
    }
    if (before >= 32) continue;
    searched++;
    const found: FoundNonce[] = [];
    const engine = new SearchEngine(1, (f) => found.push(...f));
    try {
      engine.start({ algo: 'keccak', header, boundary, startNonce: nonce });
      await waitFor(() => found.some((f) => f.nonce === nonce), 20_000);
      const mine = found.find((f) => f.nonce === nonce)!;
      assert.equal('0x' + mine.hash.toString('hex'), v.hash, `search hash for ${v.header}`);
      for (const f of found) assert.ok(BigInt('0x' + f.hash.toString('hex')) <= hash, 'every solution is below the boundary');
    } finally {
      engine.destroy();
    }
  }
  assert.ok(searched >= 3, `${searched} vectors searched`);
});

test('the same on the portable path (CFX_MINER_NO_AVX512=1, child process)', { skip: forcedPortable }, () => {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, CFX_MINER_NO_AVX512: '1' }, encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(child.status, 0, `child failed:\n${child.stdout}\n${child.stderr}`);
  assert.match(child.stdout, /keccak vectors through the search \(scalar\)/);
});
