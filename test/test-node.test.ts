// The test node against a raw TCP client: what goes over the wire must be what Conflux-Rust
// sends, byte for byte where the node's format is fixed. Verification uses the real addon.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Verifier } from '../src/miner/verify.js';
import { TWO_POW_256 } from '../src/miner/job.js';
import { U256_MAX } from '../src/hex.js';
import { LineFramer } from '../src/stratum/framing.js';
import type { TestJob, TestNodeOptions } from './support/test-node.js';
import { TestNode } from './support/test-node.js';
import { waitFor, waitForEvent } from './support/wait.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = path.join(repoRoot, 'build', 'Release', 'cfx_miner.node');
const skip = existsSync(addonPath) ? false : `native addon missing (${addonPath}); run \`npm run build:native\``;
if (skip) process.stderr.write(`test-node.test: skipped: ${skip}\n`);

const verifier = new Verifier();

/** A miner reduced to a socket: writes JSON lines, reads raw lines. */
class RawClient extends EventEmitter {
  readonly lines: string[] = [];
  private read = 0;
  private constructor(readonly socket: net.Socket) {
    super();
    const framer = new LineFramer({ onLine: (l) => { this.lines.push(l); this.emit('line', l); } });
    socket.on('data', (c: Buffer) => framer.push(c));
    socket.on('error', () => { /* closed by the node in some tests */ });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await waitForEvent(socket, 'connect', { what: 'TCP connect to the test node' });
    const c = new RawClient(socket);
    raws.push(c);
    return c;
  }

  send(obj: unknown): void {
    this.socket.write(`${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n`);
  }

  // A bound, not a timing: an Octopus submit waits for the node to build its cache, which on a busy
  // machine has taken more than 3 s.
  async nextLine(timeoutMs = 20_000): Promise<string> {
    const index = this.read++;
    if (this.lines.length <= index) await waitFor(() => this.lines.length > index, timeoutMs, 'a line from the test node');
    return this.lines[index]!;
  }

  async call(method: string, params: unknown, id: number): Promise<string> {
    this.send({ jsonrpc: '2.0', method, params, id });
    return this.nextLine();
  }

  async subscribe(password = '', worker = 'w'): Promise<string> {
    return this.call('mining.subscribe', [worker, password], 1);
  }

  submit(job: TestJob, nonce: bigint, id: number, worker = 'w'): Promise<string> {
    return this.call('mining.submit', [worker, job.jobId, `0x${nonce.toString(16)}`, job.jobId], id);
  }
}

const nodes: TestNode[] = [];
const raws: RawClient[] = [];

afterEach(async () => {
  for (const r of raws.splice(0)) r.socket.destroy();
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

async function startNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const node = await TestNode.start(options);
  nodes.push(node);
  return node;
}

async function findNonce(job: TestJob, algo: 'keccak' | 'octopus', want: boolean, from = 0n): Promise<bigint> {
  for (let n = from; n < from + 100_000n; n++) {
    const { valid } = await verifier.verify({ algo, header: job.powHash, height: job.height, boundary: job.boundary }, n);
    if (valid === want) return n;
  }
  throw new Error(`no ${want ? 'valid' : 'invalid'} nonce found`);
}

const NOTIFY_SHAPE = /^\{ "id": (\d+), "method": "mining\.notify", "params": \["0x([0-9a-f]{64})", "(\d+)", "0x([0-9a-f]{64})","0x([1-9a-f][0-9a-f]*)"\] \}$/;

test('subscribe, then a notify exactly as Conflux-Rust writes it', { skip }, async () => {
  const node = await startNode({ difficulty: 16, height: 1234 });
  const c = await RawClient.connect(node.port);
  assert.equal(await c.subscribe(), '{"jsonrpc":"2.0","result":true,"id":1}');
  const job = node.newJob();
  const line = await c.nextLine();
  const m = NOTIFY_SHAPE.exec(line);
  assert.ok(m, `notify shape: ${line}`);
  assert.equal(m[1], '17', 'the id counter starts at 17');
  assert.equal(m[2], job.powHash.toString('hex'), 'job id = pow hash');
  assert.equal(m[3], '1234');
  assert.equal(m[4], job.powHash.toString('hex'));
  assert.equal(BigInt(`0x${m[5]}`), TWO_POW_256 / 16n);
  assert.equal(job.jobId, `0x${m[2]}`);
  node.newJob();
  assert.equal(NOTIFY_SHAPE.exec(await c.nextLine())?.[1], '18', 'then increases');
  node.resendJob();
  assert.equal(NOTIFY_SHAPE.exec(await c.nextLine())?.[1], '19');
});

test('the 3-param form, and difficulty 1 = boundary 2^256-1', { skip }, async () => {
  const node = await startNode({ notifyParams: 3 });
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  const job = node.newJob();
  assert.equal(job.boundary, U256_MAX);
  const h = job.powHash.toString('hex');
  assert.equal(await c.nextLine(), `{ "id": 17, "method": "mining.notify", "params": ["0x${h}", "0x${h}","0x${'f'.repeat(64)}"] }`);
});

test('a correct keccak nonce is accepted; a wrong one is an incorrect nonce', { skip }, async () => {
  const node = await startNode({ difficulty: 16 });
  const c = await RawClient.connect(node.port);
  await c.subscribe('', 'rig7');
  const job = node.newJob();
  await c.nextLine();
  const good = await findNonce(job, 'keccak', true);
  const bad = await findNonce(job, 'keccak', false);
  assert.equal(await c.submit(job, good, 5, 'rig7'), '{"jsonrpc":"2.0","result":[true],"id":5}');
  assert.equal(await c.submit(job, bad, 6, 'rig7'), '{"jsonrpc":"2.0","result":[false,"Incorrect Nonce! worker_id = rig7!"],"id":6}');
  assert.deepEqual({ ...node.stats }, {
    connections: 1, subscribes: 1, refusedSubscribes: 0, jobs: 1, notifies: 1,
    submits: 2, accepted: 1, rejected: 1, stale: 0, duplicates: 0, unparsable: 0, badRequests: 0,
  });
  const log = node.submitsFor(job.jobId);
  assert.deepEqual(log.map((s) => [s.verdict, s.nonce, s.worker]), [['accepted', good, 'rig7'], ['invalid', bad, 'rig7']]);
  assert.deepEqual(node.jobs.get(job.jobId), { job, submits: 2, accepted: 1, invalid: 1, duplicates: 0, stale: 0 });
});

test('the nonce is a U256 in hex: leading zeros and upper case are fine', { skip }, async () => {
  const node = await startNode({ difficulty: 4 });
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  const job = node.newJob();
  await c.nextLine();
  const good = await findNonce(job, 'keccak', true, 1000n);
  const padded = `0x${good.toString(16).toUpperCase().padStart(64, '0')}`;
  assert.equal(await c.call('mining.submit', ['w', job.jobId, padded, job.jobId], 3), '{"jsonrpc":"2.0","result":[true],"id":3}');
});

test('a nonce for a replaced job is stale; the same nonce twice is a duplicate', { skip }, async () => {
  const node = await startNode({ difficulty: 8 });
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  const old = node.newJob();
  await c.nextLine();
  const good = await findNonce(old, 'keccak', true);
  assert.equal(await c.submit(old, good, 2), '{"jsonrpc":"2.0","result":[true],"id":2}');
  assert.equal(await c.submit(old, good, 3),
    `{"jsonrpc":"2.0","result":[false,"Problem already solved with nonce = ${good}! worker_id = w"],"id":3}`);
  node.newJob();
  await c.nextLine();
  assert.equal(await c.submit(old, good + 1n, 4), '{"jsonrpc":"2.0","result":[false,"Solution for a stale job! worker_id = w"],"id":4}');
  const staleRecord = node.submits.at(-1)!;
  assert.equal(staleRecord.verdict, 'stale');
  assert.equal(staleRecord.job?.jobId, old.jobId, 'the record names the replaced job');
  assert.equal(node.stats.stale, 1);
  assert.equal(node.stats.duplicates, 1);
  // A pow hash the node never issued is stale too (the node only searches its window).
  const never = { ...old, jobId: `0x${'11'.repeat(32)}`, powHash: Buffer.alloc(32, 0x11) };
  assert.match(await c.submit(never, 1n, 5), /Solution for a stale job/);
});

test('a window of 2 still accepts the previous job', { skip }, async () => {
  const node = await startNode({ windowSize: 2, difficulty: 4 });
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  const first = node.newJob();
  node.newJob();
  await c.nextLine();
  await c.nextLine();
  assert.equal(await c.submit(first, await findNonce(first, 'keccak', true), 2), '{"jsonrpc":"2.0","result":[true],"id":2}');
  node.newJob();
  await c.nextLine();
  assert.match(await c.submit(first, 1n, 3), /stale job/);
});

test('octopus (light) verification at the job\'s height', { skip }, async () => {
  const node = await startNode({ algo: 'octopus', difficulty: 4, height: 5 });
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  const job = node.newJob();
  await c.nextLine();
  const good = await findNonce(job, 'octopus', true);
  const bad = await findNonce(job, 'octopus', false);
  assert.equal(await c.submit(job, good, 2), '{"jsonrpc":"2.0","result":[true],"id":2}');
  assert.match(await c.submit(job, bad, 3), /Incorrect Nonce/);
});

test('bad params, unparsable submits, unknown methods, broken JSON', { skip }, async () => {
  const node = await startNode();
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  const job = node.newJob();
  await c.nextLine();
  const h = job.jobId;
  assert.equal(await c.call('mining.submit', 'nope', 2), '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":2}');
  assert.equal(await c.call('mining.submit', ['w', h, 5, h], 3), '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":3}');
  assert.equal(await c.call('mining.subscribe', { w: 1 }, 4), '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":4}');
  assert.equal(await c.call('mining.submit', ['w', h, '0x1'], 5), '{"jsonrpc":"2.0","result":[false],"id":5}');
  assert.equal(await c.call('mining.submit', ['w', h, '0xzz', h], 6), '{"jsonrpc":"2.0","result":[false],"id":6}');
  assert.equal(await c.call('mining.submit', ['w', h, `0x1${'0'.repeat(64)}`, h], 7), '{"jsonrpc":"2.0","result":[false],"id":7}');
  assert.equal(await c.call('mining.submit', ['w', h, '0x1', '0x1234'], 8), '{"jsonrpc":"2.0","result":[false],"id":8}');
  assert.equal(await c.call('mining.authorize', [], 9), '{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":9}');
  c.send('{"broken": ');
  assert.equal(await c.nextLine(), '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}');
  c.send('[1,2]');
  assert.equal(await c.nextLine(), '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid request"},"id":null}');
  assert.equal(node.stats.unparsable, 4);
  assert.equal(node.stats.accepted, 0);
  // The connection is still usable afterwards.
  assert.equal(await c.submit(job, 1n, 10), '{"jsonrpc":"2.0","result":[true],"id":10}');
});

test('a wrong password: false, the socket stays open, and no job ever reaches it', { skip }, async () => {
  const node = await startNode({ password: 'right' });
  const wrong = await RawClient.connect(node.port);
  const right = await RawClient.connect(node.port);
  const events: string[] = [];
  node.on('subscribe', (e) => events.push(`subscribe ${e.worker} ${e.ok}`));
  node.on('subscribed', (e) => events.push(`subscribed ${e.worker}`));
  assert.equal(await wrong.subscribe('wrong'), '{"jsonrpc":"2.0","result":false,"id":1}');
  assert.equal(await right.subscribe('right'), '{"jsonrpc":"2.0","result":true,"id":1}');
  assert.deepEqual(events, ['subscribe w false', 'subscribe w true', 'subscribed w']);
  node.newJob();
  node.newJob();
  await right.nextLine();
  await right.nextLine();
  // A reply on the same socket comes after anything written to it before: had a job been
  // sent to the refused connection, it would arrive ahead of this reply.
  assert.equal(await wrong.call('mining.authorize', [], 2), '{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":2}');
  assert.equal(wrong.lines.length, 2, 'only the two replies');
  assert.ok(!wrong.socket.destroyed);
  assert.equal(node.stats.refusedSubscribes, 1);
  assert.equal(node.subscribedCount, 1);
  assert.equal(node.connectionCount, 2);
});

test('string results, delayed and unanswered submits', { skip }, async () => {
  const node = await startNode({ difficulty: 1 });
  node.behaviour.stringResults = true;
  const c = await RawClient.connect(node.port);
  assert.equal(await c.subscribe(), '{"jsonrpc":"2.0","result":"true","id":1}');
  const job = node.newJob();
  await c.nextLine();
  assert.equal(await c.submit(job, 1n, 2), '{"jsonrpc":"2.0","result":["true"],"id":2}');
  assert.equal(await c.submit(job, 1n, 3), `{"jsonrpc":"2.0","result":["false","Problem already solved with nonce = 1! worker_id = w"],"id":3}`);
  node.behaviour.stringResults = false;
  node.behaviour.submitDelayMs = 100;
  const started = performance.now();
  assert.equal(await c.submit(job, 2n, 4), '{"jsonrpc":"2.0","result":[true],"id":4}');
  // The delay is the thing under test; a lower bound that a slow machine can only exceed.
  assert.ok(performance.now() - started >= 95);
  node.behaviour.answerSubmits = false;
  const seen = waitForEvent(node, 'submit');
  c.send({ jsonrpc: '2.0', method: 'mining.submit', params: ['w', job.jobId, '0x3', job.jobId], id: 5 });
  const [record] = await seen as [{ verdict: string; answered: boolean }];
  assert.equal(record.verdict, 'accepted');
  assert.equal(record.answered, false);
  await assert.rejects(c.nextLine(300), /timed out/, 'no reply may come');
});

test('automatic jobs, split and merged output, garbage, silence', { skip }, async () => {
  const node = await startNode({ jobIntervalMs: 20 });
  const c = await RawClient.connect(node.port);
  await c.subscribe();
  await waitFor(() => c.lines.length >= 4, 3000, 'three automatic jobs');
  node.behaviour.chunking = 'split';
  const before = c.lines.length;
  await waitFor(() => c.lines.length >= before + 3, 3000, 'jobs in tiny writes');
  for (const line of c.lines.slice(1)) assert.match(line, NOTIFY_SHAPE);
  node.behaviour.chunking = 'merge';
  node.sendGarbage(['garbage one', 'garbage two']);
  await waitFor(() => c.lines.includes('garbage two'), 3000, 'garbage');
  node.behaviour.silent = true;
  const count = c.lines.length;
  const jobsNow = node.stats.jobs;
  await waitFor(() => node.stats.jobs >= jobsNow + 3, 3000, 'jobs made while silent');
  // A merged flush may have been in flight when silence began; nothing after it.
  assert.ok(c.lines.length <= count + 1, 'a silent node sends nothing');
});

test('stop listening refuses connections; listen() again on the same port; drop and close', { skip }, async () => {
  const node = await startNode();
  const port = node.port;
  const kept = await RawClient.connect(port);
  await kept.subscribe();
  await node.stopListening();
  assert.equal(node.listening, false);
  const refused = net.connect({ host: '127.0.0.1', port });
  await waitForEvent(refused, 'error', { what: 'ECONNREFUSED' });
  refused.destroy();
  node.newJob();
  assert.match(await kept.nextLine(), NOTIFY_SHAPE, 'existing connections still get jobs');
  await node.listen();
  assert.equal(node.port, port);
  const again = await RawClient.connect(port);
  assert.equal(await again.subscribe(), '{"jsonrpc":"2.0","result":true,"id":1}');
  const closed = waitForEvent(kept.socket, 'close');
  node.dropConnections();
  await closed;
  await waitFor(() => node.connectionCount === 0, 3000, 'connections to close');
  await node.close();
  assert.equal(node.listening, false);
});
