// The books check itself: a real miner at difficulty 1 against the test node, its summary
// compared with the node's record and with the one fact difficulty 1 gives (every hash is a
// solution). Then the same run with one count wrong, each way a miscount could happen: the
// check must name every one, including those that keep the miner's own identities balanced
// (which the identities alone, booksProblems, let through).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestNode } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import { booksProblems, factProblems, nodeBooks, nodeProblems, nodeSettled, summaryOf } from './support/books.js';
import type { MinerBooks } from './support/books.js';
import { waitFor } from './support/wait.js';

test('the books check compares the miner with the node and with difficulty 1, and catches a count that is off by one', async (t) => {
  const node = new TestNode({ algo: 'keccak', difficulty: 1, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'books', '--algo', 'keccak', '--threads', '1',
    '--print-interval-s', '3600'], { t });
  await waitFor(() => node.stats.accepted >= 20, 30_000, '20 accepted solutions');
  assert.deepEqual(await miner.stop('SIGINT', 10_000), { code: 0, signal: null });
  await nodeSettled(node);
  const books = summaryOf(miner.lines);
  const d1 = { difficulty: 1n };
  t.diagnostic(books.line);

  const wrong = (change: Partial<MinerBooks>): MinerBooks => ({ ...books, ...change });
  const check = (b: MinerBooks, submits = node.submits): string[] => nodeProblems(b, nodeBooks(submits), d1);
  /** The problems a wrong record adds to those of the run as it was (which should have none: see below). */
  const added = (b: MinerBooks, submits = node.submits): string => {
    const before = new Set(check(books));
    return check(b, submits).filter((p) => !before.has(p)).join('\n');
  };

  await t.test('the run as it was agrees with the node', () => {
    assert.deepEqual(booksProblems(books), []);
    assert.deepEqual(nodeProblems(books, nodeBooks(node.submits)), []);
    assert.ok(books.droppedBacklog > 0, 'at difficulty 1 most solutions are dropped by the native queue, and counted');
  });

  // The native queue still holds up to 64 solutions when the miner stops: the search engine
  // counts them as dropped at its shutdown, so none falls out of the books.
  await t.test('difficulty 1: the solutions found, dropped ones included, are the hashes counted', () => {
    assert.deepEqual(factProblems(books, d1), []);
  });

  await t.test('a wrong record is caught', () => {
    // The node's record missing one accepted answer.
    const firstAccepted = node.submits.findIndex((s) => s.verdict === 'accepted');
    const oneMissing = node.submits.filter((_, i) => i !== firstAccepted);
    assert.match(added(books, oneMissing), /accepted: miner \d+, node \d+/);

    // One solution too few found (the native side under-counting its hits).
    assert.match(added(wrong({ found: books.found - 1 })), /every hash is a solution, but found/);

    // One hit the native queue dropped and did not count, so it is missing from found and from
    // the dropped side alike: the miner's identities still hold, only difficulty 1 shows it.
    const dropUncounted = wrong({ found: books.found - 1, droppedBacklog: books.droppedBacklog - 1 });
    assert.deepEqual(booksProblems(dropUncounted), [], 'the identities alone let this through');
    assert.match(added(dropUncounted), /every hash is a solution/);

    // One accepted too many on both sides of "sent = accepted + rejected + timed out".
    const doubleCounted = wrong({
      accepted: books.accepted + 1, submitted: books.submitted + 1, found: books.found + 1, hashes: books.hashes + 1,
      shares: { ...books.shares, accepted: books.shares.accepted + 1 },
    });
    assert.deepEqual(booksProblems(doubleCounted), [], 'the identities alone let this through');
    const problems = added(doubleCounted);
    assert.match(problems, /sent \/ received: miner \d+, node \d+/);
    assert.match(problems, /accepted: miner \d+, node \d+/);

    // A stale answer the miner did not count as stale.
    const staleAt = node.submits.findIndex((s) => s.verdict === 'accepted');
    const withStale = node.submits.map((s, i) => (i === staleAt ? { ...s, verdict: 'stale' as const } : s));
    assert.match(added(books, withStale), /stale at node: miner 0, node 1/);

    // The same nonce sent twice for one job without a drop in between.
    assert.match(added(books, [...node.submits, node.submits[0]!]), /submits of \d+ distinct nonces/);
  });
});
