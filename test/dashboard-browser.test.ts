// The dashboard in a real browser (headless Debian chromium): its numbers are /summary's, the
// hashrate chart draws, the token is asked for once and travels only in a header, and the page
// loads nothing from anywhere but the miner.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet } from './support/net.js';
import type { Browser, Page } from 'playwright-core';
import { createMetricsRegistry } from '../src/api/metrics.js';
import { startApiServer } from '../src/api/server.js';
import type { Summary } from '../src/miner/summary.js';
import { History } from '../src/miner/history.js';
import { formatHashrate } from '../src/log/format.js';
import { formatDifficulty, formatEffort, formatExpectedTime } from '../src/api/dashboard.js';
import { MemoryLogger } from './support/memory-logger.js';
import { TestNode } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import { chromiumSkipReason, launchChromium } from './support/browser.js';
import { pollUntil, waitFor } from './support/wait.js';

const skip = chromiumSkipReason();
const CHART_DRAWN = 'document.querySelectorAll(\'svg[data-chart="hashrate"] polyline\').length === 3';
const MARKS = ['hashrate-10s', 'accepted', 'rejected', 'stale', 'height', 'connection',
  'best-difficulty', 'best-nonce', 'best-height', 'share-difficulty', 'self-check', 'effective-hashrate', 'counted-hashrate',
  'expected-block', 'effort', 'health'] as const;

async function getSummaryJson(port: number, token?: string): Promise<Record<string, any>> {
  const reply = await httpGet(port, '/summary', { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
  return JSON.parse(reply.body) as Record<string, any>;
}

/** What the page should show for each mark, from a /summary body. */
function expectedMarks(s: Record<string, any>): Record<(typeof MARKS)[number], string> {
  return {
    'hashrate-10s': formatHashrate(s['hashrate']['10s']),
    accepted: String(s['shares']['accepted']),
    rejected: String(s['shares']['rejected']),
    stale: String(s['shares']['stale']),
    height: s['job'] && s['job']['height'] !== null ? String(s['job']['height']) : '-',
    connection: s['connection']['state'],
    // The best and time-to-block panels and the health badge (issue 20).
    'best-difficulty': s['best'] ? formatDifficulty(Number(s['best']['difficulty'])) : '-',
    'best-nonce': s['best'] ? s['best']['nonce'] : '-',
    'best-height': s['best'] && s['best']['height'] !== null ? String(s['best']['height']) : '-',
    'share-difficulty': s['self_check']['share_difficulty'] === null ? '-' : formatDifficulty(Number(s['self_check']['share_difficulty'])),
    'self-check': String(s['self_check']['checked']) + (s['self_check']['invalid'] ? `, ${s['self_check']['invalid']} invalid` : ''),
    'effective-hashrate': formatHashrate(s['self_check']['effective_hps']),
    'counted-hashrate': formatHashrate(s['hashrate']['15m'] ?? s['hashrate']['60s'] ?? s['hashrate']['10s']),
    'expected-block': formatExpectedTime(s['expected_block_s']),
    effort: formatEffort(s['effort']),
    health: s['health']['ok'] ? 'healthy' : s['health']['reasons'].join('; '),
  };
}

async function pageMarks(page: Page): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const m of MARKS) out[m] = (await page.locator(`[data-metric="${m}"]`).first().textContent())?.trim() ?? '';
  return out;
}

/**
 * Polls the page until every mark equals what /summary says (both read again on each try). With
 * `received`, the page is held to the last /summary answer it got itself: a live miner's counts
 * change several times a second, so a fresh /summary rarely equals the one the page shows.
 */
async function marksMatchSummary(page: Page, port: number, token: string | undefined, timeoutMs = 15_000,
  received?: () => Record<string, any> | undefined): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  for (;;) {
    const source = received?.();
    const want = expectedMarks(source ?? await getSummaryJson(port, token));
    const got = await pageMarks(page);
    if (MARKS.every((m) => got[m] === want[m])) return;
    last = `page ${JSON.stringify(got)} vs /summary ${JSON.stringify(want)}`;
    if (performance.now() > deadline) assert.fail(`the page never matched /summary: ${last}`);
    await page.waitForTimeout(100); // a browser-side poll interval, not synchronisation: the loop waits for a state
  }
}

/** Records every URL the page asks for, and each request's Authorization header. */
function recordRequests(page: Page): { urls: string[]; auth: (string | undefined)[] } {
  const urls: string[] = [];
  const auth: (string | undefined)[] = [];
  page.on('request', (r) => {
    urls.push(r.url());
    auth.push(r.headers()['authorization']);
  });
  return { urls, auth };
}

async function polylinePoints(page: Page): Promise<number[]> {
  return page.$$eval('svg[data-chart="hashrate"] polyline', (lines) =>
    lines.map((l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).filter((p: string) => p !== '').length));
}

describe('dashboard in headless chromium', { skip, timeout: 120_000 }, () => {
  it('asks for the token once, shows /summary\'s numbers, draws the chart and loads nothing external', async () => {
    let current: Summary = {
      version: '0.1.0', uptime_s: 75, algo: 'octopus', mode: 'light', threads: 2,
      hashrate: { '10s': 18_345.5, '60s': 17_900, '15m': null, threads: [9_100.25, 9_245.25] },
      shares: { accepted: 7, rejected: 2, stale: 1 },
      job: { id: '0xabc', height: 123_456, difficulty: 2_000_000n, age_s: 3 },
      connection: { host: '127.0.0.1', port: 32525, state: 'connected' },
      dataset: { state: 'building-dataset', progress: 0.25, huge_pages_fraction: null },
      hashes: 1_376_000,
      best: { difficulty: 3_410_000_000n, nonce: '0xa912c78b8f6c59fc', job: '0x948c9836ec4e6f4522cb56628dbca91ba7f574c6df3a1139a435882f727b0f55', height: 123_450 },
      expected_block_s: 3 * 86_400 + 4 * 3_600 + 59,
      effort: 0.375,
      self_check: { share_difficulty: 2n ** 32n, checked: 12, invalid: 0, effective_hps: 17_250.5 },
      self_test: { ok: true, kernels: [{ name: 'light avx512', ok: true, ms: 40 }] },
      health: { ok: true, reasons: [] },
    };
    const history = new History();
    for (let i = 0; i < 12; i++) {
      history.record({ hashrate: { '10s': 17_000 + 200 * i, '60s': 17_500, '15m': null },
        shares: { accepted: Math.floor(i / 2), rejected: 0, stale: 0 } }, 1_700_000_000_000 + 5_000 * i);
    }
    const token = 'dash-token-7f3c';
    const server = await startApiServer({
      port: 0, token, getSummary: () => current, getHistory: () => history.toJson(),
      registry: createMetricsRegistry(() => current, { defaultMetrics: false }), logger: new MemoryLogger(),
    });
    const origin = `http://127.0.0.1:${server.port}`;
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const seen = recordRequests(page);
      await page.goto(`${origin}/`);
      await page.locator('#token').waitFor({ state: 'visible', timeout: 10_000 });
      await page.fill('#token', token);
      await page.press('#token', 'Enter');

      await marksMatchSummary(page, server.port, token);
      // The new panels, spelled out once, so a formatter that went wrong with the page's would still fail.
      const text = async (mark: string) => (await page.locator(`[data-metric="${mark}"]`).first().textContent())?.trim();
      assert.equal(await text('best-difficulty'), '3.41 G');
      assert.equal(await text('best-nonce'), '0xa912c78b8f6c59fc');
      assert.equal(await text('best-job'), '0x948c9836\u20267b0f55');
      assert.equal(await text('best-height'), '123450');
      assert.equal(await text('share-difficulty'), '4.29 G');
      assert.equal(await text('effective-hashrate'), '17.25 kH/s');
      assert.equal(await text('counted-hashrate'), '17.90 kH/s', 'the 60 s window while the 15 min one has no data');
      assert.equal(await page.locator('#counted-window').textContent(), '60 s');
      assert.equal(await text('expected-block'), '3 d 4 h');
      assert.equal(await text('effort'), '37.5%');
      assert.equal(await text('health'), 'healthy');
      // The live values follow /summary.
      current = {
        ...current, shares: { accepted: 8, rejected: 2, stale: 3 }, connection: { ...current.connection, state: 'disconnected' },
        best: null, expected_block_s: null, effort: 1.5,
        self_check: { share_difficulty: null, checked: 13, invalid: 1, effective_hps: null },
        health: { ok: false, reasons: ['not connected to a node (disconnected)', '1 internal share failed the host re-check'] },
      };
      await marksMatchSummary(page, server.port, token);
      assert.equal(await text('expected-block'), '\u2014');
      assert.equal(await text('best-difficulty'), '-');
      assert.equal(await text('self-check'), '13, 1 invalid');
      assert.equal(await text('effort'), '150.0%');
      assert.equal(await text('health'), 'not connected to a node (disconnected); 1 internal share failed the host re-check');
      assert.equal(await page.locator('#health').getAttribute('class'), 'state unhealthy');
      current = { ...current, expected_block_s: 12 * 60 + 30 };
      await marksMatchSummary(page, server.port, token);
      assert.equal(await text('expected-block'), '12 min');

      // The chart draws: three series, the 10 s one through every sample, the null 15 min one empty.
      await page.waitForFunction(CHART_DRAWN, undefined, { timeout: 10_000 });
      const points = await polylinePoints(page);
      assert.deepEqual(points, [12, 12, 0]);
      const threads = await page.$$eval('[data-thread]', (rows) => rows.map((r) => r.textContent));
      assert.equal(threads.length, 2);
      assert.match(threads[1]!, /9\.25 kH\/s/);

      // Asked once: a reload within the tab goes straight to the numbers.
      await page.reload();
      await marksMatchSummary(page, server.port, token);
      assert.equal(await page.locator('#login').isHidden(), true);

      const external = seen.urls.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'));
      assert.deepEqual(external, [], 'no request leaves the miner');
      assert.ok(seen.urls.every((u) => !u.includes(token)), 'the token is never in a URL');
      const dataRequests = seen.urls.map((u, i) => ({ u, a: seen.auth[i] })).filter((r) => /\/(summary|history)$/.test(r.u));
      assert.ok(dataRequests.some((r) => r.a === `Bearer ${token}`), 'the token travels as a bearer header');
    } finally {
      await browser?.close();
      await server.close();
    }
  });

  it('against a real miner and the test node: the page matches /summary', async (t) => {
    const node = new TestNode({ algo: 'keccak', difficulty: 3_000_000, height: 42 });
    const { host, port } = await node.listen();
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'dash', '--algo', 'keccak', '--threads', '2',
      '--http-port', '0'], { t });
    let browser: Browser | undefined;
    try {
      const apiPort = Number((await miner.waitForLine(/stats API on http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
      await miner.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waitFor(() => node.stats.accepted >= 1, 30_000, 'an accepted solution');
      // A time to block needs a hashrate window with data (about 2 s of it).
      await pollUntil(async () => ((await getSummaryJson(apiPort))['expected_block_s'] === null ? undefined : true), 15_000,
        'a hashrate, hence an expected time to a block', { intervalMs: 200 });
      browser = await launchChromium();
      const page = await browser.newPage();
      const seen = recordRequests(page);
      let lastAnswer: Record<string, any> | undefined;
      page.on('response', (r) => {
        if (r.url().endsWith('/summary') && r.ok()) void r.json().then((j: Record<string, any>) => { lastAnswer = j; }, () => {});
      });
      await page.goto(`http://127.0.0.1:${apiPort}/`);
      await marksMatchSummary(page, apiPort, undefined, 15_000, () => lastAnswer);
      const s = await getSummaryJson(apiPort);
      assert.equal(s['connection']['state'], 'connected');
      assert.equal(s['job']['height'], 42);
      assert.ok(s['shares']['accepted'] >= 1);
      // The real miner's new fields, as the page showed them (marksMatchSummary): a time to block and health.
      assert.deepEqual(s['health'], { ok: true, reasons: [] });
      assert.ok(typeof s['expected_block_s'] === 'number' && s['expected_block_s'] > 0, `expected_block_s ${s['expected_block_s']}`);
      assert.ok(s['hashes'] > 0);
      await page.waitForFunction(CHART_DRAWN, undefined, { timeout: 15_000 });
      assert.deepEqual(seen.urls.filter((u) => !u.startsWith(`http://127.0.0.1:${apiPort}/`) && !u.startsWith('data:')), []);
      const shot = process.env['CFX_MINER_DASHBOARD_SCREENSHOT'];
      if (shot) await page.screenshot({ path: shot, fullPage: true });
      assert.equal((await miner.stop('SIGINT')).code, 0);
    } finally {
      await browser?.close();
      await miner.stop('SIGKILL');
      await node.close();
    }
  });
});
