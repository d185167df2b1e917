// The native search engine seen from JS: real threads, solutions through the thread-safe
// callback, job switches that leave nothing of the old job behind, and a clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheHandle, SearchEngine, hashKeccak, meetsBoundary } from '../src/native/index.js';
import type { FoundNonce } from '../src/native/index.js';
import { hashOctopusLight, switched } from './support/native-hooks.js';
import { waitFor } from './support/wait.js';

const easy = (difficulty: bigint) => (1n << 256n) / difficulty;

function headerFor(i: number): Buffer {
  const h = Buffer.alloc(32);
  h.writeUInt32LE(i, 0);
  h.writeUInt32LE(0xc0ffee, 8);
  return h;
}

test('keccak: every solution verifies, no nonce twice, all threads work', async () => {
  const found: FoundNonce[] = [];
  const engine = new SearchEngine(2, (f) => found.push(...f));
  try {
    const header = headerFor(1);
    const boundary = easy(256n);
    const gen = engine.start({ algo: 'keccak', header, boundary, startNonce: 0xffff_ffff_ffff_f000n });
    await waitFor(() => found.length >= 500, 20_000);
    engine.pause();
    const seen = new Set<bigint>();
    for (const f of found) {
      assert.equal(f.generation, gen);
      const hash = hashKeccak(header, f.nonce);
      assert.deepEqual(hash, f.hash);
      assert.ok(meetsBoundary(hash, f.nonce, boundary));
      assert.ok(f.nonce < 1n << 64n, 'nonces stay within 64 bits (top bits zero)');
      assert.ok(!seen.has(f.nonce), `nonce ${f.nonce} reported twice`);
      seen.add(f.nonce);
    }
    const counts = engine.hashCounts();
    assert.equal(counts.length, 2);
    assert.ok(counts.every((c) => c > 0), 'both threads hashed');
  } finally {
    engine.destroy();
  }
});

test('replacing the job many times a second: no solution of an old job reaches JS', async () => {
  const found: FoundNonce[] = [];
  let current = 0;
  let stale = 0;
  const engine = new SearchEngine(2, (f) => {
    for (const x of f) if (x.generation !== current) stale++;
    found.push(...f);
  });
  try {
    const headers = new Map<number, Buffer>();
    for (let i = 0; i < 200; i++) {
      const header = headerFor(1000 + i);
      current = engine.start({ algo: 'keccak', header, boundary: easy(64n), startNonce: BigInt(i) << 32n });
      headers.set(current, header);
      // The next switch once this job's first solution came through (a few ms at difficulty 64):
      // the threads are then deep in this job, with more of its solutions on the way.
      const gen = current;
      await waitFor(() => found.some((f) => f.generation === gen), 10_000, `a solution of job ${i}`);
    }
    engine.pause();
    await switched(engine);
    assert.ok(found.length > 0, 'solutions found between switches');
    // start() does not wait for the threads, so solutions of a replaced job do reach the native
    // queue; the engine must have dropped (and counted) them rather than delivered them.
    assert.ok(engine.dropped.stale > 0, `old-job solutions were queued and dropped natively (${engine.dropped.stale})`);
    assert.equal(stale, 0, 'no solution for a replaced job was delivered');
    for (const f of found) {
      const header = headers.get(f.generation)!;
      assert.ok(meetsBoundary(hashKeccak(header, f.nonce), f.nonce, easy(64n)));
    }
  } finally {
    engine.destroy();
  }
});

test('octopus light mode on the real cache: solutions verify', async () => {
  const cache = await CacheHandle.build(0);
  const found: FoundNonce[] = [];
  const engine = new SearchEngine(2, (f) => found.push(...f));
  try {
    const header = headerFor(77);
    const boundary = easy(4n);
    engine.start({ algo: 'octopus', header, boundary, startNonce: 123_456_789n, cache, datasetBytes: 1 << 20 });
    await waitFor(() => found.length >= 6, 30_000);
    engine.pause();
    for (const f of found) {
      const hash = hashOctopusLight(cache, header, f.nonce, 1 << 20);
      assert.deepEqual(hash, f.hash);
      assert.ok(meetsBoundary(hash, f.nonce, boundary));
    }
  } finally {
    engine.destroy();
  }
});

test('pause and destroy stop every thread', async () => {
  const engine = new SearchEngine(2, () => {});
  engine.start({ algo: 'keccak', header: headerFor(5), boundary: easy(1n << 40n), startNonce: 0n });
  await waitFor(() => engine.totalHashes() > 10_000, 10_000);
  engine.pause(); // returns at once; the threads stop at their next abort check
  await switched(engine); // every thread acknowledges the pause (switchedAt(0))
  const after = engine.totalHashes();
  // Another engine's thread is the clock: a hundred thousand of its hashes pass, none of ours.
  const clock = new SearchEngine(1, () => {});
  try {
    clock.start({ algo: 'keccak', header: headerFor(7), boundary: 1n, startNonce: 0n });
    await waitFor(() => clock.totalHashes() > 100_000, 10_000, 'the clock engine to hash');
  } finally {
    clock.destroy();
  }
  assert.equal(engine.totalHashes(), after, 'no hashing once the pause was acknowledged');
  const before = performance.now();
  const gen = engine.start({ algo: 'keccak', header: headerFor(6), boundary: easy(1n << 40n), startNonce: 0n });
  await switched(engine);
  const at = engine.switchedAt(gen);
  assert.ok(at !== undefined && at >= before - 0.01 && at <= performance.now() + 0.01,
    `switchedAt ${at} lies between start() (${before}) and now, on performance.now()'s clock`);
  assert.equal(engine.switchedAt(gen - 1), undefined, 'the pause before it was replaced');
  assert.equal(engine.switchedAt(gen + 1), undefined, 'not published yet');
  assert.equal(engine.switchedAt(0), undefined, 'no thread is idle any more');
  assert.equal(engine.switchedAt(1.5), undefined);
  engine.destroy();
  engine.destroy();
  assert.equal(engine.switchedAt(gen), undefined, 'a destroyed engine has no threads to ask');
  assert.equal(engine.generation, 0);
  assert.throws(() => engine.start({ algo: 'keccak', header: headerFor(6), boundary: 1n, startNonce: 0n }), /destroyed/);
  const other = new SearchEngine(1, () => {});
  assert.throws(() => other.start({ algo: 'octopus', header: headerFor(1), boundary: 1n, startNonce: 0n }), /cache/);
  assert.throws(() => other.start({ algo: 'keccak', header: headerFor(1), boundary: 0n, startNonce: 0n }), RangeError);
  other.destroy();
});
