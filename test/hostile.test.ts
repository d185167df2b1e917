// The miner against a node that is hostile, or merely careless: difficulty 1 (every nonce
// solves the job), a height that would ask for a 128 GiB cache, a 2 GiB cache build cut short by
// Ctrl-C, a new stage on every job, a flood of jobs, a notify that races its subscribe reply, a
// node that echoes the password back, SIGHUP. Every case asserts what a user sees: exit status,
// resident memory, the books (against the node's own record), the log. No case asserts a time:
// how long a stop or an answer takes is printed as a diagnostic; a stop that hangs fails at the
// stop deadline, and "at once" is proven by what the process did (exit 130, a build not finished).
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './support/net.js';
import { booksProblems, nodeBooks, nodeProblems, nodeSettled, summaryOf } from './support/books.js';
import type { BooksFacts } from './support/books.js';
import { runCli, startMiner, stopAndMeasure } from './support/miner-process.js';
import type { ExitInfo, MinerProcess } from './support/miner-process.js';
import { TestNode } from './support/test-node.js';
import type { TestNodeOptions } from './support/test-node.js';
import { waitFor, waitForEvent } from './support/wait.js';
import { limits } from '../src/native/index.js';

const STAGE_LENGTH = 524_288;
/**
 * A stop that has not ended by then hangs (the promise is about a second; the measured time is
 * printed). Not an assertion on speed: only a stop that waits for a build, a grace period
 * without end, or a starved event loop gets near it.
 */
const STOP_DEADLINE_MS = 15_000;
/** Resident memory at difficulty 1, and under every other case here. */
const RSS_BOUND_MB = 300;
/** The rate limiter's lines per key and window (src/log/rate-limit.ts DEFAULT_RATE_LIMIT). */
const LINES_PER_WINDOW = 5;

/** Resident set size of a process in MiB (Linux /proc); undefined elsewhere or once it is gone. */
function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples RSS every 200 ms until stopped; `max` is the largest seen. */
function watchRss(miner: MinerProcess): { max: () => number; stop: () => void } {
  let max = 0;
  const timer = setInterval(() => { max = Math.max(max, rssMb(miner.proc.pid) ?? 0); }, 200);
  return { max: () => Math.max(max, rssMb(miner.proc.pid) ?? 0), stop: () => clearInterval(timer) };
}

async function startNode(t: TestContext, opts: TestNodeOptions): Promise<{ node: TestNode; hostArg: string }> {
  const node = new TestNode({ notifyOnSubscribe: true, ...opts });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  return { node, hostArg: `${host}:${port}` };
}

function stop(miner: MinerProcess, signal: NodeJS.Signals): Promise<{ exit: ExitInfo; ms: number }> {
  return stopAndMeasure(miner, signal, STOP_DEADLINE_MS);
}

/** Exit 0 after the signal, one summary, and books that add up and agree with the node's record. */
async function assertCleanStop(t: TestContext, miner: MinerProcess, signal: NodeJS.Signals, r: { exit: ExitInfo; ms: number },
  node: TestNode, facts: BooksFacts = {}): Promise<ReturnType<typeof summaryOf>> {
  t.diagnostic(`${signal}: exit ${r.exit.code} after ${r.ms} ms`);
  assert.deepEqual(r.exit, { code: 0, signal: null }, `${signal} exits 0`);
  const books = summaryOf(miner.lines);
  assert.deepEqual(booksProblems(books), [], `the books balance: ${books.line}`);
  await nodeSettled(node);
  assert.deepEqual(nodeProblems(books, nodeBooks(node.submits), facts), [], `the books agree with the node: ${books.line}`);
  return books;
}

/**
 * A rate-limited kind of line: every occurrence is either logged (`single`) or counted in a
 * summary (`summary`, whose first group is the count). Returns both.
 */
function limited(lines: readonly string[], single: RegExp, summary: RegExp): { logged: number; counted: number; summaries: number } {
  let logged = 0;
  let counted = 0;
  let summaries = 0;
  for (const l of lines) {
    const m = summary.exec(l);
    if (m) {
      summaries++;
      counted += Number(m[1]);
    } else if (single.test(l)) logged++;
  }
  return { logged, counted, summaries };
}

/** Resident memory grew by `mb` since `fromMb`: the native side is filling what it allocated. */
function rssGrew(miner: MinerProcess, fromMb: number, mb: number, what: string): Promise<void> {
  return waitFor(() => (rssMb(miner.proc.pid) ?? 0) >= fromMb + mb, 30_000, what);
}

// ---- difficulty 1 ------------------------------------------------------------------------------

for (const algo of ['keccak', 'octopus'] as const) {
  test(`difficulty 1 (${algo}): bounded memory, a responsive API, a prompt Ctrl-C, books that balance`, async (t) => {
    const { node, hostArg } = await startNode(t, { algo, difficulty: 1, height: 0 });
    node.newJob();
    const httpPort = await freePort();
    const miner = startMiner(['--host', hostArg, '--worker', 'd1', '--algo', algo, '--mode', 'light', '--threads', '2',
      '--http-port', String(httpPort)], { t });
    const rss = watchRss(miner);
    t.after(() => rss.stop());
    await miner.waitForLine(/accepted \(1\//, 60_000);
    // The API answers while every hash is a solution, and each answer is new: between two of
    // them the event loop took solutions and verdicts. A starved loop fails at the request's deadline.
    // Rounds of solutions, not seconds: the same work (and the same chance for memory to grow)
    // however busy the machine is.
    const step = algo === 'keccak' ? 2_000 : 100;
    const answers: { accepted: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const before = node.stats.accepted;
      await waitFor(() => node.stats.accepted >= before + step, 60_000, `the node to accept ${step} more solutions`);
      const res = await fetch(`http://127.0.0.1:${httpPort}/summary`, { signal: AbortSignal.timeout(STOP_DEADLINE_MS) });
      answers.push(((await res.json()) as { shares: { accepted: number } }).shares);
    }
    const accepted = answers.map((a) => a.accepted);
    assert.deepEqual(accepted, [...accepted].sort((a, b) => a - b), 'the accepted count only grows');
    assert.ok(accepted.at(-1)! > accepted[0]!, `/summary follows the mining: ${accepted.join(' ')}`);
    const r = await stop(miner, 'SIGINT');
    rss.stop();
    const books = await assertCleanStop(t, miner, 'SIGINT', r, node, { difficulty: 1n });
    t.diagnostic(`max RSS ${rss.max().toFixed(0)} MiB; ${books.line}`);
    assert.ok(rss.max() < RSS_BOUND_MB, `RSS stayed under ${RSS_BOUND_MB} MiB: ${rss.max().toFixed(0)}`);
    assert.ok(books.droppedBacklog > 0, 'solutions beyond the pipeline are dropped and counted');
    // A solution on every hash: the log names a few and counts the rest, it does not print a
    // line per solution. Every solution the miner sent is either named or counted.
    const found = limited(miner.lines, /solution found for job/, /solutions found: (\d+) more in the last/);
    t.diagnostic(`${found.logged} "solution found" lines, ${found.counted} counted in ${found.summaries} summaries`);
    assert.equal(found.logged + found.counted, books.submitted, 'every solution sent is named or counted');
    assert.ok(found.logged <= LINES_PER_WINDOW * (found.summaries + 1) && found.counted > found.logged,
      'the rest is counted in summary lines');
  });
}

// ---- heights and stages the node chooses ---------------------------------------------------

test('a height whose cache would not fit in memory is refused in one line, then mining goes on', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'octopus', difficulty: 300, height: 0 });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'tall', '--mode', 'light', '--threads', '2'], { t });
  const rss = watchRss(miner);
  t.after(() => rss.stop());
  await miner.waitForLine(/cache for stage 0 ready/, 60_000);
  const huge = limits().maxHeight; // the highest height there is: stage 2,097,152, a 128 GiB cache
  node.newJob({ height: huge });
  const refused = await miner.waitForLine(new RegExp(`refusing the job at height ${huge}: .*GiB cache`), 20_000);
  assert.ok(!/\n/.test(refused.input));
  assert.ok(rss.max() < RSS_BOUND_MB, `nothing was allocated for it: RSS ${rss.max().toFixed(0)} MiB`);
  const from = miner.lines.length;
  node.newJob({ height: 1_000 });
  await miner.waitForLine(/accepted \(\d+\//, 60_000, from);
  const r = await stop(miner, 'SIGINT');
  await assertCleanStop(t, miner, 'SIGINT', r, node);
});

test('a 2 GiB cache build (height 17,045,651,456) ends at Ctrl-C; a second Ctrl-C exits 130 at once', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'octopus', difficulty: 300, height: 0 });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'jump', '--mode', 'light', '--threads', '2'], { t });
  await miner.waitForLine(/cache for stage 0 ready/, 60_000);
  // A submit the node never answers keeps the first shutdown in its grace period.
  node.behaviour.answerSubmits = false;
  await waitForEvent(node, 'submit', { timeoutMs: 60_000, what: 'a submit' });
  const rssBefore = rssMb(miner.proc.pid) ?? 0;
  node.newJob({ height: 17_045_651_456 });
  await miner.waitForLine(/building cache for stage 32512 \(2\.\d+ GiB\)/, 20_000);
  await rssGrew(miner, rssBefore, 64, 'the 2 GiB cache build to be under way');
  const from = miner.lines.length;
  miner.proc.kill('SIGINT');
  await miner.waitForLine(/SIGINT: stopping/, STOP_DEADLINE_MS, from);
  const r = await stop(miner, 'SIGINT');
  t.diagnostic(`second SIGINT during a 2 GiB cache build: exit ${r.exit.code} after ${r.ms} ms`);
  // 130 is the cut-short exit: neither the unanswered submit's grace nor the build was waited for.
  assert.deepEqual(r.exit, { code: 130, signal: null });
  assert.ok(!miner.lines.some((l) => /cache for stage 32512 ready/.test(l)), 'the build did not finish first');
});

test('a 2 GiB cache build does not hold a single Ctrl-C either', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'octopus', difficulty: 10n ** 15n, height: 17_045_651_456 });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'jump1', '--mode', 'light', '--threads', '2'], { t });
  const rssBefore = rssMb(miner.proc.pid) ?? 0;
  await miner.waitForLine(/building cache for stage 32512/, 20_000);
  await rssGrew(miner, rssBefore, 64, 'the 2 GiB cache build to be under way');
  const r = await stop(miner, 'SIGINT');
  await assertCleanStop(t, miner, 'SIGINT', r, node);
  assert.ok(!miner.lines.some((l) => /cache for stage 32512 ready/.test(l)), 'the build was cancelled, not finished');
});

test('a new stage on every job: builds are cancelled, not stacked; memory stays bounded; the last job is mined', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'octopus', difficulty: 300, height: 0 });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'thrash', '--mode', 'light', '--threads', '2'], { t });
  const rss = watchRss(miner);
  t.after(() => rss.stop());
  await miner.waitForLine(/new job/, 30_000);
  // Each stage's job comes once the build for the one before has started: every build is
  // replaced while it runs (a build of a ~20 MiB cache takes far longer than the next notify).
  for (let stage = 1; stage <= 40; stage++) {
    const from = miner.lines.length;
    node.newJob({ height: stage * STAGE_LENGTH + 7 });
    await miner.waitForLine(new RegExp(`building cache for stage ${stage} `), 30_000, from);
  }
  const from = miner.lines.length;
  await miner.waitForLine(/accepted \(\d+\//, 90_000, from);
  const r = await stop(miner, 'SIGINT');
  rss.stop();
  await assertCleanStop(t, miner, 'SIGINT', r, node);
  const built = miner.lines.filter((l) => /cache for stage \d+ ready/.test(l)).length;
  t.diagnostic(`40 stages, each replaced while its cache was building: ${built} caches finished, max RSS ${rss.max().toFixed(0)} MiB`);
  assert.ok(rss.max() < RSS_BOUND_MB, `RSS ${rss.max().toFixed(0)} MiB`);
  assert.ok(miner.lines.some((l) => /cache for stage 40 ready/.test(l)), 'the last stage is built and mined');
});

test('a new stage whose cache finishes every time: old caches go back to the OS, RSS stays bounded', async (t) => {
  // Each cache is built and mined before the next stage comes (the test above cancels most). Before
  // caches had their own mapping, freed ones stayed in malloc's arenas and the engine kept the
  // caches of its last eight jobs for their late shares: RSS grew by ~10-25 MiB a stage.
  const { node, hostArg } = await startNode(t, { algo: 'octopus', difficulty: 10n ** 15n, height: 0 });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'stages', '--mode', 'light', '--threads', '2'], { t });
  const rss = watchRss(miner);
  t.after(() => rss.stop());
  await miner.waitForLine(/cache for stage 0 ready/, 30_000);
  for (let i = 1; i <= 14; i++) {
    const stage = i * 23;
    const from = miner.lines.length;
    node.newJob({ height: stage * STAGE_LENGTH + 7 });
    await miner.waitForLine(new RegExp(`cache for stage ${stage} ready`), 30_000, from);
  }
  const r = await stop(miner, 'SIGINT');
  rss.stop();
  await assertCleanStop(t, miner, 'SIGINT', r, node);
  t.diagnostic(`14 caches of 17-36 MiB built in turn: max RSS ${rss.max().toFixed(0)} MiB`);
  assert.ok(rss.max() < RSS_BOUND_MB, `RSS ${rss.max().toFixed(0)} MiB`);
});

test('a flood of jobs: a few lines a second and a count, not a line per job', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'keccak', difficulty: 10n ** 15n });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'flood', '--algo', 'keccak', '--threads', '2'], { t });
  await miner.waitForLine(/new job/, 30_000);
  const from = miner.lines.length;
  const sent = 2_000;
  for (let i = 0; i < sent; i++) {
    node.newJob();
    if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // let the socket drain, as a node between blocks would
  }
  await miner.waitForLine(/new jobs: \d+ more in the last 1 s/, 30_000, from);
  const r = await stop(miner, 'SIGINT');
  await assertCleanStop(t, miner, 'SIGINT', r, node);
  // Every job is either named or counted (the summary at the stop counts the last window's),
  // and most are counted: a few lines per window, not a line per job.
  const jobs = limited(miner.lines.slice(from), /new job [0-9a-f]{8}/, /new jobs: (\d+) more in the last/);
  t.diagnostic(`${sent} jobs -> ${jobs.logged} job lines and ${jobs.summaries} summaries counting ${jobs.counted}`);
  assert.equal(jobs.logged + jobs.counted, sent, 'every job named or counted');
  assert.ok(jobs.logged <= LINES_PER_WINDOW * (jobs.summaries + 1) && jobs.counted > jobs.logged,
    `${jobs.logged} job lines for ${sent} jobs`);
});

// ---- the protocol's small print ----------------------------------------------------------------

test('a job that arrives before the subscribe reply: its solutions wait for the reply and are submitted', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'keccak', difficulty: 200_000 });
  node.newJob();
  node.behaviour.subscribeReplyDelayMs = 1_500;
  const miner = startMiner(['--host', hostArg, '--worker', 'early', '--algo', 'keccak', '--threads', '2'], { t });
  await miner.waitForLine(/solution found/, 30_000);
  assert.ok(!miner.lines.some((l) => /subscribed at/.test(l)), 'found before the subscribe reply');
  await miner.waitForLine(/accepted \(1\//, 10_000);
  const r = await stop(miner, 'SIGINT');
  const books = await assertCleanStop(t, miner, 'SIGINT', r, node);
  assert.ok(!miner.lines.some((l) => /connection lost before the node answered/.test(l)), 'no false "connection lost"');
  assert.equal(books.lost, 0);
  assert.equal(books.pending, 0);
  const first = node.submits[0]!;
  assert.equal(first.verdict, 'accepted', 'the early solution itself is accepted');
});

test('SIGHUP is a clean stop: exit 0, the summary, grace for submits in flight', async (t) => {
  const { node, hostArg } = await startNode(t, { algo: 'keccak', difficulty: 1_000_000 });
  node.newJob();
  const miner = startMiner(['--host', hostArg, '--worker', 'hup', '--algo', 'keccak', '--threads', '2'], { t });
  await miner.waitForLine(/accepted \(1\//, 30_000);
  const r = await stop(miner, 'SIGHUP');
  const books = await assertCleanStop(t, miner, 'SIGHUP', r, node);
  assert.ok(miner.lines.some((l) => /SIGHUP: stopping/.test(l)));
  assert.ok(books.accepted >= 1);
});

for (const password of ['x', 'e', '1', 'Tr0ub4dor&3']) {
  test(`password ${JSON.stringify(password)}: an echo from the node is masked; the miner's own lines are untouched`, async (t) => {
    for (const json of [false, true]) {
      const { node, hostArg } = await startNode(t, { algo: 'keccak', difficulty: 500_000, password });
      node.newJob();
      node.behaviour.rejectAllWith = `wrong secret ${password} for this worker`;
      const miner = startMiner(['--host', hostArg, '--worker', 'echo', '--algo', 'keccak', '--threads', '2',
        ...(json ? ['--log-json'] : [])], { t, env: { CFX_MINER_PASSWORD: password } });
      const rejected = await miner.waitForLine(/rejected job/, 30_000);
      assert.match(rejected.input, /wrong secret \*\*\* for this worker/, 'the echoed password is masked');
      const r = await stop(miner, 'SIGINT');
      await assertCleanStop(t, miner, 'SIGINT', r, node);
      const text = miner.lines.join('\n');
      assert.match(text, /cfx-miner \d+\.\d+\.\d+, keccak/, 'the first line is intact');
      assert.match(text, /keccak (avx512x8|scalar|portable\w*)/, 'the cpu line is intact');
      assert.match(text, /nonce 0x[0-9a-f]+/, 'nonces are intact');
      const leaks = miner.lines.filter((l) => l.includes(`secret ${password} for`));
      assert.deepEqual(leaks, [], 'the echoed password appears unmasked in no line');
      await node.close();
    }
  });
}

// ---- input from files and flags --------------------------------------------------------------

test('a config file over 1 MiB and a worker name over 256 bytes: one-line usage errors, exit 2', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfx-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = path.join(dir, 'big.json');
  writeFileSync(big, JSON.stringify({ worker: 'w', pad: 'y'.repeat(2 * 1024 * 1024) }));
  const a = await runCli(['--config', big]);
  assert.equal(a.code, 2);
  assert.match(a.stderr.trim(), /^cfx-miner: config file .*big\.json: \d+ bytes is too large for a config file \(at most 1048576\)$/);
  const b = await runCli(['--worker', 'w'.repeat(300), '--host', '127.0.0.1:1']);
  assert.equal(b.code, 2);
  assert.match(b.stderr.trim(), /^cfx-miner: .*"worker" is 300 bytes long; at most 256 are allowed$/);
  assert.equal(b.stderr.trim().split('\n').length, 1);
});
