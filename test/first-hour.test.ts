// What a new user meets in the first hour (issue 14, item 5): one test per friction point.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createLogger } from '../src/log/logger.js';
import { fieldsNotInMessage, formatHashrate, plural } from '../src/log/format.js';
import { BadLineReporter } from '../src/stratum/bad-lines.js';
import { MemoryLogger } from './support/memory-logger.js';
import { HashingClock, formatBooks, logSpeed, logSummary } from '../src/miner/status.js';
import type { ShareCounts } from '../src/miner/books.js';
import { formatBenchForHumans } from '../src/commands/bench.js';
import { DEFAULT_DIFFICULTY, TestNode } from './support/test-node.js';
import { childEnv, runCli, startMiner } from './support/miner-process.js';
import { cliPath, repoRoot } from './support/fixtures.js';
import { waitFor } from './support/wait.js';

function capture(opts: { json?: boolean; color?: boolean } = {}) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString('utf8'); });
  const log = createLogger({ level: 'info', json: opts.json ?? false, color: opts.color ?? false, stream });
  return { log, lines: () => text.split('\n').filter((l) => l !== '') };
}

const COUNTS: ShareCounts = {
  found: 9, submitted: 7, accepted: 5, rejected: 2, rejectedStale: 1, timedOut: 0, droppedStale: 2, droppedInvalid: 0,
  droppedBacklog: 0, lost: 0, withheld: 0, checking: 0, inFlight: 0, pending: 0,
};

describe('command line', { timeout: 30_000 }, () => {
  it('bare cfx-miner names the missing option and points to --help (exit 2)', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing option --worker <name>/);
    assert.match(r.stderr, /cfx-miner --help/);
  });

  for (const scheme of ['stratum+ssl', 'stratum+tls', 'ssl', 'tls']) {
    it(`${scheme}:// is a usage error that says TLS is not supported`, async () => {
      const r = await runCli(['--host', `${scheme}://127.0.0.1:3333`, '--worker', 'w']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /TLS is not supported/);
      assert.match(r.stderr, /no TLS/);
    });
  }

  it('the start-up line says "1 thread", not "1 threads"', async (t) => {
    const miner = startMiner(['--host', '127.0.0.1:1', '--worker', 'w', '--algo', 'keccak', '--threads', '1'], { t });
    try {
      const m = await miner.waitForLine(/miner\s+cfx-miner \S+, keccak, mode n\/a, (.*)$/, 10_000);
      assert.equal(m[1], '1 thread');
    } finally {
      miner.kill();
    }
  });

  it('"accepted (a/r/s)" counts as the speed line does: stale answers are stale, not rejected', { timeout: 60_000 }, async (t) => {
    const node = new TestNode({ algo: 'keccak', difficulty: 100_000 });
    const { host, port } = await node.listen();
    node.behaviour.rejectAllWith = 'Solution for a stale job! worker_id = w';
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'w', '--algo', 'keccak', '--threads', '1', '--print-interval-s', '1'], { t });
    try {
      await miner.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await miner.waitForLine(/stale: job \S+ was replaced at the node/, 20_000);
      node.behaviour.rejectAllWith = undefined;
      const from = miner.lines.length;
      const accepted = await miner.waitForLine(/accepted \((\d+)\/(\d+)\/(\d+)\) job/, 20_000, from);
      assert.equal(accepted[2], '0', `no rejection but stale ones: ${accepted.input}`);
      assert.ok(Number(accepted[3]) >= 1, `the stale answer is counted as stale: ${accepted.input}`);
      const speed = await miner.waitForLine(/speed .* accepted (\d+) rejected (\d+) stale (\d+)$/, 10_000, from);
      assert.equal(speed[2], '0', speed.input);
      assert.equal((await miner.stop('SIGINT')).code, 0);
    } finally {
      miner.kill();
      await node.close();
    }
  });

  it('config --print leaves unset settings out instead of printing null', async () => {
    const r = await runCli(['config', '--print', '--worker', 'rig1']);
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { settings: Record<string, unknown>; sources: Record<string, string> };
    assert.ok(!r.stdout.includes('null'), r.stdout);
    for (const unset of ['height', 'httpPort', 'httpToken']) {
      assert.ok(!(unset in shown.settings), `${unset} is left out`);
      assert.equal(shown.sources[unset], 'default', `${unset} still listed in sources`);
    }
    assert.equal(shown.settings['worker'], 'rig1');
  });
});

describe('log lines', () => {
  it('the cpu tag is not painted in WARN\'s yellow', () => {
    const { log, lines } = capture({ color: true });
    log.info('cpu', 'speed');
    log.warn('net', 'trouble');
    // chalk level 1: each painted piece starts with ESC[<code>m.
    const codeBefore = (line: string, word: string): string => {
      const at = line.indexOf(word);
      // The run of escape codes right before the word: its colour and weight.
      return (/(?:\u001b\[\d+m)+$/.exec(line.slice(0, at))?.[0] ?? '').match(/\d+/g)!.sort().join(',');
    };
    const [cpuLine, warnLine] = lines();
    assert.notEqual(codeBefore(cpuLine!, 'cpu'), codeBefore(warnLine!, 'WARN'));
    assert.ok(codeBefore(warnLine!, 'WARN').split(',').includes('33'), 'WARN is yellow (the test reads the right code)');
    assert.ok(!codeBefore(cpuLine!, 'cpu').split(',').includes('33'), 'cpu is not');
  });

  it('human lines do not repeat fields the message already names; JSON lines keep them', () => {
    const msg = 'connected to 127.0.0.1:32525; subscribing as "rig1"';
    assert.deepEqual(fieldsNotInMessage(msg, { host: '127.0.0.1', port: 32525, id: 3 }), { id: 3 });
    assert.deepEqual(fieldsNotInMessage('accepted 3 rejected 0', { accepted: 3, rejected: 1 }), { rejected: 1 });
    const human = capture();
    human.log.info('net', msg, { host: '127.0.0.1', port: 32525 });
    assert.ok(!/host=|port=/.test(human.lines()[0]!), human.lines()[0]);
    const json = capture({ json: true });
    json.log.info('net', msg, { host: '127.0.0.1', port: 32525 });
    assert.deepEqual([JSON.parse(json.lines()[0]!).host, JSON.parse(json.lines()[0]!).port], ['127.0.0.1', 32525]);
  });

  it('while disconnected the periodic line says "waiting for the node", not 0 H/s', () => {
    const { log, lines } = capture();
    const rates = { '10s': 0, '60s': 0, '15m': 0 };
    logSpeed(log, { rates, shares: { accepted: 1, rejected: 0, stale: 0 }, paused: false, connected: false, node: '10.0.0.2:32525' });
    logSpeed(log, { rates, shares: { accepted: 1, rejected: 0, stale: 0 }, paused: false, connected: true, node: null });
    assert.match(lines()[0]!, /waiting for the node at 10\.0\.0\.2:32525$/);
    assert.match(lines()[1]!, /speed 10s\/60s\/15m/);
  });

  it('--log-json speed and summary lines carry their numbers as fields', () => {
    const { log, lines } = capture({ json: true });
    logSpeed(log, { rates: { '10s': 1234.5, '60s': 1200, '15m': null }, shares: { accepted: 5, rejected: 1, stale: 3 },
      paused: false, connected: true, node: null });
    logSummary(log, { ranMs: 10_000, hashingMs: 8_000, hashes: 80_000, counts: COUNTS, shares: { accepted: 5, rejected: 1, stale: 3 } });
    const [speed, headline, detail] = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual([speed!['hashrate_10s'], speed!['hashrate_60s'], speed!['hashrate_15m']], [1234.5, 1200, null]);
    assert.deepEqual([speed!['accepted'], speed!['rejected'], speed!['stale']], [5, 1, 3]);
    assert.deepEqual([headline!['hashrate_avg'], headline!['hashes'], headline!['accepted'], headline!['stale']], [10_000, 80_000, 5, 3]);
    assert.deepEqual([detail!['replaced'], detail!['stale_at_node'], detail!['found']], [2, 1, 9]);
  });

  it('the summary is a short headline plus one detail line, under 120 columns in a typical run', () => {
    const { log, lines } = capture();
    logSummary(log, { ranMs: 3_725_000, hashingMs: 3_600_000, hashes: 123_456_789_012, counts: { ...COUNTS, timedOut: 1, lost: 2 },
      shares: { accepted: 5, rejected: 1, stale: 3 } });
    const [headline, detail] = lines();
    assert.match(headline!, /summary: ran 1 h 02 min, 34\.29 MH\/s over 1 h 00 min hashing; accepted 5, rejected 1, stale 3$/);
    assert.match(detail!, /123456789012 hashes; found 9, sent 7, timed out 1, lost 2; stale 3 = 2 replaced before sending \+ 1 stale at node$/);
    // Rare outcomes (timed out, lost) lengthen the detail line only when they happened.
    for (const l of [headline!, detail!]) assert.ok(l.length < 140, `${l.length} columns: ${l}`);
    const typical = capture();
    logSummary(typical.log, { ranMs: 8_000, hashingMs: 7_000, hashes: 11_041_792, counts: COUNTS, shares: { accepted: 5, rejected: 1, stale: 3 } });
    for (const l of typical.lines()) assert.ok(l.length < 120, `${l.length} columns: ${l}`);
  });

  it('names the two kinds of stale so they cannot be confused', () => {
    assert.equal(formatBooks(COUNTS), 'found 9, sent 7; stale 3 = 2 replaced before sending + 1 stale at node');
  });

  it('the summary average leaves paused and disconnected time out', () => {
    const clock = new HashingClock();
    clock.sample(0, 0);
    clock.sample(1000, 1000); // hashing
    clock.sample(2000, 2000); // hashing
    clock.sample(2000, 10_000); // paused for 8 s: no hashes
    clock.sample(2000, 20_000); // disconnected for 10 s
    clock.sample(3000, 21_000); // hashing again
    assert.equal(clock.hashingMs, 3000);
    const { log, lines } = capture();
    logSummary(log, { ranMs: 21_000, hashingMs: clock.hashingMs, hashes: 3000, counts: COUNTS, shares: { accepted: 5, rejected: 1, stale: 3 } });
    assert.match(lines()[0]!, /1\.00 kH\/s over 3 s hashing/);
  });

  it('counts agree with their nouns: 1 thread, 2 threads, 1 hash, 1 more bad line', () => {
    assert.deepEqual([plural(1, 'thread'), plural(2, 'thread'), plural(0, 'thread'), plural(1n, 'hash', 'hashes'), plural(3n, 'hash', 'hashes')],
      ['1 thread', '2 threads', '0 threads', '1 hash', '3 hashes']);
    const bench = formatBenchForHumans({ cpu: 'X', cores: 1, threads: 1, keccak_impl: 'scalar', keccak_hps: 1000,
      job_switch_p50_ms: 1, job_switch_p99_ms: 2, job_switches: 3 } as unknown as Parameters<typeof formatBenchForHumans>[0]);
    assert.match(bench, /X \(1 core\), 1 thread, keccak scalar/);
    const { log, lines } = capture();
    logSummary(log, { ranMs: 1_000, hashingMs: 1_000, hashes: 1, counts: COUNTS, shares: { accepted: 5, rejected: 1, stale: 3 } });
    assert.match(lines()[1]!, /^\S+\s+miner\s+1 hash; found 9/);
    const memory = new MemoryLogger();
    const counters = { badLines: 0, badLinesLogged: 0, badLinesSuppressed: 0 };
    const bad = new BadLineReporter(memory, { limit: 1, windowMs: 60_000 }, counters);
    for (let i = 0; i < 2; i++) bad.report('not JSON', 'x', { host: '127.0.0.1', port: 1 });
    bad.close();
    assert.equal(memory.lines.at(-1)?.msg, '1 more bad line from the node was not logged (limit 1 per 60 s)');
  });

  it('bench and miner share one hashrate formatter', () => {
    const text = formatBenchForHumans({ cpu: 'X', cores: 2, threads: 2, keccak_impl: 'scalar', keccak_hps: 917_534,
      job_switch_p50_ms: 1, job_switch_p99_ms: 2, job_switches: 3 } as unknown as Parameters<typeof formatBenchForHumans>[0]);
    assert.match(text, /keccak test PoW\s+917\.53 kH\/s/);
    assert.equal(formatHashrate(917_534), '917.53 kH/s');
    assert.ok(!text.includes('917,534'));
  });
});

describe('the test node for a first Octopus run', { timeout: 60_000 }, () => {
  it('its hint says --mode light and what auto would do', async () => {
    const child = spawn(process.execPath, ['dist/test/support/test-node-cli.js', '--algo', 'octopus', '--port', '0'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => { out += c; });
    try {
      await waitFor(() => out.includes('\n'), 10_000, 'the test node\'s banner');
    } finally {
      child.kill('SIGKILL');
    }
    const banner = out.split('\n')[0]!;
    assert.match(banner, /--algo octopus --mode light/);
    assert.match(banner, /--mode auto builds a 4 GiB dataset/);
    assert.match(banner, new RegExp(`difficulty ${DEFAULT_DIFFICULTY.octopus}\\b`));
  });

  it('its default Octopus difficulty is the "solution every few seconds" the README shows for light mode', () => {
    // No measurement here (this machine's speed under load is no fact about the constant): the
    // README's light-mode run says which difficulty and what rate on two free cores; the constant
    // must be that difficulty, and at that rate a solution must come every 1-30 s.
    const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
    const said = /its default difficulty of ([\d ]+) gives a solution every\s+few seconds/.exec(readme);
    assert.ok(said, 'the README names the default Octopus difficulty');
    assert.equal(BigInt(said[1]!.replace(/ /g, '')), DEFAULT_DIFFICULTY.octopus, 'the README and the constant agree');
    const run = readme.slice(said.index);
    const rate = /summary: ran \d+ s, ([\d.]+) kH\/s over/.exec(run);
    assert.ok(rate, 'the README shows the light-mode run\'s summary');
    const secondsPerSolution = Number(DEFAULT_DIFFICULTY.octopus) / (Number(rate[1]) * 1000);
    assert.ok(secondsPerSolution >= 1 && secondsPerSolution <= 30,
      `${secondsPerSolution.toFixed(1)} s per solution at the README's ${rate[1]} kH/s`);
  });
});

describe('the running miner', { timeout: 60_000 }, () => {
  it('does not say "waiting for a job" when the job came with the subscribe reply', async (t) => {
    const node = new TestNode({ algo: 'keccak', difficulty: 2n ** 40n, notifyOnSubscribe: true });
    node.behaviour.chunking = 'merge'; // reply and job in one packet, as a busy node sends them
    node.newJob();
    const { host, port } = await node.listen();
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'w', '--algo', 'keccak', '--threads', '1'], { t });
    try {
      const line = (await miner.waitForLine(/subscribed at/, 10_000)).input;
      await miner.waitForLine(/new job/, 10_000);
      assert.ok(!/waiting for a job/.test(line), line);
      const net = miner.lines.filter((l) => / net {4}/.test(l));
      assert.ok(net.length >= 2 && net.every((l) => !/host=|port=/.test(l)), net.join('\n'));
    } finally {
      await miner.stop('SIGKILL');
      await node.close();
    }
  });

  it('says "waiting for the node" and prints no speed line while it has no node', async (t) => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const miner = startMiner(['--host', `127.0.0.1:${port}`, '--worker', 'w', '--algo', 'keccak', '--threads', '1',
      '--print-interval-s', '1'], { t });
    try {
      await miner.waitForLine(/waiting for the node at 127\.0\.0\.1:\d+/, 10_000);
      await miner.waitForLine(/waiting for the node/, 5_000, miner.lines.length);
      assert.ok(!miner.lines.some((l) => /speed 10s/.test(l)), miner.lines.join('\n'));
    } finally {
      await miner.stop('SIGKILL');
    }
  });

  it('under --log-json on a terminal, typed keys work and do not echo into the log', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) {
      t.skip('SKIPPED: util-linux script (for a pseudo-terminal) is not installed');
      console.log('# SKIPPED: util-linux script (for a pseudo-terminal) is not installed');
      return;
    }
    const node = new TestNode({ algo: 'keccak', difficulty: 2n ** 40n });
    const { host, port } = await node.listen();
    const cmd = [process.execPath, cliPath, '--host', `${host}:${port}`, '--worker', 'w', '--algo', 'keccak',
      '--threads', '1', '--log-json', '--print-interval-s', '3600'].map((a) => JSON.stringify(a)).join(' ');
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: repoRoot, env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => { output += c; });
    try {
      await waitFor(() => output.includes('subscribed at'), 15_000, 'the miner to subscribe');
      node.newJob();
      await waitFor(() => output.includes('new job'), 10_000, 'a job');
      child.stdin.write('hh'); // h prints the speed line now (the interval is an hour)
      await waitFor(() => (output.match(/"msg":"speed 10s/g) ?? []).length >= 2, 10_000, 'two speed lines from the h key');
      const lines = output.split(/\r?\n/).map((l) => l.replace(/\r/g, '')).filter((l) => l.trim() !== '');
      for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON line (an echoed key?): ${JSON.stringify(l)}`);
      const speed = JSON.parse(lines.find((l) => l.includes('"msg":"speed'))!) as Record<string, unknown>;
      assert.equal(typeof speed['accepted'], 'number');
    } finally {
      child.kill('SIGKILL');
      await node.close();
    }
  });
});

test('config --print keeps the README promise (unset settings left out)', () => {
  const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
  assert.match(readme, /unset optional settings are left out/);
});
