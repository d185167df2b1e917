// RateLimitedLog: what a flood of node-driven lines turns into, on a clock the test moves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { RateLimitedLog } from '../src/log/rate-limit.js';
import { MemoryLogger } from './support/memory-logger.js';
import { waitFor } from './support/wait.js';

function clock(start = 1_000): { now: () => number; set(t: number): void } {
  let t = start;
  return { now: () => t, set(v: number) { t = v; } };
}

describe('RateLimitedLog', () => {
  it('logs the first `limit` lines of a key per window, counts the rest and sums them up at the next window', () => {
    const log = new MemoryLogger();
    const c = clock();
    const rl = new RateLimitedLog(log, { limits: { limit: 2, windowMs: 1_000 }, now: c.now });
    const answers = [1, 2, 3, 4, 5].map((i) => rl.line('job', 'info', 'job', 'new jobs', `job ${i}`));
    assert.deepEqual(answers, [true, true, false, false, false]);
    assert.equal(rl.suppressedTotal, 3);
    // Another key has its own window.
    assert.equal(rl.line('found', 'info', 'share', 'solutions', 'found 1'), true);
    c.set(2_000);
    assert.equal(rl.line('job', 'info', 'job', 'new jobs', 'job 6'), true);
    assert.deepEqual(log.lines.map((l) => l.msg), [
      'job 1', 'job 2', 'found 1',
      'new jobs: 3 more in the last 1 s (latest: job 5)',
      'job 6',
    ]);
    rl.close();
  });

  it('formats a suppressed line only if a summary quotes it', () => {
    const log = new MemoryLogger();
    const c = clock();
    const rl = new RateLimitedLog(log, { limits: { limit: 1, windowMs: 1_000 }, now: c.now });
    let formatted = 0;
    for (let i = 0; i < 100; i++) rl.line('job', 'info', 'job', 'new jobs', () => { formatted++; return `job ${i}`; });
    assert.equal(formatted, 1, 'only the logged line was formatted');
    rl.close();
    assert.equal(formatted, 2, 'and the latest one, for the summary');
    assert.equal(log.lines.at(-1)?.msg, 'new jobs: 99 more in the last 1 s (latest: job 99)');
  });

  it('prints the summary of a window that ended in silence from its timer, and stops the timer after', async () => {
    const log = new MemoryLogger();
    const rl = new RateLimitedLog(log, { limits: { limit: 1, windowMs: 40 } });
    for (let i = 0; i < 3; i++) rl.line('bad', 'warn', 'net', 'bad lines', `bad ${i}`);
    assert.equal(log.lines.length, 1);
    await waitFor(() => log.lines.length >= 2, 5_000, 'the window\'s summary from its timer');
    assert.deepEqual(log.lines.map((l) => l.msg), ['bad 0', 'bad lines: 2 more in the last 0 s (latest: bad 2)']);
    assert.equal(log.lines[1]?.level, 'warn');
    // No window is left with lines to sum up: nothing more comes, and close() adds nothing. This
    // wait is the thing under test (a second summary would come within a window, 40 ms); a slow
    // machine only makes it longer, which cannot hide a second summary.
    await sleep(100);
    rl.close();
    assert.equal(log.lines.length, 2);
  });

  it('with deferOutput, counts at once but prints on the next turn of the loop, in order', async () => {
    const log = new MemoryLogger();
    const c = clock();
    const rl = new RateLimitedLog(log, { limits: { limit: 2, windowMs: 1_000 }, now: c.now, deferOutput: true });
    assert.equal(rl.line('job', 'info', 'job', 'new jobs', 'job 1'), true);
    assert.equal(rl.line('job', 'info', 'job', 'new jobs', () => 'job 2'), true);
    assert.equal(rl.line('job', 'info', 'job', 'new jobs', 'job 3'), false);
    c.set(2_500);
    assert.equal(rl.line('job', 'info', 'job', 'new jobs', 'job 4'), true);
    assert.equal(log.lines.length, 0, 'nothing printed inside line()');
    await nextTurn();
    assert.deepEqual(log.lines.map((l) => l.msg), ['job 1', 'job 2', 'new jobs: 1 more in the last 1 s (latest: job 3)', 'job 4']);
    assert.equal(rl.line('job', 'info', 'job', 'new jobs', 'job 5'), true);
    rl.close();
    assert.equal(log.lines.at(-1)?.msg, 'job 5', 'close() prints what is still queued');
  });
});
