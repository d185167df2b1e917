// The farm against a real search (keccak, one native thread) and a real stratum client connected
// to the test node over TCP: the summary before and after a job, the node's verdicts in the
// shares and the effort, the tick's periodic records and lines (driven with explicit times, so
// no test waits minutes), and the shutdown's closing lines. Log lines are read back from a real
// JSON logger writing to a stream.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../src/log/logger.js';
import { StratumClient } from '../src/stratum/client.js';
import { Farm, ODDS_INTERVAL_MS } from '../src/miner/farm.js';
import type { FarmSettings } from '../src/miner/farm.js';
import { HISTORY_INTERVAL_MS } from '../src/miner/history.js';
import { selfTest } from '../src/native/index.js';
import { VERSION } from '../src/version.js';
import { TestNode } from './support/test-node.js';
import type { SubmitRecord, TestJob } from './support/test-node.js';
import { waitFor, waitForEvent } from './support/wait.js';

/** Keccak at this difficulty: about one to five solutions a second on one thread of a shared 2-core machine. */
const EASY = 1_000_000;
/** No solution in any test's lifetime: the threads hash, effort grows, nothing is found. */
const IMPOSSIBLE = 2n ** 120n;
const SOLUTION_WAIT_MS = 30_000;
const PRINT_INTERVAL_S = 10;

interface Line { level: string; tag: string; msg: string }

interface Rig {
  node: TestNode;
  client: StratumClient;
  farm: Farm;
  lines: Line[];
  /** Stops the farm once (the test's own stop, or the cleanup). */
  stop(): Promise<void>;
}

async function rig(t: TestContext, settings: Partial<FarmSettings> = {}): Promise<Rig> {
  const node = await TestNode.start({ algo: 'keccak', difficulty: IMPOSSIBLE });
  const stream = new PassThrough();
  const lines: Line[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const p of parts) lines.push(JSON.parse(p) as Line);
  });
  const log = createLogger({ level: 'info', json: true, color: false, stream });
  const client = new StratumClient({ hosts: [{ host: node.host, port: node.port }], worker: 'farm', password: '', logger: log });
  const farm = new Farm({
    settings: { algo: 'keccak', mode: 'light', threads: 1, hugePages: false, height: undefined, printIntervalS: PRINT_INTERVAL_S, ...settings },
    logger: log, pool: client, startReport: selfTest(),
    progress: () => ({ update() {}, stop() {} }),
    onFatal: () => assert.fail('the self-repair gave up'),
  });
  // As commands/mine.ts wires them.
  client.on('state', (ch) => farm.onConnection(ch.state));
  client.on('job', (job) => farm.onJob(job));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= farm.stop(() => client.close()).then(() => log.flush()));
  t.after(async () => {
    await stop();
    log.close();
    await node.close();
  });
  return { node, client, farm, lines, stop };
}

/** Subscribed, and the node's first job taken by the engine. */
async function connect(r: Rig, difficulty: bigint | number = IMPOSSIBLE): Promise<TestJob> {
  const subscribed = waitForEvent(r.client, 'subscribed', { timeoutMs: 10_000 });
  r.client.start();
  await subscribed;
  const job = r.node.newJob({ difficulty });
  await waitFor(() => r.farm.summary().job?.id === job.jobId, 10_000, 'the farm to take the job');
  return job;
}

function linesAfter(r: Rig, from: number, re: RegExp): Line[] {
  return r.lines.slice(from).filter((l) => re.test(l.msg));
}

test('summary() before any node: nothing hashed, not connected, and /health says so', async (t) => {
  const r = await rig(t);
  const s = r.farm.summary();
  assert.equal(s.version, VERSION);
  assert.deepEqual([s.algo, s.mode, s.threads], ['keccak', 'keccak', 1]);
  assert.deepEqual(s.connection, { host: r.node.host, port: r.node.port, state: 'disconnected' });
  assert.equal(s.job, null);
  assert.deepEqual(s.shares, { accepted: 0, rejected: 0, stale: 0 });
  assert.deepEqual([s.hashes, s.effort, s.best, s.expected_block_s], [0, 0, null, null]);
  assert.deepEqual(s.dataset, { state: 'idle', progress: 0, huge_pages_fraction: null });
  assert.equal(s.self_test.ok, true);
  assert.deepEqual(s.health, { ok: false, reasons: ['not connected to a node'] });
});

test('summary() with a job: its fields, connected, healthy, and the hashes and the 10 s rate grow with the ticks', async (t) => {
  const r = await rig(t);
  const job = await connect(r);
  const s = r.farm.summary();
  assert.equal(s.connection.state, 'connected');
  assert.deepEqual(s.job && { id: s.job.id, height: s.job.height, difficulty: s.job.difficulty }, { id: job.jobId, height: job.height, difficulty: job.difficulty });
  assert.deepEqual(s.health, { ok: true, reasons: [] });

  const t0 = performance.now();
  r.farm.tick(t0);
  const h0 = r.farm.summary().hashes;
  await waitFor(() => r.farm.summary().hashes > h0, 10_000, 'the search thread to count hashes');
  // Two samples 2.5 s apart (the windows need 2 s of data), whatever the wall clock did.
  r.farm.tick(t0 + 2_500);
  const later = r.farm.summary(t0 + 2_500);
  assert.ok(later.hashes > h0);
  assert.equal(later.hashrate.threads.length, 1);
  assert.ok((later.hashrate['10s'] ?? 0) > 0, `a 10 s rate once two samples span 2 s: ${later.hashrate['10s']}`);
  assert.ok(later.effort > 0, 'the hashes count as effort at the job\'s difficulty');
  assert.ok(later.expected_block_s !== null && later.expected_block_s > 0);
});

test('solutions the node accepts show in the shares, and effort starts again from zero', async (t) => {
  const r = await rig(t);
  await connect(r, IMPOSSIBLE);
  const t0 = performance.now();
  r.farm.tick(t0);
  const h0 = r.farm.summary().hashes;
  await waitFor(() => r.farm.summary().hashes > h0, 10_000, 'hashes on the impossible job');
  r.farm.tick(t0 + 1_000);
  assert.ok(r.farm.summary().effort > 0, 'effort grew on a job nothing solves');

  const accepted = waitForEvent<[SubmitRecord]>(r.node, 'submit', {
    timeoutMs: SOLUTION_WAIT_MS, what: 'an accepted submit', filter: (rec) => rec.verdict === 'accepted',
  });
  r.node.newJob({ difficulty: EASY });
  await accepted;
  await waitFor(() => r.farm.summary().shares.accepted >= 1, 10_000, 'the verdict in the shares');
  // No tick since: the answer itself reset effort.
  assert.equal(r.farm.summary().effort, 0);
  await waitFor(() => r.lines.some((l) => l.tag === 'share' && /^accepted \(1\/0\/0\)/.test(l.msg)), 5_000, 'the accepted line');
});

test('one tick drives the history sample, the speed line and the odds line, each on the first tick at or past its time', async (t) => {
  const before = performance.now();
  const r = await rig(t);
  const after = performance.now();
  await connect(r);
  const speed = /^speed 10s\/60s\/15m /;
  const odds = /^best .*; effort .*; a block every ~/;
  const from = r.lines.length;
  // The farm counts from its creation, somewhere in [before, after].
  r.farm.tick(before + HISTORY_INTERVAL_MS - 1);
  assert.equal(r.farm.history.size, 0, 'no history sample before its interval');
  r.farm.tick(after + HISTORY_INTERVAL_MS);
  assert.equal(r.farm.history.size, 1);
  r.farm.tick(before + PRINT_INTERVAL_S * 1000 - 1);
  assert.deepEqual(linesAfter(r, from, speed), [], 'no speed line before --print-interval');
  r.farm.tick(after + PRINT_INTERVAL_S * 1000);
  assert.equal(linesAfter(r, from, speed).length, 1, 'the speed line on the first tick past --print-interval');
  assert.equal(linesAfter(r, from, speed)[0]!.tag, 'cpu');
  r.farm.tick(after + PRINT_INTERVAL_S * 1000 + 1);
  assert.equal(linesAfter(r, from, speed).length, 1, 'not again on the next tick');
  assert.equal(r.farm.history.size, 2, 'the history sample of 10 s is due too');
  assert.deepEqual(linesAfter(r, from, odds), [], 'no odds line yet');

  r.farm.tick(after + ODDS_INTERVAL_MS);
  const oddsLines = linesAfter(r, from, odds);
  assert.equal(oddsLines.length, 1, 'the odds line once its 5 minutes are past');
  assert.equal(oddsLines[0]!.tag, 'share');
  // A tick far late (the event loop stalled): each line once, not once per missed period.
  const speedSoFar = linesAfter(r, from, speed).length;
  r.farm.tick(after + 3 * ODDS_INTERVAL_MS);
  assert.equal(linesAfter(r, from, speed).length, speedSoFar + 1);
  assert.equal(linesAfter(r, from, odds).length, 2);
});

test('the speed line says "waiting for the node" while there is none', async (t) => {
  const before = performance.now();
  const r = await rig(t);
  r.farm.tick(before + PRINT_INTERVAL_S * 1000 + 1_000);
  const waiting = r.lines.filter((l) => l.tag === 'net' && l.msg === `waiting for the node at ${r.node.host}:${r.node.port}`);
  assert.equal(waiting.length, 1);
});

test('stop(): the tick ends, the links close, and the summary, the books and the odds line are logged in that order', async (t) => {
  const r = await rig(t);
  r.farm.start();
  await connect(r, EASY);
  await waitFor(() => r.farm.summary().shares.accepted >= 1, SOLUTION_WAIT_MS, 'an accepted solution');
  const from = r.lines.length;
  await r.stop();
  const closing = r.lines.slice(from).filter((l) => l.tag === 'miner' || l.tag === 'share');
  const summaryAt = closing.findIndex((l) => /^summary: ran .*; accepted \d+, rejected \d+, stale \d+$/.test(l.msg));
  assert.ok(summaryAt >= 0, `a summary line among:\n${closing.map((l) => l.msg).join('\n')}`);
  assert.match(closing[summaryAt + 1]!.msg, /^\d+ hashes; found \d+, sent \d+/);
  assert.match(closing[summaryAt + 2]!.msg, /^best .*; effort /);
  assert.equal(r.client.state, 'closed');
  assert.equal(r.farm.summary().connection.state, 'disconnected', 'the client\'s last state reached the summary');
});
