// Secrets never leave the process: the stratum password and the stats-API token, given by flag,
// by environment variable or in the config file, must not appear in anything the miner writes
// (stdout, stderr, --log-json lines) or serves (HTTP bodies and headers), in a normal run, a
// refused password, `config --print`, config errors, usage errors and network failures. Not even
// in part: any 5 characters of a secret in a row count as a leak.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/net.js';
import { runCli, startMiner } from './support/miner-process.js';
import type { MinerProcess } from './support/miner-process.js';
import { TestNode } from './support/test-node.js';

// Mixed case, digits, no hex run of 5: nothing the miner prints for other reasons contains 5 of
// these characters in a row.
const PASSWORD = 'Zq7xW3kPv9Lt';
const TOKEN = 'Hm4kQz8Wy2Rj';
const NODE_ONLY_PASSWORD = 'Yt6pVn2Xs8Gd';
const SECRETS = [PASSWORD, TOKEN, NODE_ONLY_PASSWORD];
const MIN_LEAK = 5;
const SOLUTION_WAIT_MS = 30_000;

/** What one run showed the world. */
interface Seen { label: string; text: string }

/** The longest piece (>= MIN_LEAK characters) of a secret found in `text`, if any. */
function leakedPiece(text: string, secret: string): string | undefined {
  for (let len = secret.length; len >= MIN_LEAK; len--) {
    for (let i = 0; i + len <= secret.length; i++) {
      const piece = secret.slice(i, i + len);
      if (text.includes(piece)) return piece;
    }
  }
  return undefined;
}

function leaks(seen: Seen[]): string[] {
  const out: string[] = [];
  for (const s of seen) {
    for (const secret of SECRETS) {
      const piece = leakedPiece(s.text, secret);
      if (piece !== undefined) {
        const at = s.text.indexOf(piece);
        out.push(`${s.label}: "${piece}" of a secret in ...${JSON.stringify(s.text.slice(Math.max(0, at - 60), at + piece.length + 20))}...`);
      }
    }
  }
  return out;
}

function output(label: string, miner: MinerProcess): Seen {
  return { label, text: `${miner.stdoutText()}\n${miner.stderrText()}` };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cfx-miner-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

type Channel = 'flag' | 'env' | 'file';

/** The password and the token through one channel: extra args, env and (for 'file') a config file. */
function secretsVia(channel: Channel, dir: string, password = PASSWORD): { args: string[]; env: Record<string, string> } {
  switch (channel) {
    case 'flag': return { args: ['--password', password, '--http-token', TOKEN], env: {} };
    case 'env': return { args: [], env: { CFX_MINER_PASSWORD: password, CFX_MINER_HTTP_TOKEN: TOKEN } };
    case 'file': {
      const file = writeFile(dir, `secrets-${password.length}-${Math.random().toString(36).slice(2)}.json`,
        JSON.stringify({ password, httpToken: TOKEN }));
      return { args: ['--config', file], env: {} };
    }
  }
}

async function startNode(t: TestContext, password: string): Promise<string> {
  const node = new TestNode({ algo: 'keccak', difficulty: 1_000_000, password, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  return `${host}:${port}`;
}

/** GETs a path and returns everything the response shows (status line, headers, body). */
async function httpSeen(label: string, url: string, headers: Record<string, string>, expectStatus: number): Promise<Seen> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  assert.equal(res.status, expectStatus, `${label}: HTTP status`);
  return { label, text: `${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body}` };
}

// ---- mining runs ---------------------------------------------------------------------------

async function miningRun(t: TestContext, channel: Channel, dir: string, extra: string[]): Promise<Seen[]> {
  const hostArg = await startNode(t, PASSWORD);
  const httpPort = await freePort();
  const via = secretsVia(channel, dir);
  const miner = startMiner(['--host', hostArg, '--worker', `sec-${channel}`, '--algo', 'keccak', '--threads', '1',
    '--http-port', String(httpPort), '--verbose', ...extra, ...via.args], { t, env: via.env });
  const seen: Seen[] = [];
  try {
    await miner.waitForLine(/accepted \(1\//, SOLUTION_WAIT_MS);
    const base = `http://127.0.0.1:${httpPort}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    seen.push(await httpSeen(`${channel} GET /summary`, `${base}/summary`, auth, 200));
    seen.push(await httpSeen(`${channel} GET /metrics`, `${base}/metrics`, auth, 200));
    seen.push(await httpSeen(`${channel} GET /summary without a token`, `${base}/summary`, {}, 401));
    seen.push(await httpSeen(`${channel} GET /metrics with a wrong token`, `${base}/metrics`, { authorization: `Bearer ${TOKEN}x` }, 401));
    seen.push(await httpSeen(`${channel} GET /nope`, `${base}/nope`, auth, 404));
    assert.match(seen[0]!.text, /"accepted":[1-9]/, 'the summary shows the accepted solution');
    // The request log lines (debug) are where a token would show up: wait for them.
    await miner.waitForLine(/GET \/nope/, 5_000);
    const exit = await miner.stop('SIGINT');
    assert.equal(exit.code, 0, `${channel}: exit after SIGINT`);
    assert.ok(miner.lines.some((l) => /summary: ran/.test(l)));
  } finally {
    miner.kill();
    await miner.exited.catch(() => undefined);
  }
  return [output(`mining run (${channel}${extra.length ? ` ${extra.join(' ')}` : ''})`, miner), ...seen];
}

test('secrets: mining runs with the secrets by flag, env and config file, and the stats API, show neither', async (t) => {
  const dir = tempDir(t);
  const seen = (await Promise.all([
    miningRun(t, 'flag', dir, []),
    miningRun(t, 'env', dir, ['--log-json']),
    miningRun(t, 'file', dir, []),
  ])).flat();
  assert.ok(seen.length >= 18);
  assert.deepEqual(leaks(seen), []);
});

test('secrets: a refused password (flag, env, file; human and JSON logs) is named as the cause but never shown', async (t) => {
  const dir = tempDir(t);
  const hostArg = await startNode(t, NODE_ONLY_PASSWORD);
  const runs = (['flag', 'env', 'file'] as const).map(async (channel, i) => {
    const via = secretsVia(channel, dir);
    const miner = startMiner(['--host', hostArg, '--worker', `wrong-${channel}`, '--algo', 'keccak', '--threads', '1', '--verbose',
      ...(i === 1 ? ['--log-json'] : []), ...via.args], { t, env: via.env });
    const exit = await miner.waitForExit(10_000);
    assert.equal(exit.code, 4, `${channel}: the refusal is exit 4`);
    assert.match(miner.stderrText(), /password/i, `${channel}: the log says why`);
    return output(`refused (${channel})`, miner);
  });
  assert.deepEqual(leaks(await Promise.all(runs)), []);
});

// ---- short commands ------------------------------------------------------------------------

test('secrets: config --print, config errors and usage errors show neither', async (t) => {
  const dir = tempDir(t);
  interface CliCase { label: string; args: string[]; env: Record<string, string>; code: number }
  const cases: CliCase[] = [];
  for (const channel of ['flag', 'env', 'file'] as const) {
    const via = secretsVia(channel, dir);
    const add = (label: string, args: string[], code: number): void => { cases.push({ label: `${label} (${channel})`, args: [...args, ...via.args], env: via.env, code }); };
    add('config --print', ['config', '--print'], 0);
    // Usage errors with the secrets given: a bad port, an unknown flag, no worker.
    add('bad port', ['--host', '127.0.0.1:99999', '--worker', 'w'], 2);
    add('unknown flag', ['--worker', 'w', '--bogus-flag'], 2);
    add('no worker', ['--host', '127.0.0.1:1'], 2);
  }
  cases.push({ label: 'bad thread count', args: ['--worker', 'w', '--threads', 'lots', '--password', PASSWORD, '--http-token', TOKEN], env: {}, code: 2 });
  // A config file with the secrets and a wrong type elsewhere; one with secrets of the wrong type.
  const typed = writeFile(dir, 'bad-type.json', JSON.stringify({ password: PASSWORD, httpToken: TOKEN, threads: 'two' }));
  cases.push({ label: 'config file with a bad type (config --print)', args: ['config', '--print', '--config', typed], env: {}, code: 2 });
  cases.push({ label: 'config file with a bad type (mine)', args: ['--config', typed, '--worker', 'w', '--host', '127.0.0.1:1'], env: {}, code: 2 });
  const wrongTypes = writeFile(dir, 'wrong-types.json', JSON.stringify({ httpToken: [TOKEN], password: { value: PASSWORD } }));
  cases.push({ label: 'secrets of the wrong type', args: ['config', '--print', '--config', wrongTypes], env: {}, code: 2 });
  // Secrets in the environment beside a bad value in it; a help screen with them set.
  const envSecrets = { CFX_MINER_PASSWORD: PASSWORD, CFX_MINER_HTTP_TOKEN: TOKEN };
  cases.push({ label: 'bad env value', args: ['config', '--print'], env: { ...envSecrets, CFX_MINER_PORT: 'x' }, code: 2 });
  cases.push({ label: '--help', args: ['--help'], env: envSecrets, code: 0 });

  const seen: Seen[] = [];
  // Four at a time: each is a short-lived process, and they do not share anything.
  for (let i = 0; i < cases.length; i += 4) {
    await Promise.all(cases.slice(i, i + 4).map(async (c) => {
      const r = await runCli(c.args, { env: c.env });
      assert.equal(r.code, c.code, `${c.label}: exit code; stderr:\n${r.stderr}`);
      if (c.label.startsWith('config --print (')) {
        const printed = JSON.parse(r.stdout) as { settings: Record<string, unknown> };
        assert.deepEqual([printed.settings['password'], printed.settings['httpToken']], ['***', '***'], `${c.label}: masked`);
      }
      seen.push({ label: c.label, text: `${r.stdout}\n${r.stderr}` });
    }));
  }
  assert.equal(seen.length, cases.length);
  assert.deepEqual(leaks(seen), []);
});

test('secrets: a node that cannot be reached (bad host name, closed port) retries without showing them', async (t) => {
  const dir = tempDir(t);
  const closed = await freePort();
  const runs = [
    { label: 'unresolvable host (flag)', host: 'no-such-node.invalid:32525', channel: 'flag' as const },
    { label: 'closed port (file, JSON logs)', host: `127.0.0.1:${closed}`, channel: 'file' as const, extra: ['--log-json'] },
  ].map(async ({ label, host, channel, extra }) => {
    const via = secretsVia(channel, dir);
    const miner = startMiner(['--host', host, '--worker', 'w', '--algo', 'keccak', '--threads', '1', '--verbose', ...(extra ?? []), ...via.args],
      { t, env: via.env });
    await miner.waitForLine(/retrying in/, 15_000);
    const exit = await miner.stop('SIGINT');
    assert.equal(exit.code, 0);
    return output(label, miner);
  });
  assert.deepEqual(leaks(await Promise.all(runs)), []);
});

// ---- known bugs ----------------------------------------------------------------------------

test('secrets: a stats-API port that is taken ends the run (exit 2) without showing them', {
}, async (t) => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const busyPort = (busy.address() as net.AddressInfo).port;
  const miner = startMiner(['--host', '127.0.0.1:1', '--worker', 'w', '--algo', 'keccak', '--threads', '1', '--http-port', String(busyPort),
    '--password', PASSWORD, '--http-token', TOKEN], { t });
  await miner.waitForLine(/already in use/, 10_000);
  try {
    const exit = await miner.waitForExit(3_000);
    assert.deepEqual(exit, { code: 2, signal: null });
  } finally {
    miner.kill();
    await miner.exited.catch(() => undefined);
    assert.deepEqual(leaks([output('API port taken', miner)]), []);
  }
});

test('secrets: a config file that is not valid JSON is reported without quoting the secret next to the error', {
}, async (t) => {
  const dir = tempDir(t);
  // Someone forgot the quotes around the password: an easy mistake.
  const file = writeFile(dir, 'unquoted.json', `{"worker": "w", "password": ${PASSWORD}, "threads": 2}`);
  const seen: Seen[] = [];
  for (const args of [['config', '--print', '--config', file], ['--config', file, '--host', '127.0.0.1:1']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /not valid JSON/);
    seen.push({ label: `unquoted password (${args[0]})`, text: `${r.stdout}\n${r.stderr}` });
  }
  assert.deepEqual(leaks(seen), []);
});

test('secrets: a password written into the node address is refused without echoing it', {
}, async () => {
  const r = await runCli(['--host', `stratum+tcp://w:${PASSWORD}@127.0.0.1:32525`, '--worker', 'w']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /credentials|password|@/i, 'says what is wrong');
  assert.deepEqual(leaks([{ label: 'credentials in --host', text: `${r.stdout}\n${r.stderr}` }]), []);
});
