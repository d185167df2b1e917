// Faults, end to end and at the native edge. The real miner against a test node that is down at
// start, drops the connection at random points (also between a solution and its verdict), answers
// too late and goes silent; afterwards the miner's books must balance and agree exactly with what
// the node recorded (bench/faults.ts runs the same script with 100 disconnects). Half-open
// detection in process; and native failures (bad arguments, memory that cannot be had) surface
// as JS errors, never as a crash.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DROP_KINDS, runFaultScript } from './support/faults.js';
import { MemoryLogger } from './support/memory-logger.js';
import type { Job } from '../src/miner/job.js';
import { StratumClient } from '../src/stratum/client.js';
import type { StateChange } from '../src/stratum/client.js';
import { CacheHandle, DatasetHandle, SearchEngine, hashKeccak, limits } from '../src/native/index.js';
import { loadAddon } from '../src/native/loader.js';
import { allocateDataset, fillDataset, testHooks } from './support/native-hooks.js';
import { repoRoot } from './support/fixtures.js';
import { TestNode } from './support/test-node.js';
import type { SubmitRecord } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import { waitFor, waitForEvent } from './support/wait.js';

// ---- the fault script, CI size ---------------------------------------------------------------

test('faults: node down at start, 10 disconnects at random points, slow and silent node; books agree with the node', async (t) => {
  const seed = Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed} (node dist/bench/faults.js --seed ${seed} --disconnects 10 --slow 1 --silent 1 repeats the choices)`);
  const r = await runFaultScript({
    disconnects: 10, slowRounds: 1, silentRounds: 1, seed, threads: 1, difficulty: 200_000, requestTimeoutMs: 2_000,
    log: (m) => t.diagnostic(m), t,
  });
  const b = r.books;
  const e = r.expected;
  t.diagnostic(`miner: ${b.line}`);
  t.diagnostic(`node: ${JSON.stringify(r.node)}; reconnects ${r.reconnectMs.join(', ')} ms; ` +
    `down at start: connected ${r.downAtStart.connectMs} ms after the node came up (backoff ${r.downAtStart.announcedBackoffMs} ms)`);

  assert.deepEqual(r.exit, { code: 0, signal: null }, 'SIGINT ends the run with exit 0');
  assert.deepEqual(r.problems, [], 'every check of the run');
  // The same checks one by one, so a failure names the figure. Exact, because every verdict the
  // node wrote in time reaches the miner, and the ledger knows which ones it cut off or delayed.
  assert.equal(b.accepted, e.accepted, 'accepted = node-accepted submits whose verdict reached the miner in time');
  assert.equal(b.rejected, e.rejected, 'rejected = every other verdict that reached the miner in time (stale); a duplicate of our own accepted nonce counts accepted');
  assert.equal(b.rejectedStale, e.rejectedStale, 'stale at node = the node\'s stale verdicts that reached the miner');
  assert.equal(b.timedOut, e.timedOut, 'timed out = unanswered verdicts (slow ones count when they come); not lost');
  assert.equal(b.submitted, e.submitted);
  assert.equal(b.droppedInvalid, 0);
  assert.equal(r.node.rejected, 0, 'the node never saw an invalid nonce');
  assert.ok(b.lost + b.pending >= e.cutNeverResent, 'a solution cut off and never sent again is lost, not forgotten');
  assert.equal(b.inFlight, 0, 'nothing in flight after a clean stop against a node that answers');
  // The node accepted exactly what the miner counts, plus the accepted verdicts it could not deliver.
  const undelivered = r.node.accepted - b.accepted;
  assert.ok(undelivered >= 0, 'the miner never counts more accepted than the node accepted');

  // The script did exercise what it claims.
  for (const kind of DROP_KINDS) assert.ok(r.drops[kind] >= 1, `a disconnect of kind ${kind}`);
  assert.ok(e.cut >= 2, `verdicts cut off by a disconnect: ${e.cut}`);
  assert.ok(r.slowSubmits >= 1 && r.silentSubmits >= 1);
  assert.equal(r.lateReplyLines, e.lateReplies, 'each late reply reached the miner after it had timed out, and was counted');
  assert.ok(e.lateReplies >= 1);
  assert.ok(r.reconnectMs.every((ms, i) => ms <= r.announcedBackoffMs[i]! + 4_000), 'every reconnect within the announced backoff');
});

// ---- half-open through the CLI ----------------------------------------------------------------

test('half-open via the CLI: once submits to a silent node time out, the miner gives up on that connection and reconnects', {
}, async (t) => {
  const node = new TestNode({ algo: 'keccak', difficulty: 200_000, notifyOnSubscribe: true });
  const { host, port } = await node.listen();
  t.after(() => node.close());
  node.newJob();
  const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'silent', '--algo', 'keccak', '--threads', '1',
    '--request-timeout-ms', '1000'], { t });
  await waitForEvent(node, 'submit', { timeoutMs: 20_000, what: 'a first submit', filter: (r: SubmitRecord) => r.verdict === 'accepted' });
  node.behaviour.silent = true;
  const connectionsBefore = node.stats.connections;
  await miner.waitForLine(/no reply to mining\.submit/, 20_000);
  // Given up on: a new connection within the request timeout, the first backoff (1 s) and slack.
  await waitFor(() => node.stats.connections > connectionsBefore, 6_000, 'the miner to reconnect to the silent node');
});

// ---- half-open, in process (the CLI has no idle-timeout setting: see the report) -------------

async function subscribedClient(t: TestContext, node: TestNode, opts: { requestTimeoutMs: number; idleTimeoutMs: number }): Promise<{ client: StratumClient; states: StateChange[]; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const client = new StratumClient({
    hosts: [{ host: node.host, port: node.port }], worker: 'half-open', password: '', logger,
    requestTimeoutMs: opts.requestTimeoutMs, idleTimeoutMs: opts.idleTimeoutMs, connectTimeoutMs: 3_000,
    backoff: { initialMs: 20, maxMs: 100, jitter: 0 },
  });
  t.after(() => client.close());
  const states: StateChange[] = [];
  client.on('state', (s) => states.push(s));
  const done = waitForEvent(client, 'subscribed', { timeoutMs: 5_000 });
  client.start();
  await done;
  return { client, states, logger };
}

async function nextJob(client: StratumClient, node: TestNode): Promise<Job> {
  const got = waitForEvent<[Job]>(client, 'job', { timeoutMs: 5_000 });
  node.newJob();
  return (await got)[0];
}

test('half-open: a submit outstanding when the node goes silent ends timed out, then the idle timeout reconnects', async (t) => {
  const node = await TestNode.start({ algo: 'keccak' });
  t.after(() => node.close());
  const { client, states } = await subscribedClient(t, node, { requestTimeoutMs: 200, idleTimeoutMs: 800 });
  const job = await nextJob(client, node);

  node.behaviour.silent = true;
  const seen = waitForEvent(node, 'submit', { timeoutMs: 5_000 });
  const result = await client.submit(job, 7n);
  await seen;
  assert.equal(result.status, 'timeout', 'no verdict within the request timeout: timed out (the engine counts it), not lost');
  assert.equal(node.submits.at(-1)?.verdict, 'accepted', 'the node took it; the miner cannot know');

  const [change] = await waitForEvent<[StateChange]>(client, 'state', { timeoutMs: 5_000, filter: (s) => s.state === 'disconnected' });
  assert.match(change.reason ?? '', /half-open/);
  node.behaviour.silent = false;
  await waitForEvent(client, 'subscribed', { timeoutMs: 5_000 });
  const again = await nextJob(client, node);
  assert.equal((await client.submit(again, 9n)).status, 'accepted', 'mining again after the reconnect');
  assert.ok(states.filter((s) => s.state === 'subscribed').length >= 2);
});

test('half-open: when the idle timeout fires first, the outstanding submit ends disconnected (kept for resubmit), not lost', async (t) => {
  const node = await TestNode.start({ algo: 'keccak' });
  t.after(() => node.close());
  const { client } = await subscribedClient(t, node, { requestTimeoutMs: 5_000, idleTimeoutMs: 300 });
  const job = await nextJob(client, node);
  node.behaviour.silent = true;
  const result = await client.submit(job, 11n);
  assert.equal(result.status, 'disconnected', 'the engine keeps a disconnected solution as pending and resubmits it');
  node.behaviour.silent = false;
  await waitForEvent(client, 'subscribed', { timeoutMs: 5_000 });
  // The node comes back with the same job (window 1): the resubmit is a duplicate there.
  const resent = waitForEvent<[Job]>(client, 'job', { timeoutMs: 5_000 });
  node.resendJob();
  const [same] = await resent;
  const r2 = await client.submit(same, 11n);
  assert.equal(r2.status, 'rejected');
  assert.match(r2.reason ?? '', /already solved/, 'the node had the first one');
});

// ---- native failures surface as errors -------------------------------------------------------

test('native: a dataset larger than this machine\'s memory is refused with a clear error before any of it is built', {
}, async () => {
  const max = limits().maxDatasetBytes;
  assert.ok(os.totalmem() < max, 'this test needs a machine with less memory than the largest dataset');
  const cache = await CacheHandle.build(0);
  const abort = new AbortController();
  let progressSeen: [number, number] | undefined;
  // Safety net: if the build starts, it is cancelled at its first progress report (a few MiB in).
  const p = DatasetHandle.build(cache, {
    bytes: max, threads: 1, signal: abort.signal,
    onProgress: (done, total) => { progressSeen ??= [done, total]; abort.abort(); },
  });
  const err = await p.then(() => undefined, (e: unknown) => e as Error);
  assert.ok(err, 'the build must not succeed');
  assert.equal(progressSeen, undefined, `the build started (progress ${JSON.stringify(progressSeen)}) instead of being refused`);
  assert.notEqual(err.name, 'AbortError');
  assert.match(err.message, /memory/i);
});

test('native: under an address-space limit, cache and dataset allocations fail as errors and the process carries on', async (t) => {
  if (process.platform !== 'linux') return t.skip('needs a POSIX shell with ulimit -v (Linux)');
  const indexUrl = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'native', 'index.js')).href;
  const hooksUrl = pathToFileURL(path.join(repoRoot, 'dist', 'test', 'support', 'native-hooks.js')).href;
  const script = `
    import { CacheHandle, DatasetHandle, hashKeccak } from ${JSON.stringify(indexUrl)};
    import { allocateDataset } from ${JSON.stringify(hooksUrl)};
    const out = {};
    const outcome = async (f) => { try { await f(); return 'succeeded'; } catch (e) { return [e.name, e.message]; } };
    const cache = await CacheHandle.build(0);
    const abort = new AbortController();
    out.build = await outcome(() => DatasetHandle.build(cache, { bytes: 8 * 2 ** 30, threads: 1, signal: abort.signal,
      onProgress: () => { out.buildStarted = true; abort.abort(); } }));
    out.allocate = await outcome(() => allocateDataset(0, 8 * 2 ** 30));
    out.bigCache = await outcome(() => CacheHandle.build(2097152));
    out.after = hashKeccak(Buffer.alloc(32), 1n).toString('hex');
    console.log(JSON.stringify(out));
  `;
  // 6 GiB of address space: Node itself fits, an 8 GiB dataset cannot.
  const child = spawn('/bin/sh', ['-c', 'ulimit -v 6291456 && exec "$0" --input-type=module -e "$1"', process.execPath, script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => { child.kill('SIGKILL'); });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const [code, signal] = await waitForEvent<[number | null, NodeJS.Signals | null]>(child, 'close', { timeoutMs: 30_000, what: 'the limited child to finish' });
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `the child must not crash; stderr:\n${stderr}`);
  const out = JSON.parse(stdout) as Record<string, unknown>;
  assert.equal(out['buildStarted'], undefined, 'the 8 GiB build did not start');
  assert.deepEqual(out['build'], ['Error', 'not enough memory for the dataset']);
  assert.deepEqual(out['allocate'], ['Error', 'not enough memory']);
  assert.deepEqual(out['bigCache'], ['Error', 'not enough memory for the cache']);
  assert.equal(out['after'], hashKeccak(Buffer.alloc(32), 1n).toString('hex'), 'the addon still works after the failures');
});

// Values that are not what an argument position takes. Each call below passes valid values
// everywhere except one position.
const NOT_NUMBERS: unknown[] = [undefined, null, 'x', '1', {}, [], true, Symbol('s')];
const BAD_NUMBERS: unknown[] = [...NOT_NUMBERS, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 64, 1e30, -1e30, -1n, 2n ** 64n];
const BAD_BUFFERS: unknown[] = [undefined, null, 'x', {}, [], 5, 5n, Buffer.alloc(0), Buffer.alloc(31), Buffer.alloc(33)];

interface Case { name: string; valid: unknown[]; bad: unknown[][] }

function badArgumentFindings(fn: (...args: unknown[]) => unknown, c: Case): Promise<string[]> {
  const findings: string[] = [];
  const checks = c.bad.flatMap((values, pos) => values.map((v) => ({ pos, v })));
  return (async () => {
    for (const { pos, v } of checks) {
      const args = [...c.valid];
      args[pos] = v;
      const label = `${c.name}: argument ${pos} = ${describe(v)}`;
      let err: unknown;
      try {
        const r = fn(...args);
        if (r instanceof Promise) await r;
      } catch (e) {
        err = e;
      }
      if (err === undefined) findings.push(`${label}: accepted`);
      else if (!(err instanceof TypeError || err instanceof RangeError)) findings.push(`${label}: ${(err as Error).name}: ${(err as Error).message}`);
    }
    return findings;
  })();
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return 'a symbol';
  if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0 && Object.getPrototypeOf(v) !== Object.prototype) return 'a handle of another kind';
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : Buffer.isBuffer(x) ? `Buffer(${x.length})` : x));
  return text ?? String(v);
}

async function handles(): Promise<{ cache: object; dataset: object; released: object; token: object; datasetItems: number }> {
  const a = loadAddon();
  const cache = await CacheHandle.build(0);
  const ds = allocateDataset(0, 1 << 16);
  const released = allocateDataset(0, 256);
  released.release();
  return { cache: cache.handle, dataset: ds.handle, released: released.handle, token: a.newCancelToken(), datasetItems: (1 << 16) / 64 };
}

test('native: every addon entry point rejects bad arguments with a TypeError or RangeError', async () => {
  const a = loadAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const hooks = testHooks() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const { cache, dataset, released, token, datasetItems } = await handles();
  const h32 = Buffer.alloc(32, 1);
  const notCache = [undefined, null, {}, 'x', 5, token, dataset, h32];
  const notDataset = [undefined, null, {}, 'x', 5, token, cache, h32];
  const notToken = [null, {}, 'x', 5, cache, dataset];
  const l = limits();
  const maxStage = l.maxHeight / l.stageLength;
  const badBytes = [...BAD_NUMBERS, 0, 100, l.maxDatasetBytes + l.pageBytes];
  const cases: Case[] = [
    { name: 'sizes', valid: [0], bad: [[...BAD_NUMBERS, l.maxHeight + 1]] },
    { name: 'newCancelToken', valid: [], bad: [] },
    { name: 'cancel', valid: [a.newCancelToken!()], bad: [[undefined, ...notToken]] },
    { name: 'buildCache', valid: [0, undefined, token], bad: [[...BAD_NUMBERS, maxStage + 1], [], notToken] },
    { name: 'cacheInfo', valid: [cache], bad: [notCache] },
    {
      name: 'buildDataset', valid: [cache, { bytes: 256, threads: 1, hugePages: false, onProgress: undefined, cancel: token }],
      bad: [notCache, [undefined, null, 5, 'x']],
    },
    { name: 'datasetInfo', valid: [dataset], bad: [notDataset] },
    { name: 'releaseDataset', valid: [released], bad: [notDataset] },
    { name: 'hashKeccak', valid: [h32, Buffer.alloc(32)], bad: [BAD_BUFFERS, BAD_BUFFERS] },
    // Any length is a valid input to keccak256, the empty Buffer included: only non-Buffers are bad.
    { name: 'keccak256', valid: [Buffer.alloc(0)], bad: [[undefined, null, 'x', {}, [], 5, 5n]] },
    { name: 'hashOctopusLightAsync', valid: [cache, h32, 0n, 256], bad: [notCache, BAD_BUFFERS, BAD_NUMBERS, badBytes] },
    { name: 'cancelAllBuilds', valid: [], bad: [] },
    { name: 'meetsBoundary', valid: [h32, Buffer.alloc(32), Buffer.alloc(32, 0xff)], bad: [BAD_BUFFERS, BAD_BUFFERS, BAD_BUFFERS] },
    { name: 'selfTest', valid: [], bad: [] },
    // Its valid call would switch a kernel off for this whole process: only the bad ones run.
    { name: 'disableKernel', valid: ['amx'], bad: [[undefined, null, 5, {}, '', 'sse', 'AMX']] },
  ];
  // The test hooks' own addon, on the product's handles.
  const hookCases: Case[] = [
    { name: 'cacheNode', valid: [cache, 0], bad: [notCache, [...BAD_NUMBERS, l.maxHeight]] },
    { name: 'dagItem', valid: [cache, 0], bad: [notCache, [...BAD_NUMBERS, 2 ** 32]] },
    { name: 'allocDataset', valid: [256, 0], bad: [badBytes, [...BAD_NUMBERS, maxStage + 1]] },
    {
      name: 'fillDatasetItems', valid: [dataset, cache, 0, 1],
      bad: [notDataset, notCache, [...BAD_NUMBERS, datasetItems + 1], [...BAD_NUMBERS, datasetItems + 1]],
    },
    { name: 'hashOctopusLight', valid: [cache, h32, 0n, 256], bad: [notCache, BAD_BUFFERS, BAD_NUMBERS, badBytes] },
    { name: 'octopusTrace', valid: [cache, h32, 0n, 256], bad: [notCache, BAD_BUFFERS, BAD_NUMBERS, badBytes] },
    { name: 'hashOctopusFull', valid: [dataset, h32, 0n], bad: [notDataset, BAD_BUFFERS, BAD_NUMBERS] },
  ];
  const exported = Object.keys(a).filter((k) => typeof a[k] === 'function' && k !== 'SearchEngine' && k !== 'cpuFeatures');
  assert.deepEqual(exported.filter((k) => !cases.some((c) => c.name === k)), [], 'every exported function has a case here');
  assert.deepEqual(Object.keys(hooks).filter((k) => !hookCases.some((c) => c.name === k)), [], 'every hook has a case here');
  const findings: string[] = [];
  for (const [fns, list] of [[a, cases], [hooks, hookCases]] as const) {
    for (const c of list) {
      // The valid call works, so each failure below is caused by the one bad value.
      if (c.name !== 'releaseDataset' && c.name !== 'disableKernel') {
        const r = fns[c.name]!(...c.valid);
        if (r instanceof Promise) await r;
      }
      findings.push(...await badArgumentFindings(fns[c.name]!, c));
    }
  }
  // buildDataset's options, one field at a time (the baton is read field by field).
  const options = { bytes: 256, threads: 1, hugePages: false, onProgress: undefined, cancel: token };
  const badFields: [string, unknown[]][] = [['bytes', badBytes], ['threads', [...BAD_NUMBERS, 0, l.maxThreads + 1]], ['cancel', notToken]];
  for (const [field, values] of badFields) {
    findings.push(...await badArgumentFindings((v) => a.buildDataset!(cache, { ...options, [field]: v }), {
      name: `buildDataset ${field}`, valid: [undefined], bad: [values],
    }));
  }
  // A released dataset is a state error (plain Error naming it), not a crash.
  assert.throws(() => hooks.hashOctopusFull!(released, h32, 0n), { message: /released/ });
  assert.throws(() => a.datasetInfo!(released), { message: /released/ });
  assert.throws(() => hooks.fillDatasetItems!(released, cache, 0, 1), { message: /released/ });

  // The search engine: constructor, start() fields, calls after destroy().
  const Engine = loadAddon().SearchEngine as unknown as new (...args: unknown[]) => Record<string, (...args: unknown[]) => unknown>;
  findings.push(...await badArgumentFindings((...args) => new Engine(...args).destroy!(), {
    name: 'new SearchEngine', valid: [1, () => {}], bad: [[...BAD_NUMBERS, 0, l.maxThreads + 1], [undefined, null, 5, {}, 'x']],
  }));
  assert.throws(() => (Engine as unknown as (...args: unknown[]) => unknown)(1, () => {}), TypeError, 'SearchEngine without new');
  const engine = new Engine(1, () => {});
  try {
    // Boundary 1: valid, and no nonce meets it, so a start that goes through only hashes.
    const one = Buffer.alloc(32);
    one[31] = 1;
    // start(algo, header, boundary, startNonce, cache, dataset, datasetBytes), by position.
    const keccak = [0, h32, one, 0n];
    const octopus = [1, h32, one, 0n, cache, undefined, 1 << 16];
    findings.push(...await badArgumentFindings((...args) => engine.start!(...args), {
      name: 'start (keccak)', valid: keccak,
      bad: [[undefined, null, '', 'keccak', 2, -1, 0.5, {}], BAD_BUFFERS, [...BAD_BUFFERS, Buffer.alloc(32)], BAD_NUMBERS],
    }));
    findings.push(...await badArgumentFindings((...args) => engine.start!(...args), {
      name: 'start (octopus)', valid: octopus,
      bad: [[], [], [], [], [undefined, null, {}, 5, token, dataset], [null, {}, 5, token, cache],
        [undefined, ...badBytes, 255, 300]],
    }));
    assert.throws(() => engine.start!(1, h32, one, 0n, cache, released, 1 << 16), { message: /released/ });
    // The valid starts work, so each failure above is caused by its one bad argument.
    engine.start!(...keccak);
    engine.start!(...octopus);
    engine.start!(1, h32, one, 0n, cache, dataset, 1 << 16);
    findings.push(...await badArgumentFindings((g) => engine.switchedAt!(g), { name: 'switchedAt', valid: [1], bad: [[...BAD_NUMBERS, 2 ** 53 + 2]] }));
    findings.push(...await badArgumentFindings((b) => engine.setShareBits!(b), { name: 'setShareBits', valid: [20], bad: [[...BAD_NUMBERS, l.maxShareBits + 1, 256]] }));
  } finally {
    engine.destroy!();
  }
  engine.destroy!(); // twice is fine
  assert.throws(() => engine.start!(0, h32, Buffer.alloc(32, 0xff), 0n), { message: /destroyed/ });
  assert.throws(() => engine.pause!(), { message: /destroyed/ });
  assert.equal(engine.generation!(), 0);
  // A stopped engine still reports what it did (one thread here): the totals stay true.
  assert.equal((engine.hashCounts!() as number[]).length, 1);
  assert.deepEqual(Object.keys(engine.dropped!() as object).sort(), ['full', 'shares', 'stale']);
  assert.throws(() => engine.switchedAt!(1), { message: /destroyed/ });

  // (Sizes that are not a multiple of 256 are a known gap, tested on their own below.)
  assert.deepEqual(findings, [], 'bad arguments the addon took, or answered with another error type');
});

test('native: dataset sizes that are not a multiple of 256 are refused by every entry point', {
}, async () => {
  const a = loadAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const cache = await CacheHandle.build(0);
  const h32 = Buffer.alloc(32, 1);
  const hooks = testHooks() as unknown as Record<string, (...args: unknown[]) => unknown>;
  // The rule, as allocDataset, buildDataset and SearchEngine.start apply it.
  assert.throws(() => hooks.allocDataset!(300, 0), RangeError);
  assert.throws(() => a.buildDataset!(cache.handle, { bytes: 300, threads: 1 }), RangeError);
  assert.throws(() => a.hashOctopusLightAsync!(cache.handle, h32, 0n, 300), RangeError, 'hashOctopusLightAsync takes 300');
  assert.throws(() => hooks.hashOctopusLight!(cache.handle, h32, 0n, 300), RangeError, 'hashOctopusLight takes 300');
  assert.throws(() => hooks.octopusTrace!(cache.handle, h32, 0n, 300), RangeError, 'octopusTrace takes 300');
});

test('native: a dataset released while the search uses it stays alive for the search; the handle itself is dead', async () => {
  const cache = await CacheHandle.build(0);
  const bytes = 1 << 20;
  const ds = allocateDataset(0, bytes);
  fillDataset(ds, cache, 0, bytes / 64);
  const engine = new SearchEngine(1, () => {});
  try {
    // Boundary 1: no solutions, only hashing.
    engine.start({ algo: 'octopus', header: Buffer.alloc(32, 3), boundary: 1n, startNonce: 0n, cache, dataset: ds });
    ds.release();
    const before = engine.totalHashes();
    await waitFor(() => engine.totalHashes() > before + 1_000, 10_000, 'the search to keep hashing on the released dataset');
    assert.throws(() => testHooks().hashOctopusFull(ds.handle, Buffer.alloc(32), 0n), /released/);
    assert.throws(() => engine.start({ algo: 'octopus', header: Buffer.alloc(32), boundary: 1n, startNonce: 0n, cache, dataset: ds }), /released/);
  } finally {
    engine.destroy();
  }
});
