// A hand-built Summary for the stats API's tests: every field filled, overridable per test.
import type { Summary } from '../../src/miner/summary.js';

export function summaryFixture(overrides: Partial<Summary> = {}): Summary {
  return {
    version: '0.1.0', uptime_s: 1, algo: 'keccak', mode: 'keccak', threads: 1,
    hashrate: { '10s': 10, '60s': null, '15m': null, threads: [10] },
    shares: { accepted: 5, rejected: 0, stale: 0 },
    job: null,
    connection: { host: '127.0.0.1', port: 1, state: 'connected' },
    dataset: { state: 'idle', progress: 0, huge_pages_fraction: null },
    hashes: 1234,
    best: null,
    expected_block_s: null,
    effort: 0,
    self_check: { share_difficulty: null, checked: 0, invalid: 0, effective_hps: null },
    self_test: { ok: true, kernels: [] },
    health: { ok: true, reasons: [] },
    ...overrides,
  };
}
