// The dashboard at GET /: one page, its script and its style, all held in this module and served
// by the stats server itself, so nothing is fetched from anywhere else (the server's
// Content-Security-Policy forbids it too). The charts are hand-drawn SVG: a polyline per series
// is all a hashrate curve needs, and it costs no dependency. The page holds no data: the script
// polls /summary and /history, with the bearer token when the server wants one. The few formatters
// written in TypeScript here are put into the script as their own source text, so the tests
// compare the page with the very functions it runs; the hashrate is formatted by the log lines'
// own formatHashrate, put in the same way.
import { FORMAT_HASHRATE_SOURCE } from '../log/format.js';

/** Expected time to a block, coarse: '42 s', '12 min', '5 h 3 min', '3 d 4 h', '12 y 40 d', '3.41 M y'; '\u2014' while unknown. */
export function formatExpectedTime(s: number | null): string {
  if (s === null || !Number.isFinite(s) || s < 0) return '\u2014';
  if (s < 1) return '< 1 s';
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  if (s < 86400) {
    const minutes = Math.floor((s % 3600) / 60);
    return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
  }
  const yearS = 365.25 * 86400;
  if (s < yearS) return hours === 0 ? `${days} d` : `${days} d ${hours} h`;
  const years = s / yearS;
  if (years < 1000) return `${Math.floor(years)} y ${Math.floor((s % yearS) / 86400)} d`;
  const units = ['k', 'M', 'G', 'T', 'P', 'E'];
  let v = years / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(2)} ${units[i]} y`;
}

/** A difficulty in SI steps, as the job's: 2_000_000 -> '2.00 M', 3.41e9 -> '3.41 G', 512 -> '512'. */
export function formatDifficulty(n: number): string {
  const units = ['', ' k', ' M', ' G', ' T', ' P', ' E'];
  if (n < 1000) return String(n);
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return n.toFixed(2) + units[i];
}

/** Effort as a percentage of one block's expected hashes: 0.375 -> '37.5%'. */
export function formatEffort(effort: number): string {
  return Number.isFinite(effort) && effort >= 0 ? `${(effort * 100).toFixed(1)}%` : '-';
}

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cfx-miner</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>cfx-miner</h1>
  <span id="about" class="muted"></span>
  <span class="badges">
    <span class="state" data-metric="connection" id="connection">loading</span>
    <span class="state" data-metric="health" id="health" title="GET /health">health</span>
  </span>
</header>
<div id="error" class="banner" hidden></div>
<form id="login" class="card" hidden>
  <label for="token">This miner's stats API needs its token (<code>--http-token</code>).</label>
  <input id="token" type="password" autocomplete="current-password" placeholder="token">
  <button type="submit">Show the dashboard</button>
  <p class="muted">It is kept in this tab only and sent as an Authorization header, never in the address.</p>
</form>
<main id="main">
  <section class="cards">
    <div class="card"><h2>Hashrate</h2>
      <div class="big" data-metric="hashrate-10s" id="h10">-</div>
      <div class="muted">over 10 s &middot; 60 s <span data-metric="hashrate-60s" id="h60">-</span> &middot; 15 min <span data-metric="hashrate-15m" id="h15m">-</span></div>
    </div>
    <div class="card"><h2>Solutions</h2>
      <div class="trio">
        <div><span class="big ok" data-metric="accepted" id="accepted">-</span><br><span class="muted">accepted</span></div>
        <div><span class="big bad" data-metric="rejected" id="rejected">-</span><br><span class="muted">rejected</span></div>
        <div><span class="big warn" data-metric="stale" id="stale">-</span><br><span class="muted">stale</span></div>
      </div>
    </div>
    <div class="card"><h2>Job</h2>
      <div>height <span class="big" data-metric="height" id="height">-</span></div>
      <div class="muted">difficulty <span data-metric="difficulty" id="difficulty">-</span> &middot; age <span data-metric="job-age" id="age">-</span></div>
    </div>
    <div class="card"><h2>Node</h2>
      <div data-metric="node" id="node">-</div>
      <div class="muted">dataset <span data-metric="dataset" id="dataset">-</span></div>
      <div class="bar"><div id="dataset-bar"></div></div>
    </div>
    <div class="card"><h2>Time to block</h2>
      <div class="big" data-metric="expected-block" id="expected">-</div>
      <div class="muted">expected at this hashrate and difficulty</div>
      <div class="muted">effort <span data-metric="effort" id="effort">-</span> of one block</div>
      <div class="bar"><div id="effort-bar"></div></div>
    </div>
  </section>
  <section class="card wide"><h2>Best hash since start</h2>
    <div class="quad">
      <div><span class="big" data-metric="best-difficulty" id="best">-</span><br><span class="muted">difficulty</span></div>
      <div class="muted">nonce <span class="mono" data-metric="best-nonce" id="best-nonce">-</span><br>
        job <span class="mono" data-metric="best-job" id="best-job">-</span><br>
        height <span data-metric="best-height" id="best-height">-</span></div>
      <div class="muted">share difficulty <span data-metric="share-difficulty" id="share-difficulty">-</span><br>
        shares re-checked <span data-metric="self-check" id="self-check">-</span></div>
      <div class="pair">
        <div><span class="mid" data-metric="effective-hashrate" id="effective">-</span><br><span class="muted">effective (shares)</span></div>
        <div><span class="mid" data-metric="counted-hashrate" id="counted">-</span><br><span class="muted">counted (<span id="counted-window">15 min</span>)</span></div>
      </div>
    </div>
  </section>
  <section class="card wide"><h2>Hashrate, last hour</h2>
    <svg data-chart="hashrate" id="chart-hashrate" viewBox="0 0 800 240" role="img" aria-label="hashrate over time"></svg>
    <div class="legend"><span class="s0">10 s</span><span class="s1">60 s</span><span class="s2">15 min</span></div>
  </section>
  <section class="card wide"><h2>Solutions, last hour</h2>
    <svg data-chart="shares" id="chart-shares" viewBox="0 0 800 160" role="img" aria-label="solutions over time"></svg>
    <div class="legend"><span class="s3">accepted</span><span class="s4">rejected</span><span class="s5">stale</span></div>
  </section>
  <section class="card wide"><h2>Threads (10 s)</h2><div id="threads" data-chart="threads"></div></section>
</main>
</body>
</html>
`;

const CSS = `:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d232b; --card: #fff; --muted: #68717d; --line: #d9dde3;
  --c0: #2f6fdb; --c1: #17a589; --c2: #8e44ad; --ok: #1e8c4e; --bad: #c0392b; --warn: #c57a06; }
@media (prefers-color-scheme: dark) { :root { --bg: #14181d; --fg: #e6e9ed; --card: #1d232b; --muted: #9aa4b0; --line: #333c47;
  --c0: #6ea2ff; --c1: #3fd0b0; --c2: #c390e0; --ok: #47c47c; --bad: #ff6b5b; --warn: #f0a830; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: baseline; gap: 12px; padding: 12px 16px; flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 6px; }
.muted { color: var(--muted); }
.state { margin-left: auto; padding: 2px 10px; border-radius: 999px; background: var(--line); font-weight: 600; }
.state.connected { background: var(--ok); color: #fff; }
.state.refused, .state.disconnected, .state.unhealthy { background: var(--bad); color: #fff; }
.state.healthy { background: var(--ok); color: #fff; }
.badges { margin-left: auto; display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 8px; }
.badges .state { margin-left: 0; }
main { padding: 0 16px 16px; display: grid; gap: 12px; }
.cards { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.big { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.trio { display: flex; justify-content: space-between; text-align: center; }
.quad { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); align-items: center; }
.pair { display: flex; justify-content: space-around; text-align: center; gap: 12px; }
.mid { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mono { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
svg { width: 100%; height: 240px; display: block; }
#chart-shares { height: 160px; }
svg text { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
svg polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
.s0 { color: var(--c0); stroke: var(--c0); } .s1 { color: var(--c1); stroke: var(--c1); } .s2 { color: var(--c2); stroke: var(--c2); }
.s3 { color: var(--ok); stroke: var(--ok); } .s4 { color: var(--bad); stroke: var(--bad); } .s5 { color: var(--warn); stroke: var(--warn); }
.legend { display: flex; gap: 16px; font-size: 13px; }
.legend span::before { content: ""; display: inline-block; width: 14px; height: 3px; background: currentColor; vertical-align: middle; margin-right: 6px; }
.bar { height: 6px; background: var(--line); border-radius: 3px; overflow: hidden; margin-top: 6px; }
.bar div { height: 100%; width: 0; background: var(--c0); }
.thread { display: grid; grid-template-columns: 64px 1fr 110px; gap: 8px; align-items: center; margin: 4px 0; }
.thread .bar { margin: 0; height: 10px; }
.thread span:last-child { text-align: right; font-variant-numeric: tabular-nums; }
.banner { margin: 0 16px 12px; padding: 8px 12px; border-radius: 6px; background: var(--bad); color: #fff; }
#login { margin: 0 16px 12px; display: grid; gap: 8px; max-width: 420px; }
#login input, #login button { font: inherit; padding: 6px 8px; }
@media (max-width: 520px) { .big { font-size: 22px; } svg { height: 180px; } }
`;

// Plain ES2020 for any current browser; no build step, no modules.
const JS = `'use strict';
(function () {
  var TOKEN_KEY = 'cfx-miner-token';
  var SUMMARY_MS = 2000, HISTORY_MS = 5000;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var token = sessionStorage.getItem(TOKEN_KEY);
  var timers = [];
  var $ = function (id) { return document.getElementById(id); };

  // The miner's own formatter (src/log/format.ts formatHashrate), so the page reads as the log lines.
${FORMAT_HASHRATE_SOURCE}
  var rate = formatHashrate;
  var si = ${formatDifficulty.toString()};
  function age(s) {
    if (s === null || s === undefined) return '-';
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
    return Math.floor(s / 3600) + ' h ' + String(Math.floor(s / 60) % 60).padStart(2, '0') + ' min';
  }
  var formatExpectedTime = ${formatExpectedTime.toString()};
  var formatEffort = ${formatEffort.toString()};
  // Long ids (a 32-byte job id) shortened for the card; the whole one is in the tooltip.
  function short(id) { return id.length > 18 ? id.slice(0, 10) + '\u2026' + id.slice(-6) : id; }
  function set(id, text, value) {
    var el = $(id);
    el.textContent = text;
    if (value !== undefined) el.setAttribute('data-value', value === null ? '' : String(value));
  }

  function api(path) {
    var headers = token ? { Authorization: 'Bearer ' + token } : {};
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (res) {
      if (res.status === 401) { var e = new Error('unauthorized'); e.unauthorized = true; throw e; }
      if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
      return res.json();
    });
  }
  function fail(err) {
    if (err && err.unauthorized) return askToken(token ? 'That token was not accepted; try again.' : null);
    $('error').hidden = false;
    $('error').textContent = 'cannot reach the miner: ' + (err && err.message ? err.message : err);
    set('connection', 'unreachable');
    $('connection').className = 'state disconnected';
  }

  function showSummary(s) {
    $('error').hidden = true;
    var h = s.hashrate;
    set('h10', rate(h['10s']), h['10s']);
    set('h60', rate(h['60s']), h['60s']);
    set('h15m', rate(h['15m']), h['15m']);
    set('accepted', String(s.shares.accepted), s.shares.accepted);
    set('rejected', String(s.shares.rejected), s.shares.rejected);
    set('stale', String(s.shares.stale), s.shares.stale);
    var job = s.job;
    set('height', job && job.height !== null ? String(job.height) : '-', job ? job.height : null);
    set('difficulty', job ? si(Number(job.difficulty)) : '-', job ? job.difficulty : null);
    set('age', job ? age(job.age_s) : '-', job ? job.age_s : null);
    var c = s.connection;
    set('connection', c.state);
    $('connection').className = 'state ' + c.state;
    set('node', c.host === null ? 'no node yet' : c.host + ':' + c.port);
    var ds = s.dataset;
    var hp = ds.huge_pages_fraction === null || ds.huge_pages_fraction === undefined ? '' : ', huge pages ' + Math.floor(ds.huge_pages_fraction * 100) + '%';
    set('dataset', ds.state === 'idle' ? 'not used' : ds.state + ' ' + Math.round(ds.progress * 100) + '%' + hp, ds.progress);
    $('dataset-bar').style.width = (ds.progress * 100).toFixed(1) + '%';
    set('about', 'v' + s.version + ' \\u00b7 ' + s.algo + ' \\u00b7 mode ' + s.mode + ' \\u00b7 ' + s.threads + ' threads \\u00b7 up ' + age(s.uptime_s));
    showThreads(h.threads || []);
    showBest(s);
    var hl = s.health;
    set('health', hl.ok ? 'healthy' : hl.reasons.join('; ') || 'unhealthy', hl.ok);
    $('health').className = 'state ' + (hl.ok ? 'healthy' : 'unhealthy');
    set('expected', formatExpectedTime(s.expected_block_s), s.expected_block_s);
    set('effort', formatEffort(s.effort), s.effort);
    $('effort-bar').style.width = (Math.min(Math.max(s.effort, 0), 1) * 100).toFixed(1) + '%';
  }

  function showBest(s) {
    var b = s.best, sc = s.self_check, h = s.hashrate;
    set('best', b ? si(Number(b.difficulty)) : '-', b ? b.difficulty : null);
    set('best-nonce', b ? b.nonce : '-', b ? b.nonce : null);
    set('best-job', b ? short(b.job) : '-', b ? b.job : null);
    $('best-job').title = b ? b.job : '';
    set('best-height', b && b.height !== null ? String(b.height) : '-', b ? b.height : null);
    set('share-difficulty', sc.share_difficulty === null ? '-' : si(Number(sc.share_difficulty)), sc.share_difficulty);
    set('self-check', sc.checked + (sc.invalid ? ', ' + sc.invalid + ' invalid' : ''), sc.invalid);
    $('self-check').className = sc.invalid ? 'bad' : '';
    set('effective', rate(sc.effective_hps), sc.effective_hps);
    // The counted rate over the longest window that has data, as the effective one is a long average.
    var w = h['15m'] !== null ? '15m' : h['60s'] !== null ? '60s' : '10s';
    set('counted', rate(h[w]), h[w]);
    set('counted-window', { '15m': '15 min', '60s': '60 s', '10s': '10 s' }[w]);
  }

  function showThreads(rates) {
    var box = $('threads');
    while (box.children.length > rates.length) box.removeChild(box.lastChild);
    while (box.children.length < rates.length) {
      var row = document.createElement('div');
      row.className = 'thread';
      row.innerHTML = '<span class="muted"></span><div class="bar"><div></div></div><span></span>';
      box.appendChild(row);
    }
    var top = Math.max.apply(null, rates.map(function (r) { return r || 0; }).concat([1]));
    rates.forEach(function (r, i) {
      var row = box.children[i];
      row.setAttribute('data-thread', String(i));
      row.children[0].textContent = 'thread ' + i;
      row.children[1].firstChild.style.width = ((r || 0) / top * 100).toFixed(1) + '%';
      row.children[2].textContent = rate(r);
    });
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Draws series (arrays the length of t, null for no data) in the SVG's own pixels, so the
  // labels keep their size on a phone. Counts get whole-number grid steps.
  function chart(svg, t, series, fmt, whole) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = svg.clientWidth || 800, H = svg.clientHeight || 240, L = 72, B = 18;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var top = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v > top) top = v; }); });
    top = whole ? Math.max(4, Math.ceil(top * 1.1 / 4) * 4) : (top > 0 ? top * 1.1 : 1);
    var t0 = t.length ? t[0] : 0, t1 = t.length ? t[t.length - 1] : 1;
    var span = Math.max(t1 - t0, 60000);
    for (var g = 0; g <= 4; g++) {
      var y = (H - B) - (H - B - 6) * g / 4;
      svg.appendChild(el('line', { x1: L, x2: W, y1: y, y2: y, class: 'grid' }));
      svg.appendChild(el('text', { x: 2, y: y + 4 }, fmt(top * g / 4)));
    }
    var minutes = Math.round(span / 60000);
    svg.appendChild(el('text', { x: L, y: H - 3 }, '-' + minutes + ' min'));
    svg.appendChild(el('text', { x: W - 28, y: H - 3 }, 'now'));
    series.forEach(function (s) {
      var points = [];
      for (var i = 0; i < t.length; i++) {
        var v = s.values[i];
        if (v === null) continue;
        var x = L + (W - L) * (t[i] - (t1 - span)) / span;
        var yy = (H - B) - (H - B - 6) * v / top;
        points.push(x.toFixed(1) + ',' + yy.toFixed(1));
      }
      if (points.length === 1) points.push(points[0]);
      svg.appendChild(el('polyline', { points: points.join(' '), class: s.cls, 'data-series': s.name }));
    });
  }
  var lastHistory = null;
  window.addEventListener('resize', function () { if (lastHistory) showHistory(lastHistory); });
  function showHistory(h) {
    lastHistory = h;
    chart($('chart-hashrate'), h.t, [
      { name: '10s', cls: 's0', values: h.hashrate_10s },
      { name: '60s', cls: 's1', values: h.hashrate_60s },
      { name: '15m', cls: 's2', values: h.hashrate_15m },
    ], rate);
    chart($('chart-shares'), h.t, [
      { name: 'accepted', cls: 's3', values: h.accepted },
      { name: 'rejected', cls: 's4', values: h.rejected },
      { name: 'stale', cls: 's5', values: h.stale },
    ], function (v) { return String(Math.round(v)); }, true);
  }

  function poll(path, show, everyMs) {
    var tick = function () { api(path).then(show, fail); };
    tick();
    timers.push(setInterval(tick, everyMs));
  }
  function start() {
    $('login').hidden = true;
    $('main').hidden = false;
    poll('/summary', showSummary, SUMMARY_MS);
    poll('/history', showHistory, HISTORY_MS);
  }
  function askToken(message) {
    timers.forEach(clearInterval);
    timers = [];
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    $('main').hidden = true;
    $('login').hidden = false;
    $('error').hidden = !message;
    if (message) $('error').textContent = message;
    $('token').focus();
  }
  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault(); // never a form submission: that would put the token in a URL
    token = $('token').value.trim();
    $('token').value = '';
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    start();
  });
  start();
})();
`;

export interface Asset {
  contentType: string;
  body: Buffer;
}

/** Paths the server answers without the token: they are the same for everyone and hold no data. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['/', { contentType: 'text/html; charset=utf-8', body: Buffer.from(HTML, 'utf8') }],
  ['/dashboard.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(JS, 'utf8') }],
  ['/dashboard.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(CSS, 'utf8') }],
]);
