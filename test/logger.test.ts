import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, formatDuration, formatHashrate, logLevelFor } from '../src/log/logger.js';
import type { LoggerOptions } from '../src/log/logger.js';
import { formatBytes } from '../src/log/format.js';

// 2024-05-06 07:08:09.012 local time, so the human clock column is predictable in any time zone.
const FIXED = new Date(2024, 4, 6, 7, 8, 9, 12);
const ANSI = /\u001b\[/;

function capture(opts: Partial<LoggerOptions> = {}, isTTY = false) {
  let text = '';
  // A Writable whose write() completes synchronously, so lines are readable right after logging.
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString('utf8'); done(); } });
  (stream as unknown as { isTTY: boolean }).isTTY = isTTY;
  const logger = createLogger({ level: 'info', json: false, color: false, stream, env: {}, clock: () => FIXED, ...opts });
  return { logger, lines: () => text.split('\n').filter((l) => l !== '') };
}

describe('human lines', () => {
  it('prints time, level, tag, message and key=value fields in aligned columns', () => {
    const { logger, lines } = capture();
    logger.info('net', 'connected', { host: '127.0.0.1', port: 32525 });
    logger.warn('share', 'rejected', { reason: 'Incorrect Nonce!', job: 'ab' });
    logger.error('miner', 'stopped');
    const out = lines();
    assert.equal(out[0], '07:08:09.012       net    connected  host=127.0.0.1 port=32525');
    assert.equal(out[1], '07:08:09.012 WARN  share  rejected  reason="Incorrect Nonce!" job=ab');
    assert.equal(out[2], '07:08:09.012 ERROR miner  stopped');
    const msgColumn = out.map((l) => l.search(/(connected|rejected|stopped)/));
    assert.deepEqual(new Set(msgColumn).size, 1, 'messages start in the same column');
  });

  it('renders bigint, boolean and null fields, skips undefined ones, and quotes empty strings', () => {
    const { logger, lines } = capture();
    logger.info('job', 'new job', { difficulty: 2n ** 70n, clean: true, height: null, gone: undefined, worker: '' });
    assert.match(lines()[0]!, /difficulty=1180591620717411303424 clean=true height=null worker=""$/);
  });

  it('escapes control characters so a peer cannot forge a line or drive the terminal', () => {
    const { logger, lines } = capture();
    logger.warn('share', 'rejected\nFAKE LINE\u001b[31m', { reason: 'a\nb' });
    const out = lines();
    assert.equal(out.length, 1);
    assert.ok(!ANSI.test(out[0]!));
    assert.match(out[0]!, /rejected\\nFAKE LINE\\u001b\[31m {2}reason="a\\nb"/);
  });

  it('colours only when asked or on a terminal, and NO_COLOR turns auto colour off', () => {
    const forced = capture({ color: true });
    forced.logger.info('net', 'x');
    assert.ok(ANSI.test(forced.lines()[0]!));

    const autoTty = capture({ color: 'auto' }, true);
    autoTty.logger.info('net', 'x');
    assert.ok(ANSI.test(autoTty.lines()[0]!));

    const noColor = capture({ color: 'auto', env: { NO_COLOR: '1' } }, true);
    noColor.logger.info('net', 'x');
    assert.ok(!ANSI.test(noColor.lines()[0]!));
    assert.equal(noColor.logger.color, false);

    const pipe = capture({ color: 'auto' }, false);
    pipe.logger.info('net', 'x');
    assert.ok(!ANSI.test(pipe.lines()[0]!));
  });
});

describe('JSON lines', () => {
  it('writes one parseable object per line with time, level, tag, msg and the fields', () => {
    const { logger, lines } = capture({ json: true, color: true });
    logger.info('share', 'accepted', { nonce: 5n, ms: 12 });
    logger.warn('net', 'reconnecting', { msg: 'shadow', attempt: 2 });
    const [first, second] = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(first, { time: FIXED.toISOString(), level: 'info', tag: 'share', msg: 'accepted', nonce: '5', ms: 12 });
    assert.equal(second!['msg'], 'reconnecting', 'a field cannot overwrite the envelope');
    assert.equal(second!['field_msg'], 'shadow');
    assert.ok(!lines().some((l) => ANSI.test(l)), 'JSON is never coloured');
  });
});

describe('levels', () => {
  it('drops lines below the level', () => {
    const { logger, lines } = capture({ level: 'warn', json: true });
    logger.debug('cpu', 'd');
    logger.info('cpu', 'i');
    logger.warn('cpu', 'w');
    logger.error('cpu', 'e');
    assert.deepEqual(lines().map((l) => (JSON.parse(l) as { msg: string }).msg), ['w', 'e']);
    assert.equal(logger.isLevelEnabled('info'), false);
  });

  it('maps --quiet to warn and --verbose to debug', () => {
    assert.equal(logLevelFor({}), 'info');
    assert.equal(logLevelFor({ quiet: true }), 'warn');
    assert.equal(logLevelFor({ verbose: true }), 'debug');
    const { logger, lines } = capture({ level: logLevelFor({ verbose: true }) });
    logger.debug('net', 'line');
    assert.match(lines()[0]!, /^07:08:09\.012 DEBUG net {4}line$/);
  });
});

describe('status line and lifecycle', () => {
  it('clears the status line before a log line and redraws it after', () => {
    const { logger, lines } = capture();
    const events: string[] = [];
    const detach = logger.attachStatusLine({ clear: () => events.push('clear'), redraw: () => events.push('redraw') });
    logger.info('dag', 'one');
    detach();
    logger.info('dag', 'two');
    assert.deepEqual(events, ['clear', 'redraw']);
    assert.equal(lines().length, 2);
  });

  it('flush resolves and close stops writing', async () => {
    const { logger, lines } = capture();
    logger.info('miner', 'before');
    await logger.flush();
    logger.close();
    logger.info('miner', 'after');
    assert.equal(lines().length, 1);
  });
});

describe('formatting helpers', () => {
  it('formats hashrates', () => {
    assert.equal(formatHashrate(null), 'n/a');
    assert.equal(formatHashrate(Number.NaN), 'n/a');
    assert.equal(formatHashrate(12.5), '12.50 H/s');
    assert.equal(formatHashrate(1234), '1.23 kH/s');
    assert.equal(formatHashrate(999_999), '1.00 MH/s');
    assert.equal(formatHashrate(2.5e9), '2.50 GH/s');
  });

  it('formats durations and sizes', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(42_000), '42 s');
    assert.equal(formatDuration(303_000), '5 min 03 s');
    assert.equal(formatDuration(7_500_000), '2 h 05 min');
    assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3 d 04 h');
    assert.equal(formatDuration(-1), 'n/a');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1.52 * 2 ** 30), '1.52 GiB');
    assert.equal(formatBytes(4 * 2 ** 30), '4.00 GiB');
  });
});
