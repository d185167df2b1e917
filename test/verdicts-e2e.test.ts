// The books against the test node, over real TCP on 127.0.0.1: a verdict that comes after the
// request timeout, "Problem already solved" for a nonce this miner never sent and for one it
// resubmitted after a reconnect, and a node that computes another proof of work than the miner
// (a keccak miner pointed at an Octopus node). Every run ends with a summary whose books balance
// and agree with what the node recorded. The rules in isolation: test/verdicts.test.ts.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Algo } from '../src/native/index.js';
import { MiningEngine } from '../src/miner/engine.js';
import { booksBalance } from '../src/miner/books.js';
import { StageResources } from '../src/miner/resources.js';
import { shortJobId } from '../src/miner/job.js';
import type { Job } from '../src/miner/job.js';
import { StratumClient } from '../src/stratum/client.js';
import { POW_MISMATCH_REJECTIONS } from '../src/miner/verdicts.js';
import { TestNode } from './support/test-node.js';
import type { SubmitRecord, TestNodeOptions } from './support/test-node.js';
import { NodeVerifier } from './support/node-verifier.js';
import { startMiner } from './support/miner-process.js';
import type { MinerProcess } from './support/miner-process.js';
import { SubmitLedger, assertBooksBalance, reconcile, summaryOf } from './support/books.js';
import type { MinerBooks } from './support/books.js';
import { MemoryLogger } from './support/memory-logger.js';
import { waitFor, waitForEvent } from './support/wait.js';

/** Keccak at this difficulty: about one to five solutions a second on one thread of a shared 2-core machine. */
const DIFFICULTY = 1_000_000;
const SOLUTION_WAIT_MS = 30_000;

async function startNode(t: TestContext, opts: TestNodeOptions): Promise<TestNode> {
  const node = await TestNode.start(opts);
  t.after(() => node.close());
  return node;
}

function mine(t: TestContext, node: TestNode, extra: string[]): MinerProcess {
  return startMiner(['--host', `${node.host}:${node.port}`, '--worker', 'books', '--threads', '1', '--print-interval-s', '3600', ...extra], { t });
}

/** SIGINT, a clean exit, and the summary's books (which must balance). */
async function stopAndCount(miner: MinerProcess): Promise<MinerBooks> {
  const exit = await miner.stop('SIGINT', 10_000);
  assert.deepEqual(exit, { code: 0, signal: null });
  const books = summaryOf(miner.lines);
  assertBooksBalance(books);
  return books;
}

function accepted(node: TestNode, filter: (r: SubmitRecord) => boolean = () => true): Promise<unknown> {
  return waitForEvent<[SubmitRecord]>(node, 'submit', {
    timeoutMs: SOLUTION_WAIT_MS, what: 'an accepted submit', filter: (r) => r.verdict === 'accepted' && filter(r),
  });
}

test('a verdict that comes after the request timeout moves the solution from timed out to accepted, in the books and the summary', async (t) => {
  const T = 1_500;
  // Re-sent jobs keep data flowing, so the miner never takes the slow node for a half-open one.
  const node = await startNode(t, { algo: 'keccak', difficulty: DIFFICULTY, resendIntervalMs: 250 });
  const ledger = new SubmitLedger(node, { requestTimeoutMs: T });
  const miner = mine(t, node, ['--algo', 'keccak', '--request-timeout-ms', String(T)]);
  await miner.waitForLine(/subscribed/, 10_000);
  // The first submit(s) are answered T + 500 ms late; from the next turn on, at once.
  node.behaviour.submitDelayMs = T + 500;
  node.once('submit', () => setImmediate(() => { node.behaviour.submitDelayMs = 0; }));
  node.newJob();
  await accepted(node);
  const slow = ledger.entries().filter((e) => e.lateReply).length;
  assert.ok(slow >= 1);
  const lateLine = /late answer for job [0-9a-f]{8}: accepted after (\d+) ms/;
  await waitFor(() => miner.lines.filter((l) => lateLine.test(l)).length === slow, T + 10_000, `${slow} late answers`)
    .catch((err: unknown) => { throw new Error(`${String(err)}\n${miner.lines.slice(-30).join('\n')}`); });
  assert.ok(miner.lines.some((l) => /no answer to a submit for job/.test(l)), 'it had timed out first');
  const ms = Number(lateLine.exec(miner.lines.find((l) => lateLine.test(l))!)![1]);
  assert.ok(ms >= T, `answered after ${ms} ms, past the ${T} ms timeout`);

  const books = await stopAndCount(miner);
  const expected = ledger.expected();
  assert.deepEqual(reconcile(books, expected), []);
  assert.equal(expected.lateReplies, slow);
  assert.equal(books.timedOut, 0, 'no solution stays timed out once its verdict came');
  assert.equal(books.accepted, node.stats.accepted, 'every solution the node accepted, the late ones included');
  assert.match(books.line, new RegExp(`accepted ${node.stats.accepted}, rejected 0`));
  assert.doesNotMatch(books.line, /timed out/);
});

test('"Problem already solved" for a nonce this miner never sent: another miner was first, counted rejected with a warning', async (t) => {
  const node = await startNode(t, { algo: 'keccak', difficulty: DIFFICULTY });
  const ledger = new SubmitLedger(node, { requestTimeoutMs: 10_000 });
  const miner = mine(t, node, ['--algo', 'keccak']);
  await miner.waitForLine(/subscribed/, 10_000);
  node.behaviour.solvedByOthers = 1;
  const first = waitForEvent<[SubmitRecord]>(node, 'submit', { timeoutMs: SOLUTION_WAIT_MS, what: 'a first submit' });
  node.newJob();
  const [dup] = await first;
  assert.equal(dup.verdict, 'duplicate');
  const line = await miner.waitForLine(/rejected job [0-9a-f]{8}: another miner had already sent nonce 0x([0-9a-f]+)/, 10_000);
  assert.equal(line[1], dup.nonce!.toString(16));
  assert.match(line.input, / WARN /);
  await accepted(node);

  const books = await stopAndCount(miner);
  assert.deepEqual(reconcile(books, ledger.expected()), []);
  assert.equal(books.rejected, 1, 'the first-time nonce the node called solved');
  assert.equal(books.accepted, node.stats.accepted);
  assert.ok(books.accepted >= 1);
});

test('a solution resubmitted after a reconnect and answered "already solved" was our own: counted accepted', async (t) => {
  const node = await startNode(t, { algo: 'keccak', difficulty: DIFFICULTY });
  const ledger = new SubmitLedger(node, { requestTimeoutMs: 10_000 });
  const miner = mine(t, node, ['--algo', 'keccak']);
  await miner.waitForLine(/subscribed/, 10_000);
  // The node takes the first solution, then the connection drops before the verdict is written.
  const cut = ledger.dropOnNextSubmit();
  node.newJob();
  const record = await cut;
  assert.equal(record.verdict, 'accepted');
  // The same job again once the miner is back: the pending solution goes out once more.
  const resubmit = await ledger.resubmitAfterReconnect(record, SOLUTION_WAIT_MS);
  assert.equal(resubmit.verdict, 'duplicate', 'the node had it from before the drop');
  await miner.waitForLine(/resubmitting a solution for job/, 10_000);
  await accepted(node, (r) => r.connId > record.connId);

  const books = await stopAndCount(miner);
  const expected = ledger.expected();
  assert.deepEqual(reconcile(books, expected), []);
  assert.equal(books.rejected, 0, 'our own nonce, not someone else\'s');
  assert.equal(books.accepted, expected.accepted);
  assert.ok(!miner.lines.some((l) => /another miner/.test(l)));
});

/** NodeVerifier with a switch: the node "computes" `algo.now`, whatever it announces. */
function switchableVerifier(): { verifier: NodeVerifier; algo: { now: Algo } } {
  const base = new NodeVerifier();
  const algo = { now: 'octopus' as Algo };
  const verifier = { verify: (job: Parameters<NodeVerifier['verify']>[0], nonce: bigint) => base.verify({ ...job, algo: algo.now }, nonce) };
  return { verifier: verifier as NodeVerifier, algo };
}

test('a keccak miner against an Octopus node: one ERROR line, solutions withheld, one probe per job, and sending again once the node agrees', async (t) => {
  const { verifier, algo } = switchableVerifier();
  const node = await startNode(t, { algo: 'octopus', difficulty: DIFFICULTY, verifier });
  const miner = mine(t, node, ['--algo', 'keccak']);
  await miner.waitForLine(/subscribed/, 10_000);
  const job1 = node.newJob();
  const error = await miner.waitForLine(/different proof of work/, 60_000);
  assert.match(error.input, / ERROR /);
  assert.match(error.input, new RegExp(`"Incorrect Nonce" to ${POW_MISMATCH_REJECTIONS} solutions in a row`));
  assert.match(error.input, /--algo keccak/);
  assert.match(error.input, /Check --algo/);
  assert.doesNotMatch(error.input, /--height/, 'the jobs carry a height and none is fixed');
  await miner.waitForLine(new RegExp(`holding back solutions for job ${shortJobId(job1.jobId)}`), SOLUTION_WAIT_MS);

  // A new job: exactly one probe; the node calls it incorrect; what is found after that is withheld.
  const job2 = node.newJob();
  const [probe] = await waitForEvent<[SubmitRecord]>(node, 'submit', {
    timeoutMs: SOLUTION_WAIT_MS, what: 'the probe', filter: (r) => r.job?.jobId === job2.jobId,
  });
  assert.equal(probe.verdict, 'invalid');
  const answered = await miner.waitForLine(new RegExp(`rejected job ${shortJobId(job2.jobId)}: Incorrect Nonce`), 10_000);
  const answeredAt = miner.lines.indexOf(answered.input);
  await miner.waitForLine(new RegExp(`solution found for job ${shortJobId(job2.jobId)}`), SOLUTION_WAIT_MS, answeredAt + 1);
  await miner.waitForLine(new RegExp(`holding back solutions for job ${shortJobId(job2.jobId)}`), 10_000, 0);

  // The node now computes keccak: the next job's probe is accepted and everything goes out again.
  algo.now = 'keccak';
  const job3 = node.newJob();
  await miner.waitForLine(/the node accepted a solution again/, SOLUTION_WAIT_MS);
  await waitFor(() => node.submitsFor(job3.jobId).filter((r) => r.verdict === 'accepted').length >= 3, SOLUTION_WAIT_MS,
    'three accepted solutions for the job after the probe');

  const books = await stopAndCount(miner);
  // Every submit the miner wrote has been read once the node sees its side close.
  await waitFor(() => node.connectionCount === 0, 5_000, 'the node to see the miner go');
  assert.equal(node.submitsFor(job2.jobId).length, 1, 'one probe for job 2, nothing after its Incorrect Nonce');
  assert.equal(miner.lines.filter((l) => / ERROR /.test(l)).length, 1, 'one ERROR line in the whole run');
  assert.ok(books.withheld >= 2, `withheld ${books.withheld}`);
  assert.match(books.line, new RegExp(`withheld ${books.withheld}`));
  assert.equal(books.submitted, node.stats.submits, 'every submit answered in time');
  assert.equal(books.rejected, node.stats.rejected);
  assert.equal(books.accepted, node.stats.accepted);
  assert.equal(node.stats.rejected, node.submits.filter((r) => r.verdict === 'invalid').length);
});

test('an Octopus miner with --height on a node without heights: the ERROR line names --height too', async (t) => {
  // The node computes keccak; its jobs have no height (3-param notify); the miner uses --height 5.
  const node = await startNode(t, { algo: 'keccak', difficulty: 2_000, notifyParams: 3 });
  const miner = mine(t, node, ['--algo', 'octopus', '--mode', 'light', '--height', '5']);
  await miner.waitForLine(/subscribed/, 10_000);
  node.newJob();
  const error = await miner.waitForLine(/different proof of work/, 120_000);
  assert.match(error.input, /--algo octopus/);
  assert.match(error.input, /--height \(5\): the node's jobs carry no height/);
  const books = await stopAndCount(miner);
  assert.ok(books.rejected >= POW_MISMATCH_REJECTIONS);
  assert.equal(books.accepted, 0);
});

test('MiningEngine.powMismatch: set while the node rejects our PoW, cleared by an accepted probe; the books balance throughout', async (t) => {
  const { verifier, algo } = switchableVerifier();
  const node = await startNode(t, { algo: 'octopus', difficulty: DIFFICULTY, verifier });
  const logger = new MemoryLogger();
  const client = new StratumClient({ hosts: [{ host: node.host, port: node.port }], worker: 'books', password: '', logger });
  const resources = new StageResources({ mode: 'light', threads: 1, hugePages: false, logger, progress: () => ({ update() {}, stop() {} }) });
  const engine = new MiningEngine({ algo: 'keccak', threads: 1, logger, pool: client, resources });
  t.after(async () => {
    await engine.stop(0);
    await client.close();
    await resources.close();
  });
  client.on('job', (job: Job) => engine.onJob(job));
  const up = waitForEvent(client, 'subscribed', { timeoutMs: 10_000 });
  client.start();
  await up;
  const before = Date.now();
  node.newJob();
  await waitFor(() => engine.powMismatch !== undefined, SOLUTION_WAIT_MS, 'the mismatch to be detected');
  assert.equal(booksBalance(engine.totals), true);
  const m = engine.powMismatch!;
  assert.equal(m.algo, 'keccak');
  assert.ok(m.since >= before && m.since <= Date.now(), `since ${m.since}`);
  await waitFor(() => engine.totals.withheld >= 1, SOLUTION_WAIT_MS, 'a withheld solution');
  assert.equal(booksBalance(engine.totals), true);

  algo.now = 'keccak';
  node.newJob();
  await waitFor(() => engine.powMismatch === undefined, SOLUTION_WAIT_MS, 'an accepted probe to clear it');
  await waitFor(() => engine.totals.accepted >= 2, SOLUTION_WAIT_MS, 'solutions going out again');
  assert.equal(booksBalance(engine.totals), true);
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 1);
});
