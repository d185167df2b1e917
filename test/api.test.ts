import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet } from './support/net.js';
import { connect } from 'node:net';
import { createMetricsRegistry } from '../src/api/metrics.js';
import { startApiServer } from '../src/api/server.js';
import type { ApiServer } from '../src/api/server.js';
import type { Summary } from '../src/miner/summary.js';
import { MemoryLogger } from './support/memory-logger.js';
import { UsageError } from '../src/errors.js';
import { History, HISTORY_CAPACITY, HISTORY_INTERVAL_MS } from '../src/miner/history.js';
import type { HistoryJson } from '../src/miner/history.js';
import { ThreadHashrates } from '../src/miner/thread-hashrate.js';
import { formatDifficulty, formatEffort, formatExpectedTime } from '../src/api/dashboard.js';
import { formatHashrate } from '../src/log/format.js';

function summary(overrides: Partial<Summary> = {}): Summary {
  return {
    version: '0.1.0',
    uptime_s: 42,
    algo: 'octopus',
    mode: 'light',
    threads: 3,
    hashrate: { '10s': 1500.5, '60s': 1400, '15m': null, threads: [800.25, null, 700.25] },
    shares: { accepted: 7, rejected: 2, stale: 1 },
    job: { id: '0xabc', height: 123_456, difficulty: 2n ** 64n + 1n, age_s: 4 },
    connection: { host: '127.0.0.1', port: 32525, state: 'connected' },
    dataset: { state: 'ready', progress: 1, huge_pages_fraction: 0.985 },
    hashes: 123_456_789,
    best: { difficulty: 2n ** 70n + 3n, nonce: '0x4b20df037c6ac8c', job: '0xabc', height: 123_450 },
    expected_block_s: 12_294_309.5,
    effort: 0.375,
    self_check: { share_difficulty: 2n ** 40n, checked: 42, invalid: 1, effective_hps: 1480.25 },
    self_test: { ok: true, kernels: [{ name: 'keccak avx512x8', ok: true, ms: 3.5 }, { name: 'light avx512', ok: true, ms: 41 }] },
    health: { ok: true, reasons: [] },
    ...overrides,
  };
}

async function withServer(opts: { token?: string; current?: () => Summary; logger?: MemoryLogger },
  fn: (server: ApiServer) => Promise<void>): Promise<void> {
  const getSummary = opts.current ?? (() => summary());
  const server = await startApiServer({
    host: '127.0.0.1', port: 0, token: opts.token, getSummary,
    registry: createMetricsRegistry(getSummary), logger: opts.logger ?? new MemoryLogger(),
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

describe('stats API', { timeout: 20_000 }, () => {
  it('serves /summary as JSON built from getSummary, difficulty exact as a string', async () => {
    let accepted = 7;
    await withServer({ current: () => summary({ shares: { accepted, rejected: 2, stale: 1 } }) }, async ({ port }) => {
      const first = await httpGet(port, '/summary');
      assert.equal(first.status, 200);
      assert.match(String(first.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(first.body), {
        version: '0.1.0', uptime_s: 42, algo: 'octopus', mode: 'light', threads: 3,
        hashrate: { '10s': 1500.5, '60s': 1400, '15m': null, threads: [800.25, null, 700.25] },
        shares: { accepted: 7, rejected: 2, stale: 1 },
        job: { id: '0xabc', height: 123456, difficulty: '18446744073709551617', age_s: 4 },
        connection: { host: '127.0.0.1', port: 32525, state: 'connected' },
        dataset: { state: 'ready', progress: 1, huge_pages_fraction: 0.985 },
        hashes: 123456789,
        best: { difficulty: '1180591620717411303427', nonce: '0x4b20df037c6ac8c', job: '0xabc', height: 123450 },
        expected_block_s: 12294309.5,
        effort: 0.375,
        self_check: { share_difficulty: '1099511627776', checked: 42, invalid: 1, effective_hps: 1480.25 },
        self_test: { ok: true, kernels: [{ name: 'keccak avx512x8', ok: true, ms: 3.5 }, { name: 'light avx512', ok: true, ms: 41 }] },
        health: { ok: true, reasons: [] },
      });
      accepted = 8;
      const second = JSON.parse((await httpGet(port, '/summary?x=1')).body) as Summary;
      assert.equal(second.shares.accepted, 8, 'each request reads live state');
    });
  });

  it('serves /summary with no job, no best hash and no share difficulty yet', async () => {
    const current = () => summary({
      job: null, best: null, expected_block_s: null, dataset: { state: 'idle', progress: 0, huge_pages_fraction: null },
      self_check: { share_difficulty: null, checked: 0, invalid: 0, effective_hps: null },
    });
    await withServer({ current }, async ({ port }) => {
      const body = JSON.parse((await httpGet(port, '/summary')).body) as Record<string, unknown>;
      assert.equal(body['job'], null);
      assert.equal(body['best'], null);
      assert.equal(body['expected_block_s'], null);
      assert.deepEqual(body['dataset'], { state: 'idle', progress: 0, huge_pages_fraction: null }, 'no dataset: no fraction');
      assert.deepEqual(body['self_check'], { share_difficulty: null, checked: 0, invalid: 0, effective_hps: null });
    });
  });

  it('serves Prometheus text with share counts, hashrate, threads, difficulty and process metrics', async () => {
    await withServer({}, async ({ port }) => {
      const reply = await httpGet(port, '/metrics');
      assert.equal(reply.status, 200);
      assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const lines = reply.body.split('\n');
      for (const expected of [
        'cfx_miner_shares_total{result="accepted"} 7',
        'cfx_miner_shares_total{result="rejected"} 2',
        'cfx_miner_shares_total{result="stale"} 1',
        'cfx_miner_hashrate_hps{window="10s"} 1500.5',
        'cfx_miner_hashrate_hps{window="60s"} 1400',
        'cfx_miner_threads 3',
        'cfx_miner_thread_hashrate_hps{thread="0"} 800.25',
        'cfx_miner_thread_hashrate_hps{thread="2"} 700.25',
        'cfx_miner_job_difficulty 18446744073709552000',
        'cfx_miner_job_height 123456',
        'cfx_miner_job_age_seconds 4',
        '# TYPE cfx_miner_shares_total counter',
        'cfx_miner_hashes_total 123456789',
        '# TYPE cfx_miner_hashes_total counter',
        'cfx_miner_best_difficulty 1.1805916207174113e+21',
        'cfx_miner_expected_block_seconds 12294309.5',
        'cfx_miner_effort 0.375',
        'cfx_miner_share_difficulty 1099511627776',
        'cfx_miner_self_check_checked_total 42',
        '# TYPE cfx_miner_self_check_checked_total counter',
        'cfx_miner_self_check_invalid_total 1',
        '# TYPE cfx_miner_self_check_invalid_total counter',
        'cfx_miner_effective_hashrate_hps 1480.25',
        'cfx_miner_healthy 1',
        'cfx_miner_self_test_ok 1',
        'cfx_miner_dataset_huge_pages_ratio 0.985',
      ]) {
        assert.ok(lines.includes(expected), `missing line: ${expected}`);
      }
      assert.ok(!lines.some((l) => l.startsWith('cfx_miner_hashrate_hps{window="15m"}')), 'a null window has no sample');
      assert.ok(!lines.some((l) => l.startsWith('cfx_miner_thread_hashrate_hps{thread="1"}')), 'a null thread has no sample');
      assert.ok(lines.some((l) => l.startsWith('process_cpu_user_seconds_total ')), 'default process metrics');
      assert.ok(lines.some((l) => l.startsWith('nodejs_heap_size_used_bytes ')), 'default Node.js metrics');
    });
  });

  it('leaves out the series that have no value yet, and mirrors an unhealthy miner and a failed self-test', async () => {
    const current = () => summary({
      best: null, expected_block_s: null, effort: 0, dataset: { state: 'idle', progress: 0, huge_pages_fraction: null },
      self_check: { share_difficulty: null, checked: 0, invalid: 0, effective_hps: null },
      self_test: { ok: false, kernels: [{ name: 'keccak avx512x8', ok: false, ms: 2 }] },
      health: { ok: false, reasons: ['self-test failed: keccak avx512x8'] },
    });
    await withServer({ current }, async ({ port }) => {
      const lines = (await httpGet(port, '/metrics')).body.split('\n');
      for (const name of ['cfx_miner_best_difficulty', 'cfx_miner_expected_block_seconds', 'cfx_miner_share_difficulty',
        'cfx_miner_effective_hashrate_hps', 'cfx_miner_dataset_huge_pages_ratio']) {
        assert.ok(!lines.some((l) => l.startsWith(`${name} `)), `${name} has no sample while null`);
      }
      for (const expected of ['cfx_miner_effort 0', 'cfx_miner_self_check_checked_total 0', 'cfx_miner_self_check_invalid_total 0',
        'cfx_miner_healthy 0', 'cfx_miner_self_test_ok 0']) {
        assert.ok(lines.includes(expected), `missing line: ${expected}`);
      }
    });
  });

  it('answers GET and HEAD /health with 200 or 503 from summary.health, with or without a token set', async () => {
    let health: Summary['health'] = { ok: true, reasons: [] };
    for (const token of [undefined, 'health-token-9']) {
      const logger = new MemoryLogger();
      await withServer({ token, logger, current: () => summary({ health }) }, async ({ port }) => {
        health = { ok: true, reasons: [] };
        const ok = await httpGet(port, '/health');
        assert.equal(ok.status, 200, `token ${String(token)}`);
        assert.match(String(ok.headers['content-type']), /^application\/json/);
        assert.deepEqual(JSON.parse(ok.body), { ok: true, reasons: [], uptime_s: 42 });
        health = { ok: false, reasons: ['not connected to a node (disconnected)', 'self-test failed: keccak avx512x8'] };
        const bad = await httpGet(port, '/health?verbose=1');
        assert.equal(bad.status, 503);
        assert.deepEqual(JSON.parse(bad.body), { ok: false, reasons: health.reasons, uptime_s: 42 });
        const head = await httpGet(port, '/health', { method: 'HEAD' });
        assert.deepEqual([head.status, head.body], [503, '']);
        // Nothing else left the token's protection.
        assert.equal((await httpGet(port, '/summary')).status, token ? 401 : 200);
        assert.equal((await httpGet(port, '/metrics')).status, token ? 401 : 200);
        assert.equal((await httpGet(port, '/health/extra')).status, token ? 401 : 404);
        assert.equal((await httpGet(port, '/health', { method: 'POST' })).status, token ? 401 : 405);
        if (token) {
          const wrong = await httpGet(port, '/health', { headers: { Authorization: 'Bearer nope' } });
          assert.equal(wrong.status, 503, 'a wrong token does not matter on /health');
        }
      });
      if (token) assert.ok(!JSON.stringify(logger.lines).includes(token), 'the token never reaches the log');
    }
  });

  it('lets two registries coexist in one process', () => {
    assert.doesNotThrow(() => {
      createMetricsRegistry(() => summary());
      createMetricsRegistry(() => summary());
    });
  });

  it('requires the bearer token when one is set, without logging it', async () => {
    const logger = new MemoryLogger();
    await withServer({ token: 's3cret-token', logger }, async ({ port }) => {
      const none = await httpGet(port, '/summary');
      assert.equal(none.status, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      const wrong = await httpGet(port, '/summary', { headers: { Authorization: 'Bearer s3cret-tokeN' } });
      assert.equal(wrong.status, 401);
      const basic = await httpGet(port, '/metrics', { headers: { Authorization: 'Basic s3cret-token' } });
      assert.equal(basic.status, 401);
      const hidden = await httpGet(port, '/nowhere');
      assert.equal(hidden.status, 401, 'no path is revealed before authentication');
      assert.equal((await httpGet(port, '/history')).status, 401);
      // The dashboard's page holds no data: it is what asks for the token, so it needs none.
      const page = await httpGet(port, '/');
      assert.equal(page.status, 200);
      assert.ok(!page.body.includes('1500'), 'the page carries no figures of its own');
      const ok = await httpGet(port, '/summary', { headers: { Authorization: 'Bearer s3cret-token' } });
      assert.equal(ok.status, 200);
      assert.equal((JSON.parse(ok.body) as Summary).threads, 3);
      const metrics = await httpGet(port, '/metrics', { headers: { authorization: 'bearer s3cret-token' } });
      assert.equal(metrics.status, 200);
    });
    assert.ok(logger.lines.length > 0);
    assert.ok(!JSON.stringify(logger.lines).includes('s3cret'), 'the token never reaches the log');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    await withServer({}, async ({ port }) => {
      const notFound = await httpGet(port, '/index.html');
      assert.equal(notFound.status, 404);
      assert.match(notFound.body, /\/summary, \/history, \/metrics or \/health/);
      assert.equal((await httpGet(port, '/history')).status, 404, 'no history source given');
      assert.equal((await httpGet(port, '/summary/extra')).status, 404);
      const post = await httpGet(port, '/summary', { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers['allow'], 'GET, HEAD');
      assert.equal((await httpGet(port, '/summary', { method: 'DELETE' })).status, 405);
      const head = await httpGet(port, '/summary', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    });
  });

  it('answers 500 and logs when getSummary throws', async () => {
    const logger = new MemoryLogger();
    await withServer({ logger, current: () => { throw new Error('engine gone'); } }, async ({ port }) => {
      assert.equal((await httpGet(port, '/summary')).status, 500);
    });
    assert.ok(logger.lines.some((l) => l.level === 'warn' && l.fields?.['error'] === 'engine gone'));
  });

  it('binds to 127.0.0.1 by default and reports a taken port as a usage error', async () => {
    const getSummary = () => summary();
    const registry = createMetricsRegistry(getSummary, { defaultMetrics: false });
    const first = await startApiServer({ port: 0, getSummary, registry, logger: new MemoryLogger() });
    try {
      assert.equal(first.host, '127.0.0.1');
      await assert.rejects(
        startApiServer({ port: first.port, getSummary, registry, logger: new MemoryLogger() }),
        (err: unknown) => err instanceof UsageError && err.message.includes('already in use'),
      );
    } finally {
      await first.close();
    }
    await first.close(); // a second close is harmless
  });

  it('closes open keep-alive connections so nothing holds the process', async () => {
    const getSummary = () => summary();
    const server = await startApiServer({ port: 0, getSummary, registry: createMetricsRegistry(getSummary), logger: new MemoryLogger() });
    // A raw socket stays referenced (an http.Agent would unref it), so a leak would hang the test.
    const socket = connect(server.port, '127.0.0.1');
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const replied = new Promise<void>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.includes('"dataset"')) resolve();
      });
    });
    socket.write('GET /summary HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    await replied;
    await server.close();
    await ended;
  });
});

describe('stats API dashboard and history', { timeout: 20_000 }, () => {
  it('serves the page, its script and style from the package, with a policy that forbids other origins', async () => {
    await withServer({}, async ({ port }) => {
      const page = await httpGet(port, '/');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      for (const mark of ['hashrate-10s', 'accepted', 'rejected', 'stale', 'height', 'connection']) {
        assert.ok(page.body.includes(`data-metric="${mark}"`), `page marks ${mark}`);
      }
      assert.match(page.body, /<svg[^>]*data-chart="hashrate"/);
      for (const asset of ['/dashboard.js', '/dashboard.css']) {
        const reply = await httpGet(port, asset);
        assert.equal(reply.status, 200, asset);
        // Nothing the page loads may point anywhere but this server (the SVG namespace is a name, not a fetch).
        const urls = (page.body + reply.body).match(/https?:\/\/[^\s"'`)]+/g) ?? [];
        assert.deepEqual(urls.filter((u) => u !== 'http://www.w3.org/2000/svg'), [], `${asset} names no external URL`);
      }
    });
  });

  it('serves /history from the given source', async () => {
    const getSummary = () => summary();
    const history = new History(3);
    for (let i = 0; i < 5; i++) history.record(summary({ shares: { accepted: i, rejected: 0, stale: 0 } }), 1000 * i);
    const server = await startApiServer({
      port: 0, getSummary, getHistory: () => history.toJson(), registry: createMetricsRegistry(getSummary), logger: new MemoryLogger(),
    });
    try {
      const body = JSON.parse((await httpGet(server.port, '/history')).body) as HistoryJson;
      assert.deepEqual(body.t, [2000, 3000, 4000]);
      assert.deepEqual(body.accepted, [2, 3, 4]);
      assert.deepEqual(body.hashrate_15m, [null, null, null]);
      assert.deepEqual(body.hashrate_10s, [1500.5, 1500.5, 1500.5]);
    } finally {
      await server.close();
    }
  });
});

describe('History', () => {
  it('is a fixed ring: past capacity, the oldest samples go and the size stays put', () => {
    const h = new History(HISTORY_CAPACITY);
    const n = HISTORY_CAPACITY * 2 + 7;
    for (let i = 0; i < n; i++) {
      h.record({ hashrate: { '10s': i, '60s': null, '15m': null }, shares: { accepted: i, rejected: 0, stale: 0 } }, i);
    }
    assert.equal(h.size, HISTORY_CAPACITY);
    const json = h.toJson();
    assert.equal(json.t.length, HISTORY_CAPACITY);
    assert.equal(json.t[0], n - HISTORY_CAPACITY);
    assert.equal(json.t.at(-1), n - 1);
    assert.equal(json.hashrate_10s.at(-1), n - 1);
    assert.ok(HISTORY_CAPACITY * HISTORY_INTERVAL_MS >= 3_600_000, 'holds at least the last hour');
  });
});

describe('ThreadHashrates', () => {
  it('reports each thread from its own counter', () => {
    const t = new ThreadHashrates();
    assert.deepEqual(t.rates10s(0), []);
    t.sample([0, 0], 0);
    t.sample([1000, 3000], 1000);
    t.sample([2000, 6000], 2000);
    assert.deepEqual(t.rates10s(2000), [1000, 3000]);
    t.sample([], 2500); // a destroyed engine reports nothing: keep the last figures
    assert.deepEqual(t.rates10s(2500), [1000, 3000]);
  });
});

describe('dashboard formatters (the page runs these very functions)', () => {
  it('formats the expected time to a block as a coarse human duration, a dash while unknown', () => {
    const cases: [number | null, string][] = [
      [null, '\u2014'], [Number.NaN, '\u2014'], [-1, '\u2014'], [Number.POSITIVE_INFINITY, '\u2014'],
      [0.2, '< 1 s'], [42.9, '42 s'], [12 * 60 + 59, '12 min'], [3600, '1 h'], [5 * 3600 + 3 * 60 + 7, '5 h 3 min'],
      [86_400, '1 d'], [3 * 86_400 + 4 * 3600 + 59, '3 d 4 h'], [(365.25 * 12 + 40) * 86_400 + 7, '12 y 40 d'],
      [3.41e6 * 365.25 * 86_400, '3.41 M y'], [2.5e3 * 365.25 * 86_400, '2.50 k y'],
    ];
    for (const [s, text] of cases) assert.equal(formatExpectedTime(s), text, String(s));
  });

  it('formats effort as a percentage and difficulties in SI steps', () => {
    assert.equal(formatEffort(0), '0.0%');
    assert.equal(formatEffort(0.375), '37.5%');
    assert.equal(formatEffort(2.5), '250.0%');
    assert.equal(formatEffort(Number.NaN), '-');
    assert.equal(formatDifficulty(512), '512');
    assert.equal(formatDifficulty(2_000_000), '2.00 M');
    assert.equal(formatDifficulty(3_410_000_000), '3.41 G');
  });

  it('puts the formatters into the served script as they are', async () => {
    await withServer({}, async ({ port }) => {
      const js = (await httpGet(port, '/dashboard.js')).body;
      for (const f of [formatExpectedTime, formatEffort, formatDifficulty, formatHashrate]) assert.ok(js.includes(f.toString()), f.name);
      for (const mark of ['best-difficulty', 'expected-block', 'effort', 'health', 'effective-hashrate', 'counted-hashrate']) {
        assert.ok((await httpGet(port, '/')).body.includes(`data-metric="${mark}"`), mark);
      }
    });
  });
});
