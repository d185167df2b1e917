import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HashrateMeter } from '../src/miner/hashrate.js';

const STEP_MS = 500;

/** Samples a constant rate every 500 ms over [fromMs, toMs]; returns the total at toMs. */
function feed(meter: HashrateMeter, hps: number, fromMs: number, toMs: number, startTotal = 0): number {
  let total = startTotal;
  for (let t = fromMs; t <= toMs; t += STEP_MS) {
    total = startTotal + (hps * (t - fromMs)) / 1000;
    meter.sample(total, t);
  }
  return total;
}

function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: expected ~${expected}, got null`);
  assert.ok(Math.abs(actual - expected) < expected * 1e-9 + 1e-9, `${what}: expected ${expected}, got ${actual}`);
}

describe('HashrateMeter', () => {
  it('reports null before there is enough data', () => {
    const m = new HashrateMeter();
    assert.deepEqual(m.rates(0), { '10s': null, '60s': null, '15m': null });
    m.sample(0, 0);
    assert.deepEqual(m.rates(0), { '10s': null, '60s': null, '15m': null });
    m.sample(500, 1_000);
    assert.deepEqual(m.rates(1_000), { '10s': null, '60s': null, '15m': null }, 'one second is under the 2 s minimum');
    assert.equal(m.highest, null);
    m.sample(1_000, 2_000);
    close(m.rates(2_000)['10s'], 500, '10s at 2 s');
  });

  it('gives a constant rate in every window once each has data', () => {
    const m = new HashrateMeter();
    const endMs = 20 * 60_000;
    feed(m, 1234, 0, endMs);
    const rates = m.rates(endMs);
    close(rates['10s'], 1234, '10s');
    close(rates['60s'], 1234, '60s');
    close(rates['15m'], 1234, '15m');
    close(m.highest, 1234, 'highest');
  });

  it('averages over the span available while a window is still filling', () => {
    const m = new HashrateMeter();
    feed(m, 100, 0, 30_000);
    const total = feed(m, 300, 30_000, 60_000, 3_000);
    assert.equal(total, 12_000);
    const rates = m.rates(60_000);
    close(rates['10s'], 300, '10s sees only the second half');
    close(rates['60s'], 200, '60s spans both halves');
    close(rates['15m'], 200, '15m has only one minute of data');
  });

  it('evicts samples older than 15 minutes', () => {
    const m = new HashrateMeter();
    const fastTotal = feed(m, 10_000, 0, 5 * 60_000);
    feed(m, 100, 5 * 60_000, 25 * 60_000, fastTotal);
    close(m.rates(25 * 60_000)['15m'], 100, 'the fast start has aged out');
    assert.ok(m.size <= 15 * 60 * 2 + 2, `at most 15 min of samples kept, got ${m.size}`);
    close(m.highest, 10_000, 'highest remembers the fast start');
  });

  it('carries on through a counter restart', () => {
    const m = new HashrateMeter();
    feed(m, 1_000, 0, 10_000); // total 10 000 at 10 s
    // A new native engine starts counting from zero; the rate does not change.
    for (let t = 10_500; t <= 20_000; t += STEP_MS) m.sample((t - 10_000), t);
    const rates = m.rates(20_000);
    close(rates['10s'], 1_000, '10s across the restart');
    close(rates['60s'], 1_000, '60s across the restart');
  });

  it('goes back to null when sampling stops, and 0 while paused but sampled', () => {
    const m = new HashrateMeter();
    const total = feed(m, 1_000, 0, 20_000);
    assert.equal(m.rates(40_000)['10s'], null, 'no sample in the last 10 s');
    close(m.rates(40_000)['60s'], 1_000, '60s still has 20 s of samples');
    for (let t = 40_000; t <= 52_000; t += STEP_MS) m.sample(total, t);
    assert.equal(m.rates(52_000)['10s'], 0);
  });

  it('bounds the buffer when sampled far faster than twice a second', () => {
    const m = new HashrateMeter();
    for (let t = 0; t <= 20 * 60_000; t += 10) m.sample(t * 5, t);
    close(m.rates(20 * 60_000)['15m'], 5_000, '15m');
    close(m.rates(20 * 60_000)['10s'], 5_000, '10s');
    assert.ok(m.size <= 3_602, `buffer bounded, got ${m.size}`);
  });

  it('starts over when the clock goes backwards, and reset() forgets everything', () => {
    const m = new HashrateMeter();
    feed(m, 1_000, 10_000, 20_000);
    m.sample(20_000, 5_000);
    assert.equal(m.size, 1);
    assert.equal(m.rates(5_000)['10s'], null);
    m.reset();
    assert.equal(m.size, 0);
    assert.equal(m.highest, null);
    assert.throws(() => m.sample(-1, 0), RangeError);
    assert.throws(() => m.sample(Number.NaN, 0), RangeError);
  });
});
