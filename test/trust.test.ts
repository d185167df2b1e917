// Trustworthy when nothing happens (issue 20): at a difficulty no test can solve, the miner's
// internal shares give a best difficulty that the test node's own code re-hashes, an effort and
// an expected time to a block that match what the test computes, and a dataset damaged in
// memory is noticed through invalid shares and rebuilt, with no wrong solution reaching the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestNode } from './support/test-node.js';
import { keccakPowJs, meetsBoundaryJs } from './support/node-verifier.js';
import { baseline, baselineStage } from './support/baseline.js';
import { startMiner } from './support/miner-process.js';
import { freePort } from './support/net.js';
import { pollUntil, waitFor } from './support/wait.js';
import { MemoryLogger } from './support/memory-logger.js';
import { StratumClient } from '../src/stratum/client.js';
import { MiningEngine } from '../src/miner/engine.js';
import { booksBalance } from '../src/miner/books.js';
import { StageResources } from '../src/miner/resources.js';
import { SelfRepair } from '../src/miner/self-repair.js';
import { BlockOdds, expectedBlockSeconds, floorLog2, hashDifficulty, idealShareBits } from '../src/miner/shares.js';
import { CacheHandle, cpuFeatures, disableKernel, selfTest } from '../src/native/index.js';
import { fillDataset, switched } from './support/native-hooks.js';

const U256_MAX = (1n << 256n) - 1n;

test('share arithmetic: difficulty of a hash, the share difficulty, effort and expected time', () => {
  assert.equal(hashDifficulty(Buffer.alloc(32, 0xff)), 1n);
  const h = Buffer.alloc(32);
  h[3] = 1; // 2^224
  assert.equal(hashDifficulty(h), U256_MAX / (1n << 224n));
  assert.equal(hashDifficulty(Buffer.alloc(32)), U256_MAX, 'a zero hash meets every difficulty');
  assert.equal(floorLog2(1n), 0);
  assert.equal(floorLog2(1023n), 9);
  assert.equal(floorLog2(1024n), 10);
  assert.equal(idealShareBits(1_000_000, 10n ** 18n), 20, 'about one share a second at 1 MH/s');
  assert.equal(idealShareBits(1_000_000, 5000n), 12, 'never above the job difficulty (2^12 <= 5000)');
  assert.equal(idealShareBits(0.5, 10n ** 18n), 0);
  assert.equal(idealShareBits(1e30, 1n << 200n), 63, 'capped at 2^63');

  const odds = new BlockOdds();
  odds.sample(0, undefined);
  odds.sample(500, 1000n); // from 0: the counter starts with the engine
  odds.sample(1500, 4000n); // 1000 hashes under a job of difficulty 4000
  assert.equal(odds.effort, 0.5 + 0.25);
  odds.reset();
  odds.sample(2500, 1000n);
  assert.equal(odds.effort, 1);
  assert.equal(expectedBlockSeconds(3_000_000n, { '10s': 10, '60s': 20, '15m': 1000 }), 3000, 'the 15 min window first');
  assert.equal(expectedBlockSeconds(3_000_000n, { '10s': 1000, '60s': null, '15m': null }), 3000);
  assert.equal(expectedBlockSeconds(undefined, { '10s': 1000, '60s': null, '15m': null }), null);
  assert.equal(expectedBlockSeconds(1n, { '10s': null, '60s': null, '15m': null }), null);
});

test('the self-test passes on this CPU and names each kernel it checked', () => {
  const r = selfTest();
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.disabled, []);
  const { keccakImpl, polyImpl } = cpuFeatures();
  const names = r.kernels.map((k) => k.name);
  assert.ok(names.includes(`keccak-${keccakImpl === 'scalar' ? 'portable' : keccakImpl}`), names.join());
  assert.ok(names.includes(`poly-${polyImpl}`), names.join());
  assert.ok(r.kernels.every((k) => k.ok && k.ms >= 0));
});

interface Summary {
  hashes: number;
  hashrate: Record<string, number | null>;
  job: { id: string; difficulty: string } | null;
  best: { difficulty: string; nonce: string; job: string; height: number | null } | null;
  expected_block_s: number | null;
  effort: number;
  self_check: { share_difficulty: string | null; checked: number; invalid: number; effective_hps: number | null };
  self_test: { ok: boolean; kernels: { name: string; ok: boolean }[] };
}

test('unsolvable keccak job: best share re-hashed by the node\'s code, effort and expected time as computed here', async (t) => {
  const difficulty = 10n ** 13n; // ~1e6 s at 10 MH/s: nothing is found in a test
  const node = new TestNode({ algo: 'keccak', difficulty, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  const httpPort = await freePort();
  const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'trust', '--algo', 'keccak', '--threads', '2',
    '--http-port', String(httpPort)], { t });
  const base = `http://127.0.0.1:${httpPort}`;
  await miner.waitForLine(/self-test ok/, 10_000);
  const s = await pollUntil(async () => {
    const res = await fetch(`${base}/summary`);
    const j = (await res.json()) as Summary;
    return j.self_check.checked >= 8 && j.best && j.hashrate['15m'] ? j : undefined;
  }, 60_000, '8 shares checked');
  assert.ok(s.self_test.ok);
  assert.equal(s.self_check.invalid, 0);
  // The best share, re-hashed by the test node's own keccak (plain JS, none of the miner's code).
  const best = s.best!;
  const job = node.jobs.get(best.job)?.job;
  assert.ok(job, `the best share's job ${best.job} is one the node sent`);
  const hash = keccakPowJs(job.powHash, BigInt(best.nonce));
  assert.equal(BigInt(best.difficulty), U256_MAX / BigInt(`0x${hash.toString('hex')}`), 'best difficulty = floor((2^256-1)/hash)');
  assert.ok(BigInt(best.difficulty) >= BigInt(s.self_check.share_difficulty!), 'the best meets the share difficulty');
  assert.equal(best.height, 0);
  const shareDiff = BigInt(s.self_check.share_difficulty!);
  assert.equal(shareDiff & (shareDiff - 1n), 0n, 'the share difficulty is a power of two');
  assert.ok(shareDiff <= difficulty);
  // Expected time to a block: the job's difficulty over the 15 min rate, both read from the same answer.
  assert.ok(Math.abs(s.expected_block_s! - Number(difficulty) / s.hashrate['15m']!) <= 1e-9 * s.expected_block_s!);
  assert.ok(s.self_check.effective_hps! > 0);

  const exit = await miner.stop('SIGINT');
  assert.equal(exit.code, 0);
  // The closing lines: N hashes, and effort = N / difficulty (one job difficulty throughout).
  const text = miner.lines.join('\n');
  const hashes = Number(/ (\d+) hashes; found 0/.exec(text)?.[1]);
  const effortPct = Number(/effort ([0-9.e+-]+)%/.exec(text.split('\n').reverse().join('\n'))?.[1]);
  assert.ok(hashes > 0 && Number.isFinite(effortPct), text.slice(-600));
  const expected = (hashes / Number(difficulty)) * 100;
  assert.ok(Math.abs(effortPct - expected) <= expected * 0.005, `effort ${effortPct}% vs ${hashes} / ${difficulty} = ${expected}%`);
  assert.equal(node.stats.submits, 0);
});

test('a dataset damaged after its build: invalid shares, the self-test, a rebuild, full mode again; no wrong submit', async (t) => {
  const datasetBytes = 1 << 20; // a test-sized dataset built from the real stage-0 cache
  const height = 3;
  // The node verifies with the independent baseline over the same small dataset size.
  const verifier = {
    async verify(job: { header: Buffer; boundary: bigint }, nonce: bigint): Promise<{ valid: boolean }> {
      const s = await baselineStage(0);
      const hash = await baseline().hashLight(s.cache, job.header, nonce, datasetBytes);
      return { valid: meetsBoundaryJs(hash, nonce, job.boundary) };
    },
  };
  const node = new TestNode({ algo: 'octopus', difficulty: 1n << 19n, height, notifyOnSubscribe: true, verifier, jobIntervalMs: 2000 });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();

  const log = new MemoryLogger();
  const resources = new StageResources({
    mode: 'full', threads: 2, hugePages: false, logger: log, datasetBytes: () => datasetBytes,
    progress: () => ({ update() {}, stop() {} }),
    onDatasetReady: (stage) => { engine.onDatasetReady(stage); repair.onDatasetReady(stage); },
  });
  const client = new StratumClient({ hosts: [{ host, port }], worker: 'damaged', password: '', logger: log, requestTimeoutMs: 10_000 });
  const engine: MiningEngine = new MiningEngine({
    algo: 'octopus', threads: 2, logger: log, pool: client, resources, onInvalidShare: (s) => repair.onInvalid(s),
  });
  const fatal: string[] = [];
  const repair: SelfRepair = new SelfRepair({
    engine, resources, logger: log, selfTest, disableKernel, kernels: cpuFeatures, onFatal: (m) => fatal.push(m),
  });
  client.on('job', (job) => engine.onJob(job));
  // The share difficulty as the miner sets it: about one share a second at the measured rate.
  const sampler = setInterval(() => {
    engine.sampleShares(performance.now());
  }, 500);
  t.after(async () => {
    clearInterval(sampler);
    await engine.stop(0);
    await client.close();
    await resources.close();
  });
  client.start();
  await waitFor(() => engine.mode === 'full', 60_000, 'full mode on the test dataset');
  engine.retargetShares(20_000); // a few shares a second here, whatever this machine's speed
  await waitFor(() => engine.selfCheck.checked >= 5, 60_000, '5 good shares in full mode');
  assert.equal(engine.selfCheck.invalid, 0);

  // Damage: an eighth of the items recomputed from another stage's cache, while the threads read them.
  const dataset = resources.datasetIfReady(0)!;
  const wrong = await CacheHandle.build(1);
  fillDataset(dataset, wrong, 0, datasetBytes / 64 / 8);
  const damagedAt = performance.now();

  await waitFor(() => log.lines.some((l) => /the dataset for stage 0 looks damaged in memory: rebuilding it/.test(l.msg)), 60_000, 'the rebuild');
  const noticedMs = performance.now() - damagedAt;
  await waitFor(() => log.lines.some((l) => /rebuilt after invalid shares: back in full mode/.test(l.msg)), 60_000, 'full mode again');
  assert.equal(engine.mode, 'full');
  const errors = log.lines.filter((l) => l.level === 'error');
  assert.match(errors[0]?.msg ?? '', /^self-check: the search hashed nonce 0x[0-9a-f]+ of job [0-9a-f]{8} wrong in full mode \(keccak [a-z0-9]+, polynomial [a-z0-9]+\): search 0x[0-9a-f]{16}\.\., re-check 0x[0-9a-f]{16}\.\.; a kernel or memory fault: running the self-test$/);
  assert.ok(log.lines.some((l) => /^self-test passed/.test(l.msg)), 'the self-test ran and passed');
  const invalidAtRepair = engine.selfCheck.invalid;
  assert.ok(invalidAtRepair >= 1);
  // After the rebuild: good shares again, no new invalid one, and never a wrong submit.
  const checkedAtRepair = engine.selfCheck.checked;
  await waitFor(() => engine.selfCheck.checked >= checkedAtRepair + 5, 60_000, '5 more good shares after the rebuild');
  assert.equal(engine.selfCheck.invalid, invalidAtRepair, 'no invalid share after the rebuild');
  assert.deepEqual(fatal, []);
  assert.equal(repair.healthReasons().length, 0, 'healthy again');
  const wrongSubmits = node.submits.filter((s) => s.verdict === 'invalid');
  assert.equal(wrongSubmits.length, 0, 'no solution the re-check rejects reaches the node');
  assert.ok(booksBalance(engine.totals));
  t.diagnostic(`damage noticed in ${Math.round(noticedMs)} ms; ${invalidAtRepair} invalid shares before the repair; ` +
    `${node.stats.accepted} solutions accepted`);
});

test('GET /health: 200 while mining, 503 with a reason when the node goes away, 200 again when it returns', async (t) => {
  const node = new TestNode({ algo: 'keccak', difficulty: 10n ** 15n, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  const httpPort = await freePort();
  const token = 'health-test-token';
  const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'health', '--algo', 'keccak', '--threads', '1',
    '--http-port', String(httpPort)], { t, env: { CFX_MINER_HTTP_TOKEN: token } });
  const url = `http://127.0.0.1:${httpPort}/health`;
  const health = async (): Promise<{ status: number; body: { ok: boolean; reasons: string[] } }> => {
    const res = await fetch(url); // no token: /health tells nothing secret
    return { status: res.status, body: (await res.json()) as { ok: boolean; reasons: string[] } };
  };
  const first = await pollUntil(async () => { try { const h = await health(); return h.status === 200 ? h : undefined; } catch { return undefined; } },
    30_000, '/health 200 while mining');
  assert.deepEqual(first.body.ok, true);
  assert.deepEqual(first.body.reasons, []);
  assert.equal((await fetch(`http://127.0.0.1:${httpPort}/summary`)).status, 401, 'the data itself still needs the token');

  await node.stopListening();
  node.dropConnections();
  const down = await pollUntil(async () => { const h = await health(); return h.status === 503 ? h : undefined; }, 15_000, '/health 503');
  assert.equal(down.body.ok, false);
  assert.ok(down.body.reasons.includes('not connected to a node'), down.body.reasons.join('; '));

  await node.listen(); // the same port: the miner's next attempt subscribes and gets the job
  const back = await pollUntil(async () => { const h = await health(); return h.status === 200 ? h : undefined; }, 60_000, '/health 200 again');
  assert.equal(back.body.ok, true);
  assert.equal((await miner.stop('SIGINT')).code, 0);
});

test('the odds line formats: effort to three digits, the expected time in years past one', async () => {
  const { formatEffort, formatExpected } = await import('../src/miner/status.js');
  assert.equal(formatEffort(0), '0%');
  assert.equal(formatEffort(0.000123456), '0.0123%');
  assert.equal(formatEffort(0.4567), '45.7%');
  assert.equal(formatEffort(2.345), '235%');
  assert.equal(formatExpected(null), 'n/a');
  assert.equal(formatExpected(90), '1 min 30 s');
  assert.equal(formatExpected(3 * 86_400 + 4 * 3600), '3 d 04 h');
  assert.equal(formatExpected(2 * 365.25 * 86_400), '2.0 years');
  assert.equal(formatExpected(1e4 * 365.25 * 86_400), '1.00e+4 years');
});

test('Octopus shares from the search: each re-hashes the same, meets 2^bits, and they come at the rate 2^bits says', async () => {
  const { SearchEngine } = await import('../src/native/index.js');
  const { hashOctopusLight } = await import('./support/native-hooks.js');
  const cache = await CacheHandle.build(0);
  const bits = 8;
  const shares: { nonce: bigint; hash: Buffer; bits: number }[] = [];
  const engine = new SearchEngine(1, () => {}, (s) => shares.push(...s));
  try {
    engine.setShareBits(bits);
    // Unsolvable (boundary 1), so every hit is a share; a test-sized dataset size keeps it light and quick.
    engine.start({ algo: 'octopus', header: Buffer.alloc(32, 9), boundary: 1n, startNonce: 1n << 40n, cache, datasetBytes: 1 << 20 });
    await waitFor(() => shares.length >= 200, 120_000, '200 shares');
    engine.pause();
    await switched(engine);
    const hashes = engine.totalHashes();
    // Poisson: 2^bits hashes a share on average; 200+ shares put the ratio within 30% at 4 sigma.
    const ratio = (shares.length * 2 ** bits) / hashes;
    assert.ok(ratio > 0.7 && ratio < 1.3, `${shares.length} shares over ${hashes} hashes at 2^${bits}: ratio ${ratio.toFixed(3)}`);
    for (const s of shares.slice(0, 40)) {
      assert.equal(s.bits, bits);
      assert.ok(s.hash.readBigUInt64BE(0) < 1n << BigInt(64 - bits), 'meets the share difficulty');
      assert.ok(hashOctopusLight(cache, Buffer.alloc(32, 9), s.nonce, 1 << 20).equals(s.hash), `share 0x${s.nonce.toString(16)} re-hashes the same`);
    }
  } finally {
    engine.destroy();
  }
});

test('GET /health: 503 while the node leaves the last submit unanswered, 200 once it answers again', async (t) => {
  const node = new TestNode({ algo: 'keccak', difficulty: 3_000_000, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  node.behaviour.answerSubmits = false;
  const httpPort = await freePort();
  const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'unanswered', '--algo', 'keccak', '--threads', '1',
    '--http-port', String(httpPort), '--request-timeout-ms', '1000'], { t });
  const url = `http://127.0.0.1:${httpPort}/health`;
  const get = async (): Promise<{ status: number; reasons: string[] }> => {
    const res = await fetch(url);
    return { status: res.status, reasons: ((await res.json()) as { reasons: string[] }).reasons };
  };
  const down = await pollUntil(async () => {
    try { const h = await get(); return h.reasons.some((r) => /did not answer the last submit/.test(r)) ? h : undefined; } catch { return undefined; }
  }, 60_000, '/health naming the unanswered submit');
  assert.equal(down.status, 503);
  node.behaviour.answerSubmits = true;
  const up = await pollUntil(async () => { const h = await get(); return h.status === 200 ? h : undefined; }, 60_000, '/health 200 once answers come');
  assert.deepEqual(up.reasons, []);
  assert.equal((await miner.stop('SIGINT')).code, 0);
});
