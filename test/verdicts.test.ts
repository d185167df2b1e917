// What the node's answers mean for the books, in isolation: which nonces count as sent before
// (so "already solved" is our own), the Incorrect-Nonce run that means a PoW mismatch, with its
// probe per job and its ERROR line at most once per interval, and the books' withheld field.
// End to end against the test node: test/verdicts-e2e.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SENT_NONCES, POW_MISMATCH_REJECTIONS, POW_MISMATCH_REPEAT_MS, PowMismatchWatch, SentNonces, isIncorrectNonce } from '../src/miner/verdicts.js';
import type { ShareCounts } from '../src/miner/books.js';
import { booksBalance } from '../src/miner/books.js';
import { alreadySolvedBy } from '../src/miner/verdicts.js';
import { formatBooks } from '../src/miner/status.js';

const A = Buffer.alloc(32, 0xa1);
const B = Buffer.alloc(32, 0xb2);
const C = Buffer.alloc(32, 0xc3);

test('SentNonces: a nonce is "sent before" only for the same job, and a submit that never left is taken back', () => {
  const s = new SentNonces();
  assert.equal(s.add(A, 7n), false);
  assert.equal(s.add(A, 7n), true);
  assert.equal(s.add(A, 8n), false);
  s.remove(A, 8n);
  assert.equal(s.add(A, 8n), false, 'removed: its next submit is its first');
  s.remove(B, 7n); // another job's: nothing to do
  assert.equal(s.add(A, 7n), true);
  assert.equal(s.add(B, 7n), false, 'a new job starts a new set');
  assert.equal(s.add(A, 7n), false, 'only the current job is remembered');
  assert.equal(s.size, 1);
});

test(`SentNonces: at most ${MAX_SENT_NONCES} nonces per job; past that the oldest is forgotten and counted`, () => {
  const s = new SentNonces();
  for (let i = 0; i < MAX_SENT_NONCES + 5; i++) assert.equal(s.add(A, BigInt(i)), false);
  assert.equal(s.size, MAX_SENT_NONCES);
  assert.equal(s.forgotten, 5);
  assert.equal(s.add(A, BigInt(MAX_SENT_NONCES + 4)), true, 'the newest is kept');
  assert.equal(s.add(A, 5n), true, 'the oldest kept one');
  assert.equal(s.add(A, 0n), false, 'the oldest was forgotten');
});

test('"already solved with nonce = N" names the nonce in decimal or hex; anything else is not that message', () => {
  assert.equal(alreadySolvedBy('Problem already solved with nonce = 255! worker_id = w', 255n), true);
  assert.equal(alreadySolvedBy('Problem already solved with nonce = 0xff! worker_id = w', 255n), true);
  assert.equal(alreadySolvedBy('Problem already solved with nonce = 254! worker_id = w', 255n), false);
  assert.equal(alreadySolvedBy('Incorrect Nonce! worker_id = w!', 255n), false);
  assert.equal(alreadySolvedBy(undefined, 255n), false);
  assert.equal(isIncorrectNonce('Incorrect Nonce! worker_id = w!'), true);
  assert.equal(isIncorrectNonce('Solution for a stale job! worker_id = w'), false);
  assert.equal(isIncorrectNonce(undefined), false);
});

function watch(): { w: PowMismatchWatch; clock: { now: number; wall: number } } {
  const clock = { now: 1_000, wall: 1_700_000_000_000 };
  return { w: new PowMismatchWatch(() => clock.now, () => clock.wall), clock };
}

test(`PowMismatchWatch: ${POW_MISMATCH_REJECTIONS} Incorrect Nonce in a row is a mismatch; an accepted answer before that resets the run`, () => {
  const { w, clock } = watch();
  for (let i = 0; i < POW_MISMATCH_REJECTIONS - 1; i++) assert.equal(w.onAnswer(A, BigInt(i), 'incorrect', true), undefined);
  assert.equal(w.onAnswer(A, 50n, 'accepted', true), undefined, 'nothing to clear');
  for (let i = 0; i < POW_MISMATCH_REJECTIONS - 1; i++) assert.equal(w.onAnswer(A, BigInt(i), 'incorrect', true), undefined);
  assert.equal(w.onAnswer(A, 60n, 'other', true), undefined, 'a stale answer says nothing about the PoW');
  assert.equal(w.since, undefined);
  assert.equal(w.maySend(A, 61n), true);
  assert.equal(w.onAnswer(A, 62n, 'incorrect', true), 'error');
  assert.equal(w.since, clock.wall);
  assert.equal(w.incorrectInARow, POW_MISMATCH_REJECTIONS);
});

test('PowMismatchWatch: nothing more for the job the node called incorrect; one probe per new job; the ERROR once per interval', () => {
  const { w, clock } = watch();
  for (let i = 0; i < POW_MISMATCH_REJECTIONS - 1; i++) w.onAnswer(A, BigInt(i), 'incorrect', true);
  assert.equal(w.onAnswer(A, 9n, 'incorrect', true), 'error');
  assert.equal(w.maySend(A, 10n), false, 'same job: withheld');
  // Answers for submits still in flight keep the run going without another ERROR.
  assert.equal(w.onAnswer(A, 3n, 'incorrect', true), undefined);
  // A new job: one probe, and nothing else while it is out.
  assert.equal(w.maySend(B, 1n), true);
  assert.equal(w.maySend(B, 2n), false);
  // A late "incorrect" for the old job does not block the new one.
  assert.equal(w.onAnswer(A, 4n, 'incorrect', false), undefined);
  // The probe timed out (no verdict): the slot is free again on the same job.
  assert.equal(w.onAnswer(B, 1n, 'other', true), undefined);
  assert.equal(w.maySend(B, 3n), true);
  assert.equal(w.onAnswer(B, 3n, 'incorrect', true), undefined, 'still within the interval: no second ERROR');
  assert.equal(w.maySend(B, 4n), false, 'blocked on B now');
  clock.now += POW_MISMATCH_REPEAT_MS;
  assert.equal(w.maySend(C, 1n), true);
  assert.equal(w.onAnswer(C, 1n, 'incorrect', true), 'error', 'the interval has passed: said again');
  assert.equal(w.maySend(C, 2n), false);
  const since = w.since;
  clock.wall += 5;
  assert.equal(w.onAnswer(C, 0n, 'incorrect', true), undefined);
  assert.equal(w.since, since, '`since` is when it started');
});

test('PowMismatchWatch: an accepted probe clears the state and everything goes out again', () => {
  const { w } = watch();
  for (let i = 0; i < POW_MISMATCH_REJECTIONS; i++) w.onAnswer(A, BigInt(i), 'incorrect', true);
  assert.ok(w.since !== undefined);
  assert.equal(w.maySend(B, 1n), true);
  assert.equal(w.onAnswer(B, 1n, 'accepted', true), 'cleared');
  assert.equal(w.since, undefined);
  assert.equal(w.incorrectInARow, 0);
  assert.equal(w.maySend(B, 2n), true);
  assert.equal(w.maySend(B, 3n), true);
  assert.equal(w.maySend(A, 4n), true);
});

const BOOKS: ShareCounts = {
  found: 12, submitted: 6, accepted: 1, rejected: 4, rejectedStale: 0, timedOut: 1, droppedStale: 1, droppedInvalid: 0,
  droppedBacklog: 0, lost: 0, withheld: 5, checking: 0, inFlight: 0, pending: 0,
};

test('withheld solutions are part of the books and of the detail line', () => {
  assert.equal(booksBalance(BOOKS), true);
  assert.equal(booksBalance({ ...BOOKS, withheld: 4 }), false, 'a withheld solution missing from the books');
  assert.equal(formatBooks(BOOKS), 'found 12, sent 6, timed out 1, withheld 5; stale 1 = 1 replaced before sending + 0 stale at node');
  assert.doesNotMatch(formatBooks({ ...BOOKS, found: 7, withheld: 0 }), /withheld/, 'said only when it happened');
});
