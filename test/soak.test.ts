// A CI-size soak: the real miner for 30 s against a node sending a job every 100 ms, sampled
// every second (bench/soak.ts runs the same for an hour by hand). Threads and descriptors must
// not grow once warmed up, memory must not grow past a generous bound, nothing is rejected, and
// the books balance and agree exactly with the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from './support/soak.js';

const SECONDS = 30;
/**
 * RSS may grow this much between the end of the 10 s warm-up and the end of a 30 s run. V8 sizes
 * its young and old generations from what the process allocates (a job every 100 ms, a few
 * solutions a second, log lines), and at 30 s a healthy miner is still finding that equilibrium:
 * measured here at 1-3 % on a ~55 MiB process. 10 % (~5 MiB) leaves room for a GC landing just
 * before the last sample, and still catches a leak per job or per batch of hashes (300 jobs and
 * tens of millions of hashes in 30 s: 20 KiB per job or a byte per thousand hashes is already
 * ~6 MiB). Slow leaks of bytes per job need the hour-long bench/soak.ts and its slope.
 */
const MAX_RSS_GROWTH_PCT = 10;

test(`soak (${SECONDS} s): threads and fds flat after warm-up, RSS bounded, nothing rejected, books balance`, { skip: process.platform !== 'linux' && 'samples /proc/PID (Linux only)' }, async (t) => {
  const r = await runSoak({ seconds: SECONDS, algo: 'keccak', threads: 2, t, log: (m) => t.diagnostic(m) });
  const b = r.books;
  t.diagnostic(`rss ${r.rssStartMb} -> ${r.rssEndMb} MiB (${r.rssGrowthPct} %, max ${r.rssMaxMb}), threads ${r.threadsStart} -> ${r.threadsEnd}, ` +
    `fds ${r.fdsStart} -> ${r.fdsEnd}, jobs ${r.node.jobs}, accepted ${b.accepted}, stale at node ${b.rejectedStale}`);
  t.diagnostic(`miner: ${b.line}`);

  // Enough samples for a trend. The sampler and the node's job timer run in this process, so a
  // busy machine delays both alike: counts, not rates (a sample is nominally one a second).
  assert.ok(r.samples.length >= SECONDS / 2, `${r.samples.length} samples in ${SECONDS} s`);
  const after = r.samples.filter((s) => s.t >= r.warmupSeconds);
  assert.ok(after.length >= (SECONDS - r.warmupSeconds) / 2, `${after.length} samples after warm-up`);
  assert.deepEqual(after.filter((s) => s.threads > r.threadsStart), [], `no sample after warm-up has more than ${r.threadsStart} threads`);
  assert.deepEqual(after.filter((s) => s.fds > r.fdsStart), [], `no sample after warm-up has more than ${r.fdsStart} descriptors`);
  assert.ok(r.rssGrowthPct < MAX_RSS_GROWTH_PCT, `RSS grew ${r.rssGrowthPct} % (${r.rssStartMb} -> ${r.rssEndMb} MiB)`);

  assert.deepEqual(r.exit, { code: 0, signal: null });
  assert.deepEqual(r.problems, [], 'the books balance and agree with the node');
  assert.equal(r.node.rejected, 0, 'the node saw no invalid nonce');
  assert.equal(r.node.duplicates, 0);
  assert.equal(b.rejected - b.rejectedStale, 0, 'no rejects other than submits that crossed a new job on the wire');
  assert.equal(b.accepted, r.node.accepted, 'no faults: every verdict reached the miner');
  assert.equal(b.timedOut, 0);
  assert.ok(b.accepted >= 10, `mining all along: ${b.accepted} accepted`);
  assert.ok(r.node.jobs >= r.samples.length * 5, `jobs all along (one every 100 ms, a sample every second): ${r.node.jobs} jobs, ${r.samples.length} samples`);
});
