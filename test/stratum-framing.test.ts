import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OverlongLine } from '../src/stratum/framing.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from '../src/stratum/framing.js';

// node:test prints an error's message, not its cause: put the failing assertion in the message.
fc.configureGlobal({ includeErrorInReport: true });

function collect(maxLineBytes?: number): { framer: LineFramer; lines: string[]; overlong: OverlongLine[] } {
  const lines: string[] = [];
  const overlong: OverlongLine[] = [];
  const framer = new LineFramer({ maxLineBytes, onLine: (l) => lines.push(l), onOverlong: (o) => overlong.push(o) });
  return { framer, lines, overlong };
}

/** Feeds `data` cut at the given byte offsets. */
function feedSplit(framer: LineFramer, data: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), data.length)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, data.length]) {
    framer.push(data.subarray(prev, p));
    prev = p;
  }
}

test('several messages in one chunk', () => {
  const { framer, lines } = collect();
  framer.push('{"a":1}\n{"b":2}\n{"c":3}\n');
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a message split across chunks, byte by byte', () => {
  const { framer, lines } = collect();
  const text = '{"id": 17, "method": "mining.notify"}\n';
  for (const ch of Buffer.from(text)) {
    framer.push(Buffer.from([ch]));
    if (lines.length === 0) assert.ok(framer.bufferedBytes > 0 || ch === 0x0a);
  }
  assert.deepEqual(lines, ['{"id": 17, "method": "mining.notify"}']);
  assert.equal(framer.bufferedBytes, 0);
});

test('CRLF and LF endings, blank lines skipped, a partial line waits', () => {
  const { framer, lines } = collect();
  framer.push('one\r\ntwo\n\r\n\nthree\r');
  assert.deepEqual(lines, ['one', 'two']);
  framer.push('\nfour');
  assert.deepEqual(lines, ['one', 'two', 'three']);
  assert.equal(framer.bufferedBytes, 4);
});

test('a CR split from its LF across chunks is still a CRLF ending', () => {
  const { framer, lines } = collect();
  framer.push('abc\r');
  framer.push('\n');
  assert.deepEqual(lines, ['abc']);
});

test('multi-byte UTF-8 split inside a character decodes correctly', () => {
  const { framer, lines } = collect();
  const text = '{"m":"héllo € 𝄞 ✓"}\n';
  const bytes = Buffer.from(text, 'utf8');
  // Cut inside the 4-byte 𝄞 and inside the 3-byte €.
  const clef = bytes.indexOf(Buffer.from('𝄞'));
  const euro = bytes.indexOf(Buffer.from('€'));
  feedSplit(framer, bytes, [euro + 1, euro + 2, clef + 1, clef + 3]);
  assert.deepEqual(lines, ['{"m":"héllo € 𝄞 ✓"}']);
});

test('an over-long line is dropped, reported once, and the next line still arrives', () => {
  const { framer, lines, overlong } = collect(16);
  framer.push('short\n');
  framer.push('x'.repeat(10));
  framer.push('x'.repeat(10)); // now 20 bytes without a newline: over the bound
  framer.push('x'.repeat(1000));
  assert.equal(overlong.length, 1, 'reported as soon as it is known, once');
  assert.equal(framer.bufferedBytes, 0, 'nothing of it is kept');
  framer.push('yyy\nafter\n');
  assert.deepEqual(lines, ['short', 'after']);
  assert.equal(overlong.length, 1);
  assert.equal(overlong[0]!.limitBytes, 16);
});

test('an over-long line inside one chunk is dropped too', () => {
  const { framer, lines, overlong } = collect(8);
  framer.push(`ok\n${'z'.repeat(9)}\nok2\n`);
  assert.deepEqual(lines, ['ok', 'ok2']);
  assert.equal(overlong.length, 1);
  assert.equal(overlong[0]!.seenBytes, 9);
});

test('a line of exactly the bound is kept, with LF or CRLF', () => {
  const { framer, lines, overlong } = collect(8);
  framer.push('12345678\n');
  framer.push('1234');
  framer.push('5678\r');
  framer.push('\n');
  framer.push('123456789\n');
  assert.deepEqual(lines, ['12345678', '12345678']);
  assert.equal(overlong.length, 1);
});

test('the default bound is 64 KiB', () => {
  const { framer, lines, overlong } = collect();
  assert.equal(framer.maxLineBytes, DEFAULT_MAX_LINE_BYTES);
  framer.push(`${'a'.repeat(64 * 1024)}\n`);
  framer.push(`${'b'.repeat(64 * 1024 + 1)}\n`);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.length, 64 * 1024);
  assert.equal(overlong.length, 1);
});

test('reset() forgets a partial line and an over-long state', () => {
  const { framer, lines } = collect(4);
  framer.push('abc');
  framer.reset();
  framer.push('d\n');
  framer.push('toolong');
  framer.reset();
  framer.push('e\n');
  assert.deepEqual(lines, ['d', 'e']);
});

test('Uint8Array chunks (not Buffers) are accepted', () => {
  const { framer, lines } = collect();
  // A view that starts 2 bytes into its own ArrayBuffer: the offset must be honoured.
  const u8 = new Uint8Array([...Buffer.from('xx{"a":1}\n')]).subarray(2);
  framer.push(u8);
  assert.deepEqual(lines, ['{"a":1}']);
});

test('the chunk buffer may be reused by the caller after push returns', () => {
  const { framer, lines } = collect();
  const chunk = Buffer.from('abc');
  framer.push(chunk);
  chunk.fill(0x7a); // 'zzz': a socket reusing its memory
  framer.push('\n');
  assert.deepEqual(lines, ['abc']);
});

test('property: any split of a valid stream yields the same lines', () => {
  const lineArb = fc.string({ unit: 'grapheme', maxLength: 40 })
    .map((s) => s.replace(/[\r\n]/g, ' '))
    .filter((s) => s.length > 0);
  fc.assert(fc.property(
    fc.array(lineArb, { minLength: 1, maxLength: 12 }),
    fc.array(fc.boolean(), { maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 30 }),
    (lines, crlf, cuts) => {
      const text = lines.map((l, i) => `${l}${crlf[i] ? '\r\n' : '\n'}`).join('');
      const data = Buffer.from(text, 'utf8');
      const { framer, lines: got, overlong } = collect();
      feedSplit(framer, data, cuts.map((c) => c % (data.length + 1)));
      assert.deepEqual(got, lines);
      assert.equal(overlong.length, 0);
      assert.equal(framer.bufferedBytes, 0);
    }), { numRuns: 500 });
});

test('property: with a small bound, exactly the short lines survive any split', () => {
  fc.assert(fc.property(
    fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'é'), maxLength: 30 }).filter((s) => s.length > 0), { minLength: 1, maxLength: 10 }),
    fc.array(fc.nat(), { maxLength: 20 }),
    (lines, cuts) => {
      const max = 12;
      const data = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
      const { framer, lines: got, overlong } = collect(max);
      feedSplit(framer, data, cuts.map((c) => c % (data.length + 1)));
      const expected = lines.filter((l) => Buffer.byteLength(l) <= max);
      assert.deepEqual(got, expected);
      assert.equal(overlong.length, lines.length - expected.length);
    }), { numRuns: 300 });
});
