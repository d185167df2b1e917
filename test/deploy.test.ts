// The fleet files in deploy/: the systemd unit passes `systemd-analyze verify`, its install steps
// (in the unit and in the README) run as written, the env example loads, the Prometheus rules and
// scrape example (its token block turned on too) pass promtool, and every metric the rules and
// the Grafana dashboard use is one a real running miner exports. A missing tool skips its test,
// loudly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { httpGet } from './support/net.js';
import os from 'node:os';
import path from 'node:path';
import { cliPath, repoRoot } from './support/fixtures.js';
import { TestNode } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import { pollUntil } from './support/wait.js';
import { loadConfig } from '../src/config/load.js';

const DEPLOY = path.join(repoRoot, 'deploy');

function tool(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/bin']) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  const reason = `SKIPPED: ${name} is not installed (CI installs it in .ci/run)`;
  console.log(`# ${reason}`);
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return undefined;
}

const systemdAnalyze = tool('systemd-analyze');
const promtool = tool('promtool');

test('deploy/cfx-miner.service passes systemd-analyze verify', { skip: systemdAnalyze ? false : 'SKIPPED: no systemd-analyze' }, () => {
  // verify insists that ExecStart's program exists and is executable; /usr/bin/node and
  // /opt/cfx-miner are where the unit expects an installed miner, not this checkout. So verify
  // a copy whose ExecStart names this machine's node and this checkout's CLI; every other line
  // is the file as shipped.
  const unit = readFileSync(path.join(DEPLOY, 'cfx-miner.service'), 'utf8');
  const execLines = unit.split('\n').filter((l) => l.startsWith('ExecStart='));
  assert.deepEqual(execLines, ['ExecStart=/usr/bin/node --no-memory-reducer /opt/cfx-miner/dist/src/cli.js']);
  const local = unit.replace(execLines[0]!, `ExecStart=${process.execPath} --no-memory-reducer ${cliPath}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-unit-'));
  try {
    const file = path.join(dir, 'cfx-miner.service');
    writeFileSync(file, local);
    const r = spawnSync(systemdAnalyze!, ['verify', file], { encoding: 'utf8', timeout: 30_000 });
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, output);
    // An unknown or misspelt key is only a warning (exit 0): none may name our unit.
    const aboutUs = output.split('\n').filter((l) => l.includes('cfx-miner.service'));
    assert.deepEqual(aboutUs, [], output);
    // The hardening the issue asks for is there.
    for (const key of ['Restart=on-failure', 'EnvironmentFile=', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'LimitMEMLOCK']) {
      assert.ok(unit.includes(key), `unit has ${key}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy/prometheus passes promtool check rules, check config and its rule unit tests', { skip: promtool ? false : 'SKIPPED: no promtool' }, () => {
  // rules.test.yml feeds series through the alerts and says which fire when, with which text.
  for (const args of [['check', 'rules', 'rules.yml'], ['check', 'config', 'prometheus.yml'], ['test', 'rules', 'rules.test.yml']]) {
    const r = spawnSync(promtool!, args, { cwd: path.join(DEPLOY, 'prometheus'), encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `promtool ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /SUCCESS/);
  }
  const rules = readFileSync(path.join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8');
  for (const alert of ['CfxMinerDown', 'CfxMinerHashrateDrop', 'CfxMinerRejectedRatioHigh', 'CfxMinerStaleRatioHigh', 'CfxMinerStuckOnJob',
    'CfxMinerInvalidShares', 'CfxMinerUnhealthy', 'CfxMinerSelfTestFailed']) {
    assert.ok(rules.includes(`alert: ${alert}`), alert);
  }
  assert.match(rules, /alert: CfxMinerInvalidShares\n(?:\s+#.*\n)*\s+expr: increase\(cfx_miner_self_check_invalid_total\[15m\]\) > 0\n\s+labels: \{ severity: critical \}/);
  assert.match(rules, /alert: CfxMinerUnhealthy\n(?:\s+#.*\n)*\s+expr: cfx_miner_healthy == 0\n\s+for: 5m\n/);
  const unitTests = readFileSync(path.join(DEPLOY, 'prometheus', 'rules.test.yml'), 'utf8');
  for (const alert of ['CfxMinerInvalidShares', 'CfxMinerUnhealthy', 'CfxMinerSelfTestFailed']) {
    assert.ok(unitTests.includes(`alertname: ${alert}`), `rules.test.yml tests ${alert}`);
  }
});

/**
 * Runs the file-installing steps of a step list (`install ...`) as written, except that /etc and
 * /opt are under `root` and the owner and group are this process's (the cfx-miner user need not
 * exist here). Only what a real machine already has is made beforehand: /etc/systemd/system.
 */
function runInstallSteps(steps: string[], what: string): void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cfx-deploy-'));
  try {
    mkdirSync(path.join(root, 'etc', 'systemd', 'system'), { recursive: true });
    const installs = steps.filter((s) => s.startsWith('install '));
    assert.ok(installs.length >= 3, `${what}: install steps found: ${installs.join(' | ')}`);
    for (const step of installs) {
      const local = step
        .replace(/ \/(etc|opt)\//g, ` ${root}/$1/`)
        .replace(/-o root/g, `-o ${process.getuid!()}`)
        .replace(/-g cfx-miner/g, `-g ${process.getgid!()}`);
      const r = spawnSync('sh', ['-c', local], { cwd: repoRoot, encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `${what}: "${step}" failed as written: ${r.stderr}`);
    }
    const mode = (p: string) => (statSync(path.join(root, p)).mode & 0o777).toString(8);
    assert.ok(statSync(path.join(root, 'etc/cfx-miner')).isDirectory());
    assert.equal(mode('etc/cfx-miner'), '750', `${what}: /etc/cfx-miner is root:cfx-miner 0750`);
    assert.equal(mode('etc/cfx-miner/cfx-miner.env'), '640', `${what}: the env file holds the password: 0640`);
    assert.equal(readFileSync(path.join(root, 'etc/systemd/system/cfx-miner.service'), 'utf8'),
      readFileSync(path.join(DEPLOY, 'cfx-miner.service'), 'utf8'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('the install steps in the unit and in the README work as written: /etc/cfx-miner is made before the env file goes in', {
  skip: typeof process.getuid === 'function' ? false : 'SKIPPED: needs POSIX owners',
}, () => {
  const unit = readFileSync(path.join(DEPLOY, 'cfx-miner.service'), 'utf8');
  assert.match(unit, /^EnvironmentFile=\/etc\/cfx-miner\/cfx-miner\.env$/m, 'the file the steps install is the one the unit reads');
  runInstallSteps(unit.split('\n').filter((l) => l.startsWith('#   ')).map((l) => l.slice(4).trim()), 'the unit\'s comment');
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### As a systemd service'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  runInstallSteps(block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()), 'the README');
});

test('deploy/cfx-miner.env.example, remote-Prometheus lines included, is valid for the miner\'s own loader', () => {
  const text = readFileSync(path.join(DEPLOY, 'cfx-miner.env.example'), 'utf8');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    // The commented-out settings too: they are examples a user uncomments.
    const m = /^#?(CFX_MINER_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  for (const name of ['CFX_MINER_HOST', 'CFX_MINER_PASSWORD', 'CFX_MINER_HTTP_PORT', 'CFX_MINER_HTTP_HOST', 'CFX_MINER_HTTP_TOKEN']) {
    assert.ok(name in env, `the example has ${name}`);
  }
  const { settings, warnings } = loadConfig({ env });
  assert.deepEqual(warnings, [], 'every variable is a setting');
  assert.equal(settings.httpHost, '0.0.0.0');
  assert.equal(typeof settings.httpToken, 'string');
});

test('the scrape example with its authorization block turned on passes promtool', { skip: promtool ? false : 'SKIPPED: no promtool' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-prom-'));
  try {
    const original = readFileSync(path.join(DEPLOY, 'prometheus', 'prometheus.yml'), 'utf8');
    const tokenFile = path.join(dir, 'cfx-miner.token');
    writeFileSync(tokenFile, 'token-from-openssl-rand\n', { mode: 0o600 });
    let uncommented = 0;
    const on = original.split('\n').map((line) => {
      const m = /^(\s*)# ((authorization:)|(  type: Bearer)|(  credentials_file: )\S+)$/.exec(line);
      if (!m) return line;
      uncommented++;
      return m[5] ? `${m[1]}${m[5]}${tokenFile}` : `${m[1]}${m[2]}`;
    }).join('\n');
    assert.equal(uncommented, 3, 'authorization, type and credentials_file are in the example');
    writeFileSync(path.join(dir, 'prometheus.yml'), on);
    writeFileSync(path.join(dir, 'rules.yml'), readFileSync(path.join(DEPLOY, 'prometheus', 'rules.yml')));
    const r = spawnSync(promtool!, ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `promtool check config: ${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The `expr:` values in a rules file: inline, or a `|` block of deeper-indented lines. */
function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|' && m[2] !== '>') { out.push(m[2]!); continue; }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > m[1]!.length)) block.push(lines[++i]!);
    out.push(block.join('\n'));
  }
  return out;
}

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or strings. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\$\w+/g, ''); // Grafana variables
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}

async function scrape(port: number): Promise<string> {
  return (await httpGet(port, '/metrics')).body;
}

test('every metric the rules and the Grafana dashboard use is one a running miner exports', { timeout: 60_000 }, async (t) => {
  const exprs = ruleExprs(readFileSync(path.join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8'));
  const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana', 'cfx-miner.json'), 'utf8')) as {
    panels: { targets?: { expr: string }[] }[]; templating: { list: { query: { query: string } }[] };
  };
  for (const p of dashboard.panels) for (const target of p.targets ?? []) exprs.push(target.expr);
  const variableMetrics = dashboard.templating.list.map((v) => /label_values\((\w+),/.exec(v.query.query)?.[1]).filter((n) => n !== undefined);
  assert.ok(exprs.length >= 10, `found ${exprs.length} expressions`);
  assert.deepEqual(metricNames('sum without (result) (increase(cfx_miner_shares_total{result="stale"}[1h])) > 0.2 and up == 0'),
    ['cfx_miner_shares_total', 'up'], 'the extractor itself');
  const used = new Set([...exprs.flatMap(metricNames), ...variableMetrics]);

  const node = new TestNode({ algo: 'keccak', difficulty: 500_000 });
  const { host, port } = await node.listen();
  const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'metrics', '--algo', 'keccak', '--threads', '2', '--http-port', '0'], { t });
  try {
    const apiPort = Number((await miner.waitForLine(/stats API on http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
    await miner.waitForLine(/subscribed/, 10_000);
    node.newJob();
    // Some series appear only once there is a job and a 10 s window with data.
    const series = [/^cfx_miner_thread_hashrate_hps\{thread="1"\}/m, /^cfx_miner_job_age_seconds /m, /^cfx_miner_expected_block_seconds /m];
    let last = '';
    const text = await pollUntil(async () => {
      last = await scrape(apiPort);
      return series.every((re) => re.test(last)) ? last : undefined;
    }, 20_000, 'the miner to export its job and thread series', {
      intervalMs: 250, giveUp: () => miner.exitInfo !== undefined,
    }).catch((err: unknown) => assert.fail(`${err instanceof Error ? err.message : String(err)}; last scrape:\n${last}`));
    const exported = new Set(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(l)![0]));
    exported.add('up'); // Prometheus's own per-target series
    // Some series have no sample until there is something to say (no best hash yet, no internal
    // share difficulty); the miner still declares them, and that is what a dashboard can rely on.
    const declared = new Set([...text.matchAll(/^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) /gm)].map((m) => m[1]!));
    const missing = [...used].filter((n) => !exported.has(n) && !declared.has(n));
    assert.deepEqual(missing, [], `used but not exported (exported: ${[...exported].filter((n) => n.startsWith('cfx_')).join(', ')})`);
    for (const n of ['cfx_miner_hashrate_hps', 'cfx_miner_shares_total', 'cfx_miner_job_age_seconds', 'cfx_miner_connected',
      'cfx_miner_self_check_invalid_total', 'cfx_miner_healthy', 'cfx_miner_best_difficulty', 'cfx_miner_effort',
      'cfx_miner_expected_block_seconds', 'cfx_miner_effective_hashrate_hps', 'cfx_miner_self_test_ok']) {
      assert.ok(used.has(n), `deploy files use ${n}`);
    }
    // The issue-20 series a running miner fills from its start: real values, not placeholders.
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(value('cfx_miner_hashes_total') > 0, 'hashes counted');
    assert.equal(value('cfx_miner_healthy'), 1, 'connected with a fresh job: healthy');
    assert.ok(value('cfx_miner_expected_block_seconds') > 0, 'an expected time to a block at difficulty 500000');
    assert.equal(value('cfx_miner_self_check_invalid_total'), 0);
    assert.equal((await miner.stop('SIGINT')).code, 0);
  } finally {
    await miner.stop('SIGKILL');
    await node.close();
  }
});
