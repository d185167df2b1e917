// Stopping: SIGINT and SIGTERM while mining, while waiting to reconnect to a node that is down,
// and while a full dataset is being built. Each must exit 0 with a summary whose books balance
// and agree with the node; a second SIGINT during a shutdown exits 130 at once. The promise is
// about a second; the measured times are printed as diagnostics, not asserted (a loaded machine
// is no bug): a stop that hangs fails at STOP_DEADLINE_MS, and "without waiting" is proven by
// what the process did (a build cut short, exit 130 with no summary).
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from './support/net.js';
import { SubmitLedger, booksProblems, reconcile, summaryOf } from './support/books.js';
import { startMiner, stopAndMeasure } from './support/miner-process.js';
import type { ExitInfo, MinerProcess } from './support/miner-process.js';
import { TestNode } from './support/test-node.js';
import type { TestNodeOptions } from './support/test-node.js';
import { pollUntil, waitFor, waitForEvent } from './support/wait.js';

/** A stop not over by then hangs (waits for a build or a grace period without end). */
const STOP_DEADLINE_MS = 15_000;
/** Keccak at this difficulty: a solution every second or so on 2 threads. */
const EASY = 1_000_000;
const HARD = 10n ** 18n;
const SOLUTION_WAIT_MS = 30_000;

async function startNode(t: TestContext, opts: TestNodeOptions = {}): Promise<{ node: TestNode; ledger: SubmitLedger; hostArg: string }> {
  const node = new TestNode({ algo: 'keccak', difficulty: EASY, notifyOnSubscribe: true, ...opts });
  const ledger = new SubmitLedger(node, { requestTimeoutMs: 10_000 });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  return { node, ledger, hostArg: `${host}:${port}` };
}

function keccakArgs(hostArg: string, ...extra: string[]): string[] {
  return ['--host', hostArg, '--worker', 'stop-test', '--algo', 'keccak', '--threads', '2', ...extra];
}

/** The checks every clean stop shares: exit 0, its own log line, one summary that balances. */
function assertCleanStop(t: TestContext, miner: MinerProcess, signal: NodeJS.Signals, r: { exit: ExitInfo; ms: number }, where: string): ReturnType<typeof summaryOf> {
  t.diagnostic(`${signal} ${where}: exit ${r.exit.code} after ${r.ms} ms`);
  assert.deepEqual(r.exit, { code: 0, signal: null }, `${signal} ${where} exits 0`);
  assert.ok(miner.lines.some((l) => l.includes(`${signal}: stopping`)), 'the signal is acknowledged in the log');
  const books = summaryOf(miner.lines);
  assert.deepEqual(booksProblems(books), [], `the books balance: ${books.line}`);
  return books;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} while mining: exit 0, the books agree with the node`, async (t) => {
    const { node, ledger, hostArg } = await startNode(t);
    const miner = startMiner(keccakArgs(hostArg), { t });
    await miner.waitForLine(/accepted \(1\//, SOLUTION_WAIT_MS);
    assert.ok(miner.lines.some((l) => /new job/.test(l)), 'mining a job when the signal comes');
    const r = await stopAndMeasure(miner, signal, STOP_DEADLINE_MS);
    const books = assertCleanStop(t, miner, signal, r, 'while mining');
    await waitFor(() => node.connectionCount === 0, 5_000, 'the node to see the miner go');
    assert.deepEqual(reconcile(books, ledger.expected()), [], 'every verdict, including those in flight at the signal, is counted');
    assert.equal(books.accepted, node.stats.accepted);
    assert.ok(books.hashes > 0);
  });

  test(`${signal} during the reconnect backoff after the node went away: exit 0`, async (t) => {
    const { node, ledger, hostArg } = await startNode(t);
    const miner = startMiner(keccakArgs(hostArg), { t });
    await miner.waitForLine(/accepted \(1\//, SOLUTION_WAIT_MS);
    await node.stopListening();
    const from = miner.lines.length;
    ledger.drop();
    await miner.waitForLine(/retrying in/, 5_000, from);
    // Still in backoff: the node refuses connections, the next attempt is a second or more away.
    const r = await stopAndMeasure(miner, signal, STOP_DEADLINE_MS);
    const books = assertCleanStop(t, miner, signal, r, 'during the backoff');
    assert.equal(books.inFlight, 0);
    await waitFor(() => node.connectionCount === 0, 5_000, 'no connection left at the node');
    assert.deepEqual(reconcile(books, ledger.expected()), []);
  });
}

test('SIGTERM while the node has been down since the start: exit 0, empty books', async (t) => {
  const port = await freePort();
  const miner = startMiner(keccakArgs(`127.0.0.1:${port}`), { t });
  await waitFor(() => miner.lines.filter((l) => /retrying in/.test(l)).length >= 2, 10_000, 'two failed connects');
  const r = await stopAndMeasure(miner, 'SIGTERM', STOP_DEADLINE_MS);
  const books = assertCleanStop(t, miner, 'SIGTERM', r, 'before any connection');
  assert.deepEqual([books.found, books.submitted, books.hashes], [0, 0, 0]);
});

// ---- during a full dataset build ----------------------------------------------------------

interface SummaryJson { dataset: { state: string; progress: number }; mode: string }

/** Polls /summary until `ok` holds; a poll every 100 ms is how a dashboard watches a build. */
function pollSummary(base: string, ok: (s: SummaryJson) => boolean, timeoutMs: number, what: string, stop: () => boolean): Promise<SummaryJson> {
  return pollUntil(async () => {
    try {
      const s = (await (await fetch(`${base}/summary`)).json()) as SummaryJson;
      return ok(s) ? s : undefined;
    } catch {
      return undefined; // the API may not be up yet
    }
  }, timeoutMs, what, { intervalMs: 100, giveUp: stop });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} well into a full dataset build: exit 0 with a summary, the build cut short`, async (t) => {
    const node = new TestNode({ algo: 'octopus', difficulty: HARD, height: 0, notifyOnSubscribe: true });
    const { host, port } = await node.listen();
    t.after(() => node.close());
    node.newJob();
    const httpPort = await freePort();
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'stop-dag', '--algo', 'octopus', '--mode', 'full',
      '--threads', '2', '--http-port', String(httpPort)], { t });
    // With too little memory the miner says so and mines in light mode: nothing to test here then.
    const decided = /cache for stage 0 ready|cannot use full mode/;
    await waitFor(() => miner.lines.some((l) => decided.test(l)) || miner.exitInfo !== undefined, 30_000, 'the cache, or the decision against full mode');
    const noMemory = miner.lines.find((l) => /cannot use full mode/.test(l));
    if (noMemory) {
      await miner.stop('SIGKILL');
      return t.skip(`this machine cannot hold the 4 GiB dataset: ${noMemory}`);
    }
    assert.equal(miner.exitInfo, undefined, 'the miner is running');
    // Well into it: the native threads have filled a few percent of the 4 GiB (the API says so),
    // whatever the time that took on this machine.
    const s = await pollSummary(`http://127.0.0.1:${httpPort}`,
      (x) => x.dataset.state === 'building-dataset' && x.dataset.progress >= 0.03,
      120_000, 'the dataset build to be 3 % done', () => miner.exitInfo !== undefined);
    assert.ok(s.dataset.progress < 1, 'the build is still in progress');
    const r = await stopAndMeasure(miner, signal, STOP_DEADLINE_MS);
    t.diagnostic(`build at ${(s.dataset.progress * 100).toFixed(1)} % when ${signal} was sent`);
    const books = assertCleanStop(t, miner, signal, r, 'during the dataset build');
    assert.equal(books.submitted, 0, 'nothing to submit at this difficulty');
    assert.ok(!miner.lines.some((l) => /dataset for stage 0 ready/.test(l)), 'the build was cut short, not finished');
  });
}

// ---- a second Ctrl-C, and what an unanswered submit leaves behind ------------------------------

test('a second SIGINT during the shutdown exits 130 at once, without waiting for the summary', async (t) => {
  const { node, hostArg } = await startNode(t);
  const miner = startMiner(keccakArgs(hostArg), { t });
  await miner.waitForLine(/subscribed/);
  // An unanswered submit holds the shutdown in its grace period: long enough to press again.
  node.behaviour.answerSubmits = false;
  await waitForEvent(node, 'submit', { timeoutMs: SOLUTION_WAIT_MS, what: 'a submit' });
  const from = miner.lines.length;
  miner.proc.kill('SIGINT');
  await miner.waitForLine(/SIGINT: stopping/, 5_000, from);
  const r = await stopAndMeasure(miner, 'SIGINT', STOP_DEADLINE_MS);
  t.diagnostic(`second SIGINT: exit ${r.exit.code} after ${r.ms} ms`);
  assert.deepEqual(r.exit, { code: 130, signal: null });
  assert.ok(miner.lines.some((l) => /second SIGINT/.test(l)));
  assert.ok(!miner.lines.some((l) => /summary: ran/.test(l)), 'cut short: no summary, so it did not wait out the grace period');
});

test('SIGINT with a submit the node never answers: exit 0, the solution ends lost, not pending', async (t) => {
  const { node, hostArg } = await startNode(t);
  const miner = startMiner(keccakArgs(hostArg), { t });
  await miner.waitForLine(/subscribed/);
  node.behaviour.answerSubmits = false;
  await waitForEvent(node, 'submit', { timeoutMs: SOLUTION_WAIT_MS, what: 'a submit' });
  const r = await stopAndMeasure(miner, 'SIGINT', STOP_DEADLINE_MS);
  const books = assertCleanStop(t, miner, 'SIGINT', r, 'with an unanswered submit');
  t.diagnostic(`miner: ${books.line}`);
  assert.ok(books.found >= 1);
  assert.equal(books.inFlight, 0, 'nothing is in flight after the process is gone');
  assert.equal(books.pending, 0, 'nothing waits for a reconnect that will never come: it is lost');
  assert.ok(books.lost >= 1, 'the unanswered solution is counted lost');
});
