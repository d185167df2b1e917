import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log/logger.js';
import { MemoryLogger } from './support/memory-logger.js';
import { createProgress, formatBytes } from '../src/ui/progress.js';

const GIB = 2 ** 30;
const ANSI = /\u001b/;

function sink(isTTY: boolean): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString('utf8'); done(); } });
  Object.assign(stream, { isTTY, columns: 120 });
  return { stream, text: () => text };
}

describe('progress without a terminal', () => {
  it('writes plain log lines at most every interval, and the 100% line', () => {
    const logger = new MemoryLogger();
    let nowMs = 0;
    const { stream, text } = sink(false);
    const p = createProgress({ label: 'building dataset', total: 4 * GIB, tty: true, logger, stream, clock: () => nowMs });
    const step = GIB / 8;
    for (let done = step; done <= 4 * GIB; done += step) {
      nowMs += 500; // 32 updates over 16 s
      p.update(done);
    }
    p.stop();
    const lines = logger.lines.map((l) => l.msg);
    assert.equal(text(), '', 'a stream that is not a terminal never gets a bar, even with tty: true');
    assert.ok(logger.lines.every((l) => l.tag === 'dag' && l.level === 'info'));
    assert.deepEqual(lines, [
      'building dataset 31% (1.25 GiB of 4.00 GiB, 256.00 MiB/s, 11 s left)',
      'building dataset 62% (2.50 GiB of 4.00 GiB, 256.00 MiB/s, 6 s left)',
      'building dataset 93% (3.75 GiB of 4.00 GiB, 256.00 MiB/s, 1 s left)',
      'building dataset 100% (4.00 GiB in 16 s, 256.00 MiB/s)',
    ], 'one line per 5 s, then the 100% line');
    assert.ok(lines.every((l) => !ANSI.test(l)));
  });

  it('reaches 100% once even when updated past the total, and ignores updates after stop', () => {
    const logger = new MemoryLogger();
    let nowMs = 0;
    const p = createProgress({ label: 'building cache', total: 1000, unit: 'items', tty: false, logger, clock: () => nowMs });
    nowMs = 2_000;
    p.update(2000);
    p.update(3000);
    p.stop();
    p.update(10);
    assert.deepEqual(logger.lines.map((l) => l.msg), ['building cache 100% (1000 items in 2 s, 500.0 items/s)']);
  });

  it('goes through a real logger as plain text when not on a terminal', () => {
    const { stream, text } = sink(false);
    const logger = createLogger({ level: 'info', json: false, color: 'auto', stream, env: {} });
    let nowMs = 0;
    const p = createProgress({ label: 'building dataset', total: 100, tty: false, logger, clock: () => nowMs, intervalMs: 1_000 });
    nowMs = 1_000;
    p.update(37);
    nowMs = 2_000;
    p.update(100);
    p.stop();
    const lines = text().trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /dag {4}building dataset 37% \(37 B of 100 B, 37 B\/s, 2 s left\)$/);
    assert.match(lines[1]!, /dag {4}building dataset 100% \(100 B in 2 s, 50 B\/s\)$/);
    assert.ok(!ANSI.test(text()));
  });

  it('never draws a bar under a JSON logger, even on a terminal', () => {
    const { stream, text } = sink(true);
    const logger = createLogger({ level: 'info', json: true, color: false, stream, env: {} });
    const p = createProgress({ label: 'building cache', total: 10, unit: 'items', tty: true, logger, stream, clock: () => 0 });
    p.update(10);
    p.stop();
    const lines = text().trim().split('\n').map((l) => JSON.parse(l) as { tag: string; msg: string });
    assert.deepEqual(lines.map((l) => [l.tag, l.msg]), [['dag', 'building cache 100% (10 items in 0 ms)']]);
  });

  it('rejects a total that is not a positive number', () => {
    assert.throws(() => createProgress({ label: 'x', total: 0, tty: false, logger: new MemoryLogger() }), RangeError);
    assert.throws(() => createProgress({ label: 'x', total: Number.NaN, tty: false, logger: new MemoryLogger() }), RangeError);
  });
});

describe('progress on a terminal', () => {
  it('draws a bar, keeps log lines off it, and ends at 100%', () => {
    const { stream, text } = sink(true);
    const logger = createLogger({ level: 'info', json: false, color: false, stream, env: {} });
    const p = createProgress({ label: 'building dataset', total: 4 * GIB, tty: true, logger, stream });
    p.update(GIB);
    logger.info('net', 'connected');
    p.update(4 * GIB);
    p.stop();
    p.stop();
    const out = text();
    assert.ok(out.includes('building dataset ['), 'a bar was drawn');
    assert.ok(out.includes('100% | 4.00 GiB of 4.00 GiB'), out);
    assert.ok(out.includes('\r\u001b[2K'), 'the bar line is cleared before the log line');
    assert.match(out, /\r\u001b\[2K\d\d:\d\d:\d\d\.\d{3} {7}net {4}connected\n\u001b7/,
      'the log line is whole, on a cleared line, and the bar resumes below it');
    assert.ok(logger.isLevelEnabled('info'));
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(85 * 2 ** 20), '85.00 MiB');
    assert.equal(formatBytes(1.52 * GIB), '1.52 GiB');
  });
});
