// Operator experience: the real cfx-miner binary as someone running it sees it. The stats API
// against the node's own counts, its token, settings precedence, JSON logs, --help, a refused
// password, and stopping with Ctrl-C or SIGTERM.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_KEYS } from '../src/config/schema.js';
import { TestNode } from './support/test-node.js';
import type { TestNodeOptions } from './support/test-node.js';
import { repoRoot } from './support/fixtures.js';
import { freePort } from './support/net.js';
import { runCli, startMiner } from './support/miner-process.js';
import type { MinerProcess } from './support/miner-process.js';
import { pollUntil, waitFor, waitForEvent } from './support/wait.js';
import { nodeBooks, nodeProblems, nodeSettled, summaryOf } from './support/books.js';

const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** Keccak at this difficulty: a 2-thread CPU (~2.5 MH/s) finds a solution every second or so. */
const EASY = 2_000_000;
/** No CPU finds a solution for this in the life of a test: counts stop moving. */
const HARD = 10n ** 18n;
const SOLUTIONS_WAIT_MS = 30_000;
/**
 * The miner's promise is a clean stop within about a second (700 ms grace for submits in flight);
 * a test cannot hold a loaded machine to it, so a stop fails only when it has not ended by this.
 */
const STOP_DEADLINE_MS = 15_000;

// ---- helpers ------------------------------------------------------------------------------

/** A keccak test node with a job ready, closed when the test ends. */
async function startNode(t: TestContext, opts: TestNodeOptions = {}): Promise<{ node: TestNode; hostArg: string }> {
  const node = new TestNode({ algo: 'keccak', difficulty: EASY, notifyOnSubscribe: true, ...opts });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  return { node, hostArg: `${host}:${port}` };
}

function mineArgs(hostArg: string, ...extra: string[]): string[] {
  return ['--host', hostArg, '--worker', 'op-test', '--algo', 'keccak', '--threads', '2', ...extra];
}

/** Starts the miner with the stats API and returns the base URL it says it serves on. */
async function startWithApi(t: TestContext, hostArg: string, ...extra: string[]): Promise<{ miner: MinerProcess; base: string }> {
  const port = await freePort();
  const miner = startMiner(mineArgs(hostArg, '--http-port', String(port), ...extra), { t });
  // Either start-up line will do ("stats API on ..." from the server, "stats on ..." from mine.ts).
  const m = await miner.waitForLine(/stats(?: API)? on (http:\/\/127\.0\.0\.1:(\d+))\/summary/);
  assert.equal(Number(m[2]), port, 'the logged port is the one asked for');
  return { miner, base: m[1]! };
}

interface SummaryJson {
  version: string;
  uptime_s: number;
  algo: string;
  mode: string;
  threads: number;
  hashrate: Record<string, number | null>;
  shares: { accepted: number; rejected: number; stale: number };
  job: { id: string; height: number | null; difficulty: string } | null;
  connection: { host: string | null; port: number | null; state: string };
  dataset: { state: string; progress: number };
}

async function getSummary(base: string, headers: Record<string, string> = {}): Promise<SummaryJson> {
  const res = await fetch(`${base}/summary`, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as SummaryJson;
}

/** One sample's value from Prometheus text, e.g. sample(text, 'cfx_miner_shares_total{result="accepted"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function allOutput(miner: MinerProcess): string {
  return miner.stderrText() + miner.stdoutText();
}

// ---- the stats API ------------------------------------------------------------------------

test('stats API: /summary and /metrics report what the node accepted', async (t) => {
  const { node, hostArg } = await startNode(t);
  const startedAt = performance.now();
  const { miner, base } = await startWithApi(t, hostArg);

  await waitFor(() => node.stats.accepted >= 2, SOLUTIONS_WAIT_MS, 'the node to accept 2 solutions');
  // A job nobody solves freezes the counts, so the miner's books can be compared with the node's.
  const hard = node.newJob({ difficulty: HARD });
  const summary = await pollUntil(async () => {
    const s = await getSummary(base);
    const settled = s.job?.id === hard.jobId && s.shares.accepted === node.stats.accepted && s.hashrate['10s'] !== null;
    return settled ? s : undefined;
  }, 10_000, '/summary to show the new job, the node\'s accepted count and a 10 s hashrate');

  assert.ok(node.stats.accepted >= 2);
  assert.equal(node.stats.rejected, 0, 'the node rejected nothing');
  assert.equal(summary.version, VERSION);
  assert.ok(Number.isInteger(summary.uptime_s) && summary.uptime_s >= 0, `uptime_s ${summary.uptime_s}`);
  assert.ok(summary.uptime_s <= Math.ceil((performance.now() - startedAt) / 1000), 'uptime is not older than the process');
  assert.equal(summary.algo, 'keccak');
  assert.equal(summary.mode, 'keccak');
  assert.equal(summary.threads, 2);
  assert.deepEqual(Object.keys(summary.hashrate).sort(), ['10s', '15m', '60s', 'threads']);
  const threads = (summary.hashrate as unknown as { threads: (number | null)[] }).threads;
  assert.equal(threads.length, 2, 'one figure per thread');
  for (const r of threads) assert.ok(r === null || r > 0, `thread rate ${r}`);
  assert.ok(summary.hashrate['10s']! > 0, `the threads hashed: ${summary.hashrate['10s']}`);
  for (const w of ['60s', '15m']) {
    const rate = summary.hashrate[w];
    assert.ok(rate === null || (typeof rate === 'number' && rate > 0), `hashrate ${w}: ${rate}`);
  }
  assert.equal(summary.shares.accepted, node.stats.accepted);
  assert.equal(summary.shares.rejected, 0);
  // The miner also counts as stale what it dropped itself after a job switch; the node never saw those.
  assert.ok(summary.shares.stale >= node.stats.stale);
  const { age_s: ageS, ...job } = summary.job as unknown as { age_s: number };
  assert.deepEqual(job, { id: hard.jobId, height: 0, difficulty: hard.difficulty.toString() });
  assert.ok(Number.isInteger(ageS) && ageS >= 0 && ageS <= summary.uptime_s, `job age ${ageS}`);
  assert.deepEqual(summary.connection, { host: '127.0.0.1', port: node.port, state: 'connected' });

  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const metrics = await res.text();
  assert.equal(sample(metrics, 'cfx_miner_shares_total{result="accepted"}'), node.stats.accepted);
  assert.equal(sample(metrics, 'cfx_miner_shares_total{result="rejected"}'), 0);
  assert.equal(sample(metrics, 'cfx_miner_shares_total{result="stale"}'), summary.shares.stale);
  assert.ok(sample(metrics, 'cfx_miner_hashrate_hps{window="10s"}')! > 0, 'a 10 s hashrate sample');
  assert.equal(sample(metrics, 'cfx_miner_threads'), 2);
  assert.equal(sample(metrics, 'cfx_miner_connected'), 1);
  assert.match(metrics, /^# TYPE cfx_miner_shares_total counter$/m);
  const cpu = sample(metrics, 'process_cpu_user_seconds_total');
  assert.ok(cpu !== undefined && cpu > 0, 'prom-client\'s default process metrics are there');

  const page = await fetch(base + '/');
  assert.equal(page.status, 200, 'GET / is the dashboard');
  assert.match(await page.text(), /data-chart="hashrate"/);
  for (const p of ['/nope', '/summary/x', '/metrics.json']) {
    const r = await fetch(base + p);
    assert.equal(r.status, 404, `GET ${p}`);
    await r.body?.cancel();
  }
  for (const [method, p] of [['POST', '/summary'], ['PUT', '/metrics'], ['DELETE', '/summary']] as const) {
    const r = await fetch(base + p, { method });
    assert.equal(r.status, 405, `${method} ${p}`);
    assert.match(r.headers.get('allow') ?? '', /GET/);
    await r.body?.cancel();
  }

  const exit = await miner.stop('SIGINT');
  assert.deepEqual(exit, { code: 0, signal: null });
});

test('stats API with --http-token: 401 without the right bearer token, 200 with it, token never logged', async (t) => {
  const token = 's3cret';
  const { hostArg } = await startNode(t);
  // --verbose: the API logs each request at debug level, which is where a token could leak.
  const { miner, base } = await startWithApi(t, hostArg, '--http-token', token, '--verbose');
  await miner.waitForLine(/subscribed/);

  const cases: [string, Record<string, string>, number][] = [
    ['/summary', {}, 401],
    ['/summary', { authorization: 'Bearer wrong' }, 401],
    ['/summary', { authorization: `Bearer ${token}x` }, 401],
    ['/summary', { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` }, 401],
    ['/summary', { authorization: token }, 401],
    ['/nope', {}, 401], // nothing, not even which paths exist, without the token
    ['/metrics', {}, 401],
    ['/summary', { authorization: `Bearer ${token}` }, 200],
    ['/metrics', { authorization: `Bearer ${token}` }, 200],
    ['/nope', { authorization: `Bearer ${token}` }, 404],
  ];
  for (const [p, headers, status] of cases) {
    const r = await fetch(base + p, { headers });
    assert.equal(r.status, status, `GET ${p} with ${JSON.stringify(headers)}`);
    if (status === 401) assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    const body = await r.text();
    if (status === 200 && p === '/summary') assert.equal((JSON.parse(body) as SummaryJson).version, VERSION);
    if (status === 200 && p === '/metrics') assert.match(body, /cfx_miner_shares_total/);
    assert.ok(!body.includes(token), `the token is not echoed in ${p}`);
  }
  const post = await fetch(`${base}/summary`, { method: 'POST' });
  assert.equal(post.status, 401, 'authentication comes before the method check');
  await post.body?.cancel();

  await miner.waitForLine(/GET \/summary 200/, 5_000);
  const exit = await miner.stop('SIGINT');
  assert.equal(exit.code, 0);
  assert.ok(miner.lines.some((l) => /bearer token required/.test(l)), 'the start-up line says a token is required');
  assert.ok(!allOutput(miner).includes(token), 'the token never appears in the miner\'s output');
});

// ---- settings -----------------------------------------------------------------------------

interface ConfigPrint {
  settings: Record<string, unknown>;
  sources: Record<string, string>;
  configFile: string | null;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-miner-operator-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

async function printConfig(args: string[], env: Record<string, string> = {}): Promise<ConfigPrint> {
  const r = await runCli(['config', '--print', ...args], { env });
  assert.equal(r.code, 0, `config --print ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ConfigPrint;
}

test('config --print: flags beat env, env beats the file, the file beats defaults', async (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'miner.json', { threads: 5, algo: 'keccak', printIntervalS: 7, hosts: ['10.0.0.5:4000'] });

  const fromFile = await printConfig(['--config', file]);
  assert.equal(fromFile.configFile, file);
  assert.deepEqual([fromFile.settings['threads'], fromFile.sources['threads']], [5, 'file']);
  assert.deepEqual([fromFile.settings['algo'], fromFile.sources['algo']], ['keccak', 'file']);
  assert.deepEqual([fromFile.settings['printIntervalS'], fromFile.sources['printIntervalS']], [7, 'file']);
  assert.deepEqual([fromFile.settings['hosts'], fromFile.sources['hosts']], [['10.0.0.5:4000'], 'file']);
  assert.deepEqual([fromFile.settings['port'], fromFile.sources['port']], [32525, 'default']);
  assert.deepEqual([fromFile.settings['mode'], fromFile.sources['mode']], ['auto', 'default']);

  const viaEnvFile = await printConfig([], { CFX_MINER_CONFIG: file });
  assert.equal(viaEnvFile.configFile, file, 'CFX_MINER_CONFIG names the file when --config is absent');
  assert.deepEqual([viaEnvFile.settings['threads'], viaEnvFile.sources['threads']], [5, 'file']);

  const env = { CFX_MINER_THREADS: '3', CFX_MINER_ALGO: 'octopus', CFX_MINER_HOST: 'a.example,b.example:1234' };
  const envWins = await printConfig(['--config', file], env);
  assert.deepEqual([envWins.settings['threads'], envWins.sources['threads']], [3, 'env']);
  assert.deepEqual([envWins.settings['algo'], envWins.sources['algo']], ['octopus', 'env']);
  assert.deepEqual([envWins.settings['hosts'], envWins.sources['hosts']], [['a.example', 'b.example:1234'], 'env']);
  assert.deepEqual([envWins.settings['printIntervalS'], envWins.sources['printIntervalS']], [7, 'file']);

  const flagWins = await printConfig(['--config', file, '--threads', '4', '--algo', 'keccak', '--host', 'c.example', '--host', 'd.example'], env);
  assert.deepEqual([flagWins.settings['threads'], flagWins.sources['threads']], [4, 'flag']);
  assert.deepEqual([flagWins.settings['algo'], flagWins.sources['algo']], ['keccak', 'flag']);
  assert.deepEqual([flagWins.settings['hosts'], flagWins.sources['hosts']], [['c.example', 'd.example'], 'flag']);
  assert.deepEqual([flagWins.settings['printIntervalS'], flagWins.sources['printIntervalS']], [7, 'file']);
});

test('config --print: more threads than cores is printed as configured, not clamped', async () => {
  const cores = os.availableParallelism();
  for (const threads of [3, cores + 1]) {
    const r = await printConfig([], { CFX_MINER_THREADS: String(threads) });
    assert.deepEqual([r.settings['threads'], r.sources['threads']], [threads, 'env'], `${threads} threads on ${cores} cores`);
  }
  const dflt = await printConfig([]);
  assert.deepEqual([dflt.settings['threads'], dflt.sources['threads']], [cores, 'default']);
});

test('config --print: the password and the API token are masked from every source', async (t) => {
  const dir = tempDir(t);
  const secrets = { file: 'file-pw-7Qx', env: 'env-pw-9Zk', flag: 'flag-pw-3Jm', fileToken: 'file-tok-5Rw', envToken: 'env-tok-8Yp' };
  const file = writeJson(dir, 'secret.json', { password: secrets.file, httpToken: secrets.fileToken });
  const runs = [
    await runCli(['config', '--print', '--config', file]),
    await runCli(['config', '--print', '--config', file], { env: { CFX_MINER_PASSWORD: secrets.env, CFX_MINER_HTTP_TOKEN: secrets.envToken } }),
    await runCli(['config', '--print', '--config', file, '--password', secrets.flag], { env: { CFX_MINER_PASSWORD: secrets.env } }),
  ];
  const expectedSources = [['file', 'file'], ['env', 'env'], ['flag', 'file']];
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as ConfigPrint;
    assert.equal(printed.settings['password'], '***');
    assert.equal(printed.settings['httpToken'], '***');
    assert.deepEqual([printed.sources['password'], printed.sources['httpToken']], expectedSources[i]);
    for (const secret of Object.values(secrets)) {
      assert.ok(!(r.stdout + r.stderr).includes(secret), `run ${i}: ${secret} must not be printed`);
    }
  });
});

test('config errors: exit 2 with one line naming the problem, nothing on stdout', async (t) => {
  const dir = tempDir(t);
  const cases: { what: string; args: string[]; env?: Record<string, string>; expect: RegExp; hidden?: string }[] = [
    { what: 'unknown key', args: ['--config', writeJson(dir, 'typo.json', { threads: 2, thraeds: 3 })], expect: /unknown key "thraeds".*did you mean "threads"/ },
    { what: 'wrong type', args: ['--config', writeJson(dir, 'type.json', { threads: '4' })], expect: /"threads" must be a whole number/ },
    { what: 'out of range', args: ['--config', writeJson(dir, 'range.json', { threads: 0 })], expect: /"threads" must be a whole number from 1/ },
    { what: 'secret of the wrong type', args: ['--config', writeJson(dir, 'pw.json', { password: 918273645 })], expect: /"password" must be a string/, hidden: '918273645' },
    { what: 'not JSON', args: ['--config', writeJson(dir, 'broken.json', '{"threads": 2,')], expect: /not valid JSON/ },
    { what: 'missing file', args: ['--config', path.join(dir, 'absent.json')], expect: /absent\.json: not found/ },
    { what: 'bad env value', args: [], env: { CFX_MINER_THREADS: 'many' }, expect: /CFX_MINER_THREADS.*"threads" must be a whole number/ },
    { what: 'bad flag value', args: ['--algo', 'sha256'], expect: /--algo.*"algo" must be one of octopus, keccak/ },
  ];
  for (const c of cases) {
    for (const command of [['config', '--print'], []]) {
      // [] is the mining command: it must fail the same way before it connects anywhere.
      const r = await runCli([...command, ...c.args, ...(command.length ? [] : ['--worker', 'w', '--host', '127.0.0.1:9'])], { env: c.env });
      const label = `${c.what} (${command.length ? 'config --print' : 'mine'})`;
      assert.equal(r.code, 2, `${label}: exit code; stderr: ${r.stderr}`);
      assert.equal(r.stdout, '', `${label}: nothing on stdout`);
      assert.equal(r.stderrLines.length, 1, `${label}: one line, got:\n${r.stderr}`);
      assert.match(r.stderrLines[0]!, c.expect, label);
      if (c.hidden) assert.ok(!r.stderr.includes(c.hidden), `${label}: the secret's value is not echoed`);
    }
  }
});

// ---- logs and help ------------------------------------------------------------------------

test('--log-json: every stderr line of a mining run is a JSON object with time, level, tag and msg', async (t) => {
  const { node, hostArg } = await startNode(t);
  const startedMs = Date.now();
  const miner = startMiner(mineArgs(hostArg, '--log-json', '--print-interval-s', '1'), { t });
  await miner.waitForLine(/"msg":"accepted/, SOLUTIONS_WAIT_MS);
  await miner.waitForLine(/"msg":"speed/, 5_000);
  const exit = await miner.stop('SIGINT');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(node.stats.accepted >= 1);

  assert.equal(miner.stdoutText(), '', 'logs go to stderr only');
  assert.ok(miner.lines.length >= 6, `a real run logs several lines, got ${miner.lines.length}`);
  const tags = new Set<string>();
  for (const line of miner.lines) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      assert.fail(`not JSON: ${JSON.stringify(line)}`);
    }
    assert.ok(record !== null && typeof record === 'object' && !Array.isArray(record), line);
    assert.equal(typeof record['time'], 'string', line);
    const time = Date.parse(record['time'] as string);
    assert.ok(time >= startedMs - 1000 && time <= Date.now() + 1000, `time ${record['time']}`);
    assert.ok(['error', 'warn', 'info', 'debug'].includes(record['level'] as string), line);
    assert.equal(typeof record['msg'], 'string', line);
    assert.equal(typeof record['tag'], 'string', line);
    tags.add(record['tag'] as string);
    assert.ok(!/\u001b\[/.test(line), 'no colour codes');
  }
  for (const tag of ['miner', 'net', 'job', 'share', 'cpu']) assert.ok(tags.has(tag), `a "${tag}" line`);
  assert.ok(miner.lines.some((l) => /"msg":"summary: ran/.test(l)), 'the summary is a JSON line too');
});

test('--help lists every setting, --config and the subcommands', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const help = r.stdout;
  const words = new Set(help.split(/[\s,;[\]]+/));
  for (const info of CONFIG_KEYS) {
    for (const flag of info.flags.split(/[ ,]+/).filter((f) => f.startsWith('-'))) {
      assert.ok(words.has(flag), `${flag} (${info.key}) is in --help`);
    }
    assert.ok(words.has(info.env), `${info.env} is in --help`);
  }
  assert.ok(words.has('--config') && words.has('-c'), '--config is in --help');

  const commandsAt = help.indexOf('\nCommands:\n');
  assert.ok(commandsAt >= 0, 'a Commands section');
  const commands = help.slice(commandsAt).split('\n').map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1]).filter(Boolean);
  const expected = ['hash', 'verify', 'config'];
  if (existsSync(path.join(repoRoot, 'dist', 'src', 'commands', 'bench.js'))) expected.push('bench');
  for (const c of expected) assert.ok(commands.includes(c), `subcommand ${c} in ${JSON.stringify(commands)}`);

  const v = await runCli(['--version']);
  assert.deepEqual([v.code, v.stdout], [0, `${VERSION}\n`]);
});

// ---- refusal and stopping -----------------------------------------------------------------

for (const via of ['env', 'flag'] as const) {
  test(`wrong password (${via}): exit 4, one attempt, the cause named, the password never printed`, async (t) => {
    const right = 'right-pass-Kd81';
    const wrong = 'wrong-pass-Vq42';
    const { node, hostArg } = await startNode(t, { password: right });
    const subscribes: unknown[] = [];
    node.on('request', (r) => { if (r.method === 'mining.subscribe') subscribes.push(r); });
    const args = mineArgs(hostArg, ...(via === 'flag' ? ['--password', wrong] : []));
    const miner = startMiner(args, { t, env: via === 'env' ? { CFX_MINER_PASSWORD: wrong } : {} });

    const exit = await miner.waitForExit(10_000);
    assert.deepEqual(exit, { code: 4, signal: null });
    assert.ok(miner.lines.some((l) => / ERROR .*password/i.test(l)), `an error line about the password:\n${miner.lines.join('\n')}`);
    const output = allOutput(miner);
    assert.ok(!output.includes(wrong), 'the password the miner sent is never printed');
    assert.ok(!output.includes(right));
    assert.equal(subscribes.length, 1, 'exactly one mining.subscribe: no reconnect loop');
    assert.equal(node.stats.refusedSubscribes, 1);
    assert.equal(node.stats.subscribes, 0);
    assert.equal(node.stats.connections, 1);
    assert.equal(node.stats.submits, 0);
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} while mining: exit 0 with a summary matching the node`, async (t) => {
    const { node, hostArg } = await startNode(t);
    const miner = startMiner(mineArgs(hostArg), { t });
    await miner.waitForLine(/accepted \(1\//, SOLUTIONS_WAIT_MS);

    const exit = await miner.stop(signal, STOP_DEADLINE_MS);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(miner.lines.some((l) => new RegExp(`${signal}: stopping`).test(l)));
    const summary = miner.lines.find((l) => /summary: ran/.test(l));
    assert.ok(summary, 'a summary line');
    const accepted = Number(/accepted (\d+)/.exec(summary)?.[1]);
    assert.ok(accepted >= 1);
    assert.equal(accepted, node.stats.accepted, 'the summary agrees with the node');
    await nodeSettled(node);
    assert.deepEqual(nodeProblems(summaryOf(miner.lines), nodeBooks(node.submits)), [], 'the books agree with the node\'s record');
    const detail = miner.lines[miner.lines.indexOf(summary) + 1] ?? '';
    assert.match(detail, /\d+ hashes; found \d+, sent \d+.*; stale \d+ = \d+ replaced before sending \+ \d+ stale at node/);
    for (const line of [summary, detail]) assert.ok(line.length <= 120, `${line.length} columns: ${line}`);
  });
}

test('Ctrl-C with a submit the node never answers still exits 0: the solution is given up as lost', async (t) => {
  const { node, hostArg } = await startNode(t);
  const miner = startMiner(mineArgs(hostArg), { t });
  await miner.waitForLine(/subscribed/);
  node.behaviour.answerSubmits = false;
  await waitForEvent(node, 'submit', { timeoutMs: SOLUTIONS_WAIT_MS, what: 'a submit' });

  const exit = await miner.stop('SIGINT', STOP_DEADLINE_MS);
  assert.deepEqual(exit, { code: 0, signal: null });
  // It did not wait for the answer that never comes: the grace ended and the solution is lost.
  const books = summaryOf(miner.lines);
  assert.ok(books.lost >= 1 && books.inFlight === 0, books.line);
});

test('a second Ctrl-C during shutdown exits 130 at once', async (t) => {
  const { node, hostArg } = await startNode(t);
  const miner = startMiner(mineArgs(hostArg), { t });
  await miner.waitForLine(/subscribed/);
  // An unanswered submit holds the shutdown in its grace period, long enough to press again.
  node.behaviour.answerSubmits = false;
  await waitForEvent(node, 'submit', { timeoutMs: SOLUTIONS_WAIT_MS, what: 'a submit' });

  miner.proc.kill('SIGINT');
  await miner.waitForLine(/SIGINT: stopping/, 5_000);
  const exit = await miner.stop('SIGINT', STOP_DEADLINE_MS);
  assert.deepEqual(exit, { code: 130, signal: null });
  assert.ok(miner.lines.some((l) => /second SIGINT/.test(l)));
});
