// MiningEngine on its own, in this process: a real native search (keccak, one thread, easy
// targets) and a real StratumClient to the test node over TCP on 127.0.0.1. What is asserted is
// what the node recorded and the engine's books; nothing waits on a clock, every wait is for an
// event or a state, with a deadline.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { MiningEngine } from '../src/miner/engine.js';
import { booksBalance } from '../src/miner/books.js';
import type { ShareCounts } from '../src/miner/books.js';
import { alreadySolvedBy } from '../src/miner/verdicts.js';
import { StageResources } from '../src/miner/resources.js';
import type { Job } from '../src/miner/job.js';
import type { SubmitTarget } from '../src/miner/pool.js';
import { StratumClient } from '../src/stratum/client.js';
import { TestNode } from './support/test-node.js';
import type { SubmitRecord, TestNodeOptions } from './support/test-node.js';
import { SubmitLedger } from './support/books.js';
import { MemoryLogger } from './support/memory-logger.js';
import { waitFor, waitForEvent } from './support/wait.js';

/** Keccak at this difficulty: about one to five solutions a second on one thread of a shared 2-core machine. */
const DIFFICULTY = 1_000_000;
const SOLUTION_WAIT_MS = 30_000;

interface Rig {
  node: TestNode;
  client: StratumClient;
  engine: MiningEngine;
  logger: MemoryLogger;
}

/**
 * A node, a client subscribed to it and an engine wired as the miner wires them (jobs in,
 * disconnects pause). `pool`: what the engine submits through, given the client (default: the client).
 */
async function rig(t: TestContext, nodeOptions: TestNodeOptions = {}, pool?: (client: StratumClient) => SubmitTarget): Promise<Rig> {
  const node = await TestNode.start({ algo: 'keccak', difficulty: DIFFICULTY, ...nodeOptions });
  const logger = new MemoryLogger();
  const client = new StratumClient({
    hosts: [{ host: node.host, port: node.port }], worker: 'engine', password: '', logger,
    backoff: { initialMs: 50, maxMs: 200, jitter: 0 },
  });
  const resources = new StageResources({ mode: 'light', threads: 1, hugePages: false, logger, progress: () => ({ update() {}, stop() {} }) });
  const engine = new MiningEngine({ algo: 'keccak', threads: 1, logger, pool: pool ? pool(client) : client, resources });
  t.after(async () => {
    await engine.stop(0);
    await client.close();
    await resources.close();
    await node.close();
  });
  client.on('job', (job: Job) => engine.onJob(job));
  client.on('state', (s: { state: string }) => { if (s.state === 'disconnected') engine.onDisconnected(); });
  const up = waitForEvent(client, 'subscribed', { timeoutMs: 10_000, what: 'the client subscribed' });
  client.start();
  await up;
  return { node, client, engine, logger };
}

function accepted(node: TestNode, filter: (r: SubmitRecord) => boolean = () => true): Promise<unknown> {
  return waitForEvent<[SubmitRecord]>(node, 'submit', {
    timeoutMs: SOLUTION_WAIT_MS, what: 'an accepted submit', filter: (r) => r.verdict === 'accepted' && filter(r),
  });
}

/** Pauses the search and waits until nothing is being checked or sent: the books are final. */
async function settle(engine: MiningEngine): Promise<ShareCounts> {
  engine.pause();
  await waitFor(() => engine.totals.checking === 0 && engine.totals.inFlight === 0, 15_000, 'no solution in the pipeline');
  const totals = engine.totals;
  assert.ok(booksBalance(totals), `the books balance: ${JSON.stringify(totals)}`);
  return totals;
}

test('a job arrives: solutions are found, checked, submitted and accepted; the books balance and the node agrees', async (t) => {
  const { node, engine } = await rig(t);
  assert.equal(engine.mode, 'idle');
  const job = node.newJob();
  await waitFor(() => node.stats.accepted >= 3, SOLUTION_WAIT_MS, 'three accepted solutions');
  assert.equal(engine.currentJob?.jobId, job.jobId);
  assert.equal(engine.mode, 'keccak');
  assert.ok(engine.generation > 0, 'hashing');
  const totals = await settle(engine);
  assert.equal(engine.generation, 0, 'paused');
  assert.equal(totals.accepted, node.stats.accepted, 'every solution the node accepted, and no other');
  assert.equal(totals.submitted, node.stats.submits, 'every submit the node recorded');
  assert.equal(totals.rejected + totals.timedOut + totals.lost + totals.pending + totals.withheld, 0);
  assert.ok(node.submits.every((r) => r.verdict === 'accepted' && r.job?.jobId === job.jobId));
  assert.ok(totals.found >= totals.submitted);
  assert.ok(engine.totalHashes() >= totals.found, 'no more solutions than hashes');
  assert.ok(engine.selfCheck.checked >= totals.submitted, 'each solution was re-checked as a share');
  assert.equal(engine.selfCheck.invalid, 0);
});

test('a replaced job: once onJob has returned, nothing more is submitted for the job it replaced', async (t) => {
  // Which jobs had been replaced when each submit left the engine (through the real client).
  const replaced = new Set<Job>();
  const lateSends: string[] = [];
  const perJob = new Map<string, number>();
  const { node, client, engine } = await rig(t, { difficulty: 200_000 }, (c) => ({
    submit(job, nonce, onLate) {
      if (replaced.has(job)) lateSends.push(`${job.jobId} nonce ${nonce}`);
      perJob.set(job.jobId, (perJob.get(job.jobId) ?? 0) + 1);
      return c.submit(job, nonce, onLate);
    },
  }));
  // The rig's listener calls engine.onJob first; this one runs after it returned.
  let previous: Job | undefined;
  client.on('job', (job: Job) => {
    if (previous) replaced.add(previous);
    previous = job;
  });
  const JOBS = 8;
  for (let i = 0; i < JOBS; i++) {
    const job = node.newJob();
    // A submit for this job: the search runs it, and the one before had solutions on the way.
    await waitFor(() => (perJob.get(job.jobId) ?? 0) >= 1, SOLUTION_WAIT_MS, `a submit for job ${i + 1}`);
  }
  const totals = await settle(engine);
  assert.equal(replaced.size, JOBS - 1);
  assert.deepEqual(lateSends, [], 'no submit for a replaced job after the switch returned');
  assert.equal(totals.submitted, node.stats.submits);
  assert.equal(totals.accepted + totals.rejected, node.stats.submits);
  assert.equal(node.stats.rejected, 0, 'nothing the node called incorrect');
});

test('alreadySolvedBy: the node\'s "already solved" names this nonce, in decimal or hex, and nothing else does', () => {
  const n = 0x1234abcdn;
  assert.equal(alreadySolvedBy(`Problem already solved with nonce = ${n}! worker_id = w`, n), true);
  assert.equal(alreadySolvedBy(`Problem already solved with nonce = 0x${n.toString(16)}! worker_id = w`, n), true);
  assert.equal(alreadySolvedBy(`problem ALREADY SOLVED with nonce=${n}`, n), true);
  assert.equal(alreadySolvedBy(`Problem already solved with nonce = ${n + 1n}! worker_id = w`, n), false);
  assert.equal(alreadySolvedBy('Problem already solved with nonce = ! worker_id = w', n), false);
  assert.equal(alreadySolvedBy('Incorrect Nonce! worker_id = w!', n), false);
  assert.equal(alreadySolvedBy(undefined, n), false);
  // Past 2^64: still exact (a bigint, never a number).
  const big = (1n << 64n) + 1n;
  assert.equal(alreadySolvedBy(`Problem already solved with nonce = ${big}!`, big), true);
  assert.equal(alreadySolvedBy(`Problem already solved with nonce = ${big}!`, 1n), false);
});

test('a resubmit after a reconnect answered "already solved" with our own nonce counts as accepted', async (t) => {
  const { node, engine, logger } = await rig(t);
  const ledger = new SubmitLedger(node, { requestTimeoutMs: 10_000 });
  // The node takes the first solution, then the connection drops before its verdict is written.
  const cut = ledger.dropOnNextSubmit();
  node.newJob();
  const record = await cut;
  assert.equal(record.verdict, 'accepted');
  await waitFor(() => engine.totals.pending >= 1, 10_000, 'the solution kept for the reconnect');
  // The same job again once the client is back: the kept solution goes out once more.
  const resubmit = await ledger.resubmitAfterReconnect(record, SOLUTION_WAIT_MS);
  assert.equal(resubmit.verdict, 'duplicate', 'the node had it from before the drop');
  assert.match(String((resubmit.reply as unknown[])[1]), new RegExp(`already solved with nonce = ${record.nonce}`));
  await accepted(node, (r) => r.connId > record.connId);
  const totals = await settle(engine);
  assert.equal(totals.rejected, 0, 'our own nonce, not someone else\'s');
  assert.equal(totals.accepted, node.stats.accepted, 'the resubmit counted once, as the node counted the first submit');
  assert.equal(totals.pending + totals.lost, 0);
  assert.ok(logger.lines.some((l) => /resubmitting a solution for job/.test(l.msg)));
  assert.ok(!logger.lines.some((l) => /another miner/.test(l.msg)));
});

test('"already solved" for a nonce this miner never sent: another miner was first, counted rejected with a warning', async (t) => {
  const { node, engine, logger } = await rig(t);
  node.behaviour.solvedByOthers = 1;
  const first = waitForEvent<[SubmitRecord]>(node, 'submit', { timeoutMs: SOLUTION_WAIT_MS, what: 'a first submit' });
  node.newJob();
  const [dup] = await first;
  assert.equal(dup.verdict, 'duplicate');
  await waitFor(() => logger.lines.some((l) => /another miner had already sent nonce/.test(l.msg)), 10_000, 'the warning');
  const line = logger.lines.find((l) => /another miner had already sent nonce/.test(l.msg))!;
  assert.equal(line.level, 'warn');
  assert.match(line.msg, new RegExp(`nonce 0x${dup.nonce!.toString(16)},`));
  await accepted(node);
  const totals = await settle(engine);
  assert.equal(totals.rejected, 1, 'the first-time nonce the node called solved');
  assert.equal(totals.accepted, node.stats.accepted);
  assert.equal(totals.submitted, node.stats.submits);
});

test('stop() with submits in flight: waits for their answers within the grace, and the books balance after', async (t) => {
  const { node, engine } = await rig(t);
  node.behaviour.submitDelayMs = 300;
  node.newJob();
  await waitFor(() => engine.totals.inFlight >= 1, SOLUTION_WAIT_MS, 'a submit in flight');
  await engine.stop(60_000);
  const totals = engine.totals;
  assert.equal(totals.inFlight, 0, 'every answer came within the grace');
  assert.ok(booksBalance(totals), JSON.stringify(totals));
  // Every submit the node recorded was answered and counted.
  assert.equal(totals.submitted, node.stats.submits);
  assert.equal(totals.accepted, node.stats.accepted);
  assert.ok(totals.accepted >= 1);
});

test('stop() with submits the node never answers: returns after the grace; closing the connection then books them lost', async (t) => {
  const { node, client, engine } = await rig(t);
  node.behaviour.answerSubmits = false;
  node.newJob();
  await waitFor(() => engine.totals.inFlight >= 1, SOLUTION_WAIT_MS, 'a submit in flight');
  await engine.stop(50);
  const unanswered = engine.totals.inFlight;
  assert.ok(unanswered >= 1, 'still waiting for the node');
  assert.ok(booksBalance(engine.totals), JSON.stringify(engine.totals));
  await client.close();
  await waitFor(() => engine.totals.inFlight === 0, 10_000, 'the in-flight submits to end with the connection');
  const totals = engine.totals;
  assert.ok(booksBalance(totals), JSON.stringify(totals));
  assert.ok(totals.lost >= unanswered, 'stopping: nobody will resubmit them');
  assert.equal(totals.pending, 0);
  assert.equal(totals.accepted + totals.rejected, 0, 'no verdict ever came');
});
