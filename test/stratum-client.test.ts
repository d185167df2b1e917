import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryLogger } from './support/memory-logger.js';
import { NodeRefusedError, UsageError } from '../src/errors.js';
import type { Job } from '../src/miner/job.js';
import type { JobInfo, StateChange, StratumClientOptions, SubmitResult } from '../src/stratum/client.js';
import { StratumClient } from '../src/stratum/client.js';
import { MAX_TIMED_OUT_KEPT } from '../src/stratum/requests.js';
import type { HostSpec } from '../src/config/hosts.js';
import { formatHost, parseHostSpec } from '../src/config/hosts.js';
import type { PowChecker } from './support/test-node.js';
import { TestNode } from './support/test-node.js';
import { activeHandles, recordEvents, waitFor, waitForEvent, withTimeout } from './support/wait.js';

const PASSWORD = 'pw-Zq7-very-secret';
const HASH = 'cd'.repeat(32);
const here = path.dirname(fileURLToPath(import.meta.url));

/** Even nonces are valid: lets the client tests run without the native addon. */
const evenNonces: PowChecker = { verify: async (_job, nonce) => ({ valid: nonce % 2n === 0n }) };

// ---------------------------------------------------------------------------------------------
// A scriptable TCP server: the test reads the client's lines and writes whatever it wants.

class MiniConn extends EventEmitter {
  readonly lines: string[] = [];
  private buffered = '';
  constructor(readonly socket: net.Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.lines.push(line);
        this.emit('line', line);
      }
    });
    socket.on('error', () => { /* the client going away is part of the tests */ });
  }

  /** The next request the client sends (already received ones first). */
  async request(timeoutMs = 3000): Promise<{ id: number; method: string; params: unknown[]; jsonrpc?: string }> {
    const consumed = this.consumed++;
    if (this.lines.length <= consumed) await waitForEvent(this, 'line', { timeoutMs, what: 'a request from the client' });
    return JSON.parse(this.lines[consumed]!);
  }
  private consumed = 0;

  send(text: string): void {
    this.socket.write(text);
  }
}

class MiniServer extends EventEmitter {
  readonly conns: MiniConn[] = [];
  private constructor(readonly server: net.Server) {
    super();
    server.on('connection', (s) => {
      const c = new MiniConn(s);
      this.conns.push(c);
      this.emit('conn', c);
    });
  }

  static async start(port = 0): Promise<MiniServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, resolve));
    const mini = new MiniServer(server);
    servers.push(mini);
    return mini;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get spec(): HostSpec {
    return { host: '127.0.0.1', port: this.port };
  }

  async connection(index: number, timeoutMs = 3000): Promise<MiniConn> {
    await waitFor(() => this.conns.length > index, timeoutMs, `connection #${index + 1}`);
    return this.conns[index]!;
  }

  /** Accepts the subscribe of connection `index` with `result`. */
  async acceptSubscribe(index = 0, result = 'true'): Promise<MiniConn> {
    const c = await this.connection(index);
    const req = await c.request();
    assert.equal(req.method, 'mining.subscribe');
    c.send(`{"jsonrpc":"2.0","result":${result},"id":${req.id}}\n`);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping: everything a test starts is closed after it, and no output holds the password.

const servers: MiniServer[] = [];
const nodes: TestNode[] = [];
const clients: StratumClient[] = [];
const loggers: MemoryLogger[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)));
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  for (const logger of loggers.splice(0)) assertNoPassword(logger.lines);
});

function assertNoPassword(value: unknown): void {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  assert.ok(!text.includes(PASSWORD), `the password leaked into: ${text.slice(0, 300)}`);
}

function makeClient(hosts: HostSpec[], extra: Partial<StratumClientOptions> = {}): { client: StratumClient; logger: MemoryLogger; states: StateChange[] } {
  const logger = new MemoryLogger();
  const client = new StratumClient({
    hosts, worker: 'rig1', password: PASSWORD, logger,
    requestTimeoutMs: 3000, connectTimeoutMs: 3000,
    backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
    primaryProbeIntervalMs: 30,
    ...extra,
  });
  const states: StateChange[] = [];
  client.on('state', (s) => states.push(s));
  clients.push(client);
  loggers.push(logger);
  return { client, logger, states };
}

async function startNode(options: ConstructorParameters<typeof TestNode>[0] = {}): Promise<TestNode> {
  const node = await TestNode.start({ verifier: evenNonces, password: PASSWORD, ...options });
  nodes.push(node);
  return node;
}

function nodeSpec(node: TestNode): HostSpec {
  return { host: node.host, port: node.port };
}

function nextJob(client: StratumClient, timeoutMs = 3000): Promise<[Job, JobInfo]> {
  return waitForEvent<[Job, JobInfo]>(client, 'job', { timeoutMs, what: 'a job at the client' });
}

function subscribed(client: StratumClient, hostIndex?: number, timeoutMs = 3000): Promise<unknown> {
  return waitForEvent<[{ hostIndex: number }]>(client, 'subscribed', {
    timeoutMs, filter: (e) => hostIndex === undefined || e.hostIndex === hostIndex,
    what: hostIndex === undefined ? 'subscribed' : `subscribed at host #${hostIndex}`,
  });
}

/** A port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Subscribe

test('subscribes on connect with the protocol\'s exact request; true -> subscribed', async () => {
  const server = await MiniServer.start();
  const { client, states } = makeClient([server.spec]);
  const done = subscribed(client);
  client.start();
  const c = await server.connection(0);
  const req = await c.request();
  assert.deepEqual(req, { jsonrpc: '2.0', method: 'mining.subscribe', params: ['rig1', PASSWORD], id: req.id });
  assert.equal(c.lines[0], `{"jsonrpc":"2.0","method":"mining.subscribe","params":["rig1","${PASSWORD}"],"id":${req.id}}`);
  c.send(`{"jsonrpc":"2.0","result":true,"id":${req.id}}\n`);
  await done;
  assert.equal(client.state, 'subscribed');
  assert.ok(client.subscribed);
  assert.deepEqual(states.map((s) => s.state), ['connecting', 'connected', 'subscribed']);
  assert.ok(states.every((s) => s.host === '127.0.0.1' && s.port === server.port && s.hostIndex === 0));
});

test('subscribe result "true" (the design note\'s string) is accepted, against the test node', async () => {
  const node = await startNode();
  node.behaviour.stringResults = true;
  const { client } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  assert.equal(node.subscribedCount, 1);
});

test('a wrong password: refused event naming the password (not its value), no reconnect', async () => {
  const node = await startNode({ password: 'the-right-one' });
  const { client, logger, states } = makeClient([nodeSpec(node)], { backoff: { initialMs: 1, maxMs: 1, jitter: 0 } });
  const refused = waitForEvent<[NodeRefusedError, unknown]>(client, 'refused');
  client.start();
  const [err, where] = await refused;
  assert.ok(err instanceof NodeRefusedError);
  assert.equal(err.exitCode, 4);
  assert.match(err.message, /password/);
  assert.match(err.message, /127\.0\.0\.1/);
  assertNoPassword([err.message, err.stack, where, states, logger.lines]);
  assert.equal(client.state, 'refused');
  assert.ok(logger.lines.some((l) => /password/.test(l.msg)));
  // With a 1 ms backoff, a reconnect would show up at once; none must come. This wait is the thing
  // under test: a slow machine can only make it longer, never fail it.
  await assert.rejects(waitForEvent(node, 'connection', { timeoutMs: 300 }), /timed out/);
  assert.equal(node.stats.connections, 1);
  assert.equal(node.stats.refusedSubscribes, 1);
  assert.deepEqual(states.map((s) => s.state), ['connecting', 'connected', 'refused']);
  const r = await client.submit(fakeJob(), 2n);
  assert.equal(r.status, 'disconnected');
});

test('a subscribe answered with "false" is a refusal too', async () => {
  const server = await MiniServer.start();
  const { client } = makeClient([server.spec]);
  const refused = waitForEvent(client, 'refused');
  client.start();
  await server.acceptSubscribe(0, '"false"');
  await refused;
  assert.equal(client.state, 'refused');
});

test('a subscribe error object or junk reply is not a refusal: the client reconnects', async () => {
  const server = await MiniServer.start();
  const { client, logger } = makeClient([server.spec]);
  client.start();
  const c1 = await server.connection(0);
  const r1 = await c1.request();
  c1.send(`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":${r1.id}}\n`);
  const c2 = await server.connection(1);
  const r2 = await c2.request();
  c2.send(`{"jsonrpc":"2.0","result":42,"id":${r2.id}}\n`);
  const done = subscribed(client);
  await server.acceptSubscribe(2);
  await done;
  assert.ok(logger.lines.some((l) => /Method not found/.test(l.msg)));
  assert.ok(logger.lines.some((l) => /unreadable reply to mining.subscribe/.test(l.msg)));
});

test('a subscribe with no reply times out and the client reconnects', async () => {
  const server = await MiniServer.start();
  const { client, logger } = makeClient([server.spec], { requestTimeoutMs: 100 });
  client.start();
  await (await server.connection(0)).request();
  const done = subscribed(client);
  await server.acceptSubscribe(1);
  await done;
  assert.ok(logger.lines.some((l) => /no reply to mining.subscribe/.test(l.msg)));
});

// ---------------------------------------------------------------------------------------------
// Jobs

test('4-param and 3-param notify become jobs; a re-sent job is flagged', async () => {
  const node = await startNode({ height: 77 });
  const { client } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  let got = nextJob(client);
  const j1 = node.newJob();
  const [job1, info1] = await got;
  assert.equal(job1.jobId, j1.jobId);
  assert.equal(job1.height, 77);
  assert.deepEqual(job1.powHash, j1.powHash);
  assert.equal(job1.boundary, j1.boundary);
  assert.equal(info1.paramCount, 4);
  assert.equal(info1.resent, false);

  got = nextJob(client);
  node.resendJob();
  assert.equal((await got)[1].resent, true);

  node.notifyParams = 3;
  got = nextJob(client);
  const j2 = node.newJob({ difficulty: 1000 });
  const [job2, info2] = await got;
  assert.equal(info2.paramCount, 3);
  assert.equal(job2.height, undefined);
  assert.equal(job2.jobId, j2.jobId);
  assert.equal(job2.difficulty, 1000n);
  assert.equal(client.lastJob, job2);
  assert.equal(client.stats.jobs, 3);
});

// ---------------------------------------------------------------------------------------------
// Submits

function fakeJob(): Job {
  return { jobId: `0x${HASH}`, height: 1, powHash: Buffer.from(HASH, 'hex'), boundary: 255n, difficulty: 1n, receivedAt: 0 };
}

test('submit: the request shape, and every reply form mapped to a result with rtt', async () => {
  const server = await MiniServer.start();
  const { client } = makeClient([server.spec]);
  const done = subscribed(client);
  client.start();
  const c = await server.acceptSubscribe();
  await done;

  const cases: [string, Partial<SubmitResult>][] = [
    ['[true]', { status: 'accepted' }],
    ['["true"]', { status: 'accepted' }],
    ['true', { status: 'accepted' }],
    ['"true"', { status: 'accepted' }],
    ['[false, "Incorrect Nonce! worker_id = rig1!"]', { status: 'rejected', reason: 'Incorrect Nonce! worker_id = rig1!' }],
    ['[false, "Solution for a stale job! worker_id = rig1"]', { status: 'rejected', reason: 'Solution for a stale job! worker_id = rig1' }],
    ['[false]', { status: 'rejected' }],
    ['false', { status: 'rejected' }],
    ['"false"', { status: 'rejected' }],
  ];
  for (const [result, expected] of cases) {
    const pending = client.submit(fakeJob(), 0x1234n);
    const req = await c.request();
    assert.equal(req.method, 'mining.submit');
    assert.deepEqual(req.params, ['rig1', `0x${HASH}`, '0x1234', `0x${HASH}`]);
    assert.equal(req.jsonrpc, '2.0');
    c.send(`{"jsonrpc":"2.0","result":${result},"id":${req.id}}\n`);
    const r = await pending;
    const { rttMs, ...rest } = r;
    assert.deepEqual(rest, expected, result);
    assert.ok(Number.isFinite(rttMs) && rttMs >= 0, `rtt ${rttMs}`);
  }

  const pending = client.submit(fakeJob(), 1n);
  const req = await c.request();
  c.send(`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":${req.id}}\n`);
  const r = await pending;
  assert.equal(r.status, 'error');
  assert.equal(r.code, -32602);
  assert.match(r.reason ?? '', /Invalid params/);

  const odd = client.submit(fakeJob(), 1n);
  const req2 = await c.request();
  c.send(`{"jsonrpc":"2.0","result":{"weird":1},"id":${req2.id}}\n`);
  assert.equal((await odd).status, 'error');
  assert.equal(client.stats.accepted, 4);
  assert.equal(client.stats.rejected, 5);
});

test('replies are matched by id, in any order', async () => {
  const server = await MiniServer.start();
  const { client } = makeClient([server.spec]);
  const done = subscribed(client);
  client.start();
  const c = await server.acceptSubscribe();
  await done;
  const a = client.submit(fakeJob(), 2n);
  const b = client.submit(fakeJob(), 3n);
  const ra = await c.request();
  const rb = await c.request();
  c.send(`{"jsonrpc":"2.0","result":[false,"b"],"id":${rb.id}}\n{"jsonrpc":"2.0","result":[true],"id":${ra.id}}\n`);
  assert.equal((await a).status, 'accepted');
  assert.deepEqual({ ...(await b), rttMs: 0 }, { status: 'rejected', reason: 'b', rttMs: 0 });
});

test('a submit without a reply resolves as timeout; the late reply is ignored', async () => {
  const server = await MiniServer.start();
  const { client, logger } = makeClient([server.spec], { requestTimeoutMs: 150 });
  const done = subscribed(client);
  client.start();
  const c = await server.acceptSubscribe();
  await done;
  const r = await withTimeout(client.submit(fakeJob(), 2n), 3000, 'the submit to time out');
  assert.equal(r.status, 'timeout');
  // Not early: a lower bound that a slow machine can only exceed.
  assert.ok(r.rttMs >= 140, `rtt ${r.rttMs}`);
  assert.ok(logger.lines.some((l) => /no reply to mining.submit/.test(l.msg)));
  const req = await c.request();
  c.send(`{"jsonrpc":"2.0","result":[true],"id":${req.id}}\n`);
  await waitFor(() => client.stats.lateReplies === 1, 3000, 'the late reply to be counted');
  assert.equal(client.state, 'subscribed');
  assert.equal(client.stats.timeouts, 1);
});

test('against the test node: accepted, incorrect, stale, duplicate', async () => {
  const node = await startNode();
  const { client } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  const got = nextJob(client);
  node.newJob();
  const [job1] = await got;
  assert.equal((await client.submit(job1, 2n)).status, 'accepted');
  const dup = await client.submit(job1, 2n);
  assert.equal(dup.status, 'rejected');
  assert.match(dup.reason ?? '', /^Problem already solved with nonce = 2! worker_id = rig1$/);
  const bad = await client.submit(job1, 3n);
  assert.deepEqual({ ...bad, rttMs: 0 }, { status: 'rejected', reason: 'Incorrect Nonce! worker_id = rig1!', rttMs: 0 });
  const got2 = nextJob(client);
  node.newJob();
  await got2;
  const stale = await client.submit(job1, 4n);
  assert.deepEqual({ ...stale, rttMs: 0 }, { status: 'rejected', reason: 'Solution for a stale job! worker_id = rig1', rttMs: 0 });
  assert.deepEqual(
    { accepted: node.stats.accepted, rejected: node.stats.rejected, stale: node.stats.stale, duplicates: node.stats.duplicates },
    { accepted: 1, rejected: 1, stale: 1, duplicates: 1 });
});

test('a delayed reply is still matched, and the rtt shows the delay', async () => {
  const node = await startNode();
  node.behaviour.submitDelayMs = 120;
  const { client } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  const got = nextJob(client);
  node.newJob();
  const [job] = await got;
  const r = await client.submit(job, 2n);
  assert.equal(r.status, 'accepted');
  assert.ok(r.rttMs >= 110, `rtt ${r.rttMs}`);
});

test('a submit in flight when the node drops resolves at once as disconnected', async () => {
  const node = await startNode();
  node.behaviour.answerSubmits = false;
  const { client } = makeClient([nodeSpec(node)], { requestTimeoutMs: 20_000 });
  const done = subscribed(client);
  client.start();
  await done;
  const got = nextJob(client);
  node.newJob();
  const [job] = await got;
  const seen = waitForEvent(node, 'submit');
  const pending = client.submit(job, 2n);
  await seen;
  node.dropConnections();
  const r = await withTimeout(pending, 2000, 'the in-flight submit to settle after the drop');
  assert.equal(r.status, 'disconnected');
  assert.equal(r.notSent, undefined, 'it was written: the node may have it');
  const unsent = await client.submit(job, 4n);
  assert.equal(unsent.status, 'disconnected', 'no connection: at once');
  assert.equal(unsent.notSent, true, 'nothing was written: a resubmit of it is its first');
});

// ---------------------------------------------------------------------------------------------
// Late verdicts: a reply after the timeout still reaches the submitter (bounded)

/** A node that re-sends its job every 50 ms, as a real one does every 60 s: never silent, so never presumed half-open. */
function keepTalking(c: MiniConn): void {
  const line = `{ "id": 17, "method": "mining.notify", "params": ["0x${HASH}", "1", "0x${HASH}","0xff"] }\n`;
  const timer = setInterval(() => c.send(line), 50);
  c.socket.once('close', () => clearInterval(timer));
}

/** The submits the client wrote on `c` so far (request ids and nonces). */
function submitsOn(c: MiniConn): { id: number; nonce: string }[] {
  return c.lines.map((l) => JSON.parse(l) as { id: number; method: string; params: string[] })
    .filter((m) => m.method === 'mining.submit').map((m) => ({ id: m.id, nonce: m.params[2]! }));
}

async function lateClient(extra: Partial<StratumClientOptions> = {}): Promise<{ client: StratumClient; c: MiniConn; server: MiniServer; logger: MemoryLogger }> {
  const server = await MiniServer.start();
  const { client, logger } = makeClient([server.spec], { requestTimeoutMs: 200, ...extra });
  const done = subscribed(client);
  client.start();
  const c = await server.acceptSubscribe();
  await done;
  keepTalking(c);
  return { client, c, server, logger };
}

test('a verdict after the timeout goes to onLate once, with the time since the send; a second reply is only counted', async () => {
  const { client, c, logger } = await lateClient();
  const late: SubmitResult[] = [];
  const r = await withTimeout(client.submit(fakeJob(), 2n, (l) => late.push(l)), 3000, 'the submit to time out');
  assert.equal(r.status, 'timeout');
  const [req] = submitsOn(c);
  c.send(`{"jsonrpc":"2.0","result":[false,"Incorrect Nonce! worker_id = rig1!"],"id":${req!.id}}\n`);
  await waitFor(() => late.length === 1, 3000, 'the late verdict');
  assert.equal(late[0]!.status, 'rejected');
  assert.equal(late[0]!.reason, 'Incorrect Nonce! worker_id = rig1!');
  assert.ok(late[0]!.rttMs >= r.rttMs, `late rtt ${late[0]!.rttMs} ms is from the send, past the timeout (${r.rttMs} ms)`);
  c.send(`{"jsonrpc":"2.0","result":[true],"id":${req!.id}}\n`);
  await waitFor(() => client.stats.lateReplies === 1, 3000, 'the second reply to be counted');
  assert.equal(late.length, 1, 'one verdict per submit');
  assert.deepEqual([client.stats.lateVerdicts, client.stats.timeouts, client.stats.lateForgotten], [1, 1, 0]);
  assert.ok(logger.lines.some((l) => new RegExp(`late reply to mining\\.submit \\(id ${req!.id}\\)`).test(l.msg)));
  assert.equal(client.state, 'subscribed');
});

test(`timed-out submits kept for a late verdict are capped at ${MAX_TIMED_OUT_KEPT}: the oldest is forgotten first`, async () => {
  const { client, c } = await lateClient({ requestTimeoutMs: 300 });
  const n = MAX_TIMED_OUT_KEPT + 2;
  const late = new Map<bigint, SubmitResult>();
  const results = await withTimeout(Promise.all(Array.from({ length: n }, (_, i) =>
    client.submit(fakeJob(), BigInt(i), (l) => late.set(BigInt(i), l)))), 10_000, `${n} submits to time out`);
  assert.ok(results.every((r) => r.status === 'timeout'));
  assert.equal(client.stats.lateForgotten, 2, 'two over the cap');
  const reqs = submitsOn(c);
  assert.equal(reqs.length, n);
  c.send(reqs.map((q) => `{"jsonrpc":"2.0","result":[true],"id":${q.id}}\n`).join(''));
  await waitFor(() => client.stats.lateVerdicts + client.stats.lateReplies === n, 5000, 'every late reply');
  assert.equal(client.stats.lateVerdicts, MAX_TIMED_OUT_KEPT);
  assert.equal(client.stats.lateReplies, 2);
  // Requests time out in the order they were sent: the first two (nonces 0 and 1) were pushed out.
  assert.deepEqual([late.has(0n), late.has(1n), late.has(2n), late.has(BigInt(n - 1))], [false, false, true, true]);
  assert.ok([...late.values()].every((l) => l.status === 'accepted'));
});

test('a timed-out submit waits for its late verdict only within the window, then it is forgotten', async () => {
  const { client, c } = await lateClient({ lateReplyWindowMs: 100 });
  const late: SubmitResult[] = [];
  assert.equal((await client.submit(fakeJob(), 2n, (l) => late.push(l))).status, 'timeout');
  await waitFor(() => client.stats.lateForgotten === 1, 3000, 'the window to pass');
  const [req] = submitsOn(c);
  c.send(`{"jsonrpc":"2.0","result":[true],"id":${req!.id}}\n`);
  await waitFor(() => client.stats.lateReplies === 1, 3000, 'the reply to be counted');
  assert.deepEqual(late, [], 'too late: the submit stays timed out');
  assert.equal(client.stats.lateVerdicts, 0);
});

test('a timed-out submit is forgotten with its connection: the same id on the next connection is no verdict', async () => {
  const { client, c, server } = await lateClient();
  const late: SubmitResult[] = [];
  assert.equal((await client.submit(fakeJob(), 2n, (l) => late.push(l))).status, 'timeout');
  const [req] = submitsOn(c);
  const again = subscribed(client);
  c.socket.destroy();
  const c2 = await server.acceptSubscribe(1);
  await again;
  assert.equal(client.stats.lateForgotten, 1, 'forgotten when its connection closed');
  c2.send(`{"jsonrpc":"2.0","result":[true],"id":${req!.id}}\n`);
  await waitFor(() => client.stats.lateReplies === 1, 3000, 'the reply to be counted');
  assert.deepEqual(late, []);
  // Ids never restart: the new connection's requests carry new ones.
  const sub2 = JSON.parse(c2.lines[0]!) as { id: number };
  assert.ok(sub2.id > req!.id, `subscribe id ${sub2.id} after submit id ${req!.id}`);
});

test('without onLate a timed-out submit is not kept', async () => {
  const { client, c } = await lateClient();
  assert.equal((await client.submit(fakeJob(), 2n)).status, 'timeout');
  const [req] = submitsOn(c);
  c.send(`{"jsonrpc":"2.0","result":[true],"id":${req!.id}}\n`);
  await waitFor(() => client.stats.lateReplies === 1, 3000, 'the reply to be counted');
  assert.deepEqual([client.stats.lateVerdicts, client.stats.lateForgotten], [0, 0]);
});

// ---------------------------------------------------------------------------------------------
// Reconnect, failover, half-open

test('the node drops the connection: reconnect with backoff and subscribe again', async () => {
  const node = await startNode();
  const { client, states } = makeClient([nodeSpec(node)]);
  let done = subscribed(client);
  client.start();
  await done;
  done = subscribed(client);
  node.dropConnections();
  await done;
  assert.equal(node.stats.subscribes, 2);
  const seq = states.map((s) => s.state);
  assert.deepEqual(seq, ['connecting', 'connected', 'subscribed', 'disconnected', 'backoff', 'connecting', 'connected', 'subscribed']);
  const backoff = states.find((s) => s.state === 'backoff')!;
  assert.equal(backoff.delayMs, 10);
  // Jobs still flow on the new connection.
  const got = nextJob(client);
  node.newJob();
  await got;
});

test('backoff doubles per failed attempt up to the maximum, with jitter only ever shortening it', async () => {
  const port = await closedPort();
  const { client } = makeClient([{ host: '127.0.0.1', port }], { backoff: { initialMs: 5, maxMs: 40, jitter: 0 } });
  const delays: number[] = [];
  client.on('state', (s) => { if (s.state === 'backoff') delays.push(s.delayMs!); });
  client.start();
  await waitFor(() => delays.length >= 6, 5000, 'six backoffs');
  assert.deepEqual(delays.slice(0, 6), [5, 10, 20, 40, 40, 40]);
  await client.close();

  const { client: jittered } = makeClient([{ host: '127.0.0.1', port }], { backoff: { initialMs: 100, maxMs: 100, jitter: 0.5 }, random: () => 1 });
  const first = waitForEvent<[StateChange]>(jittered, 'state', { filter: (s) => s.state === 'backoff' });
  jittered.start();
  assert.equal((await first)[0].delayMs, 50);
});

test('the backoff resets after a successful subscribe', async () => {
  const server = await MiniServer.start();
  const { client } = makeClient([server.spec], { backoff: { initialMs: 5, maxMs: 1000, jitter: 0 } });
  const delays: number[] = [];
  client.on('state', (s) => { if (s.state === 'backoff') delays.push(s.delayMs!); });
  client.start();
  // Two failed attempts (closed before subscribe), then a success, then a drop.
  (await server.connection(0)).socket.destroy();
  (await server.connection(1)).socket.destroy();
  const done = subscribed(client);
  const c = await server.acceptSubscribe(2);
  await done;
  c.socket.destroy();
  await server.connection(3);
  assert.deepEqual(delays, [5, 10, 5]);
});

test('failover to the second host, then back to the first once it answers', async () => {
  const a = await startNode();
  const b = await startNode();
  const { client, logger } = makeClient([nodeSpec(a), nodeSpec(b)]);
  let done = subscribed(client, 0);
  client.start();
  await done;

  const failover = waitForEvent(client, 'failover');
  done = subscribed(client, 1);
  await a.stopListening();
  a.dropConnections();
  await failover;
  await done;
  assert.equal(client.endpoint.port, b.port);
  // Jobs come from B now.
  let got = nextJob(client);
  b.newJob();
  assert.equal((await got)[1].port, b.port);

  const failback = waitForEvent(client, 'failback');
  done = subscribed(client, 0);
  await a.listen();
  await failback;
  await done;
  assert.equal(client.endpoint.port, a.port);
  assert.equal(client.endpoint.hostIndex, 0);
  await waitFor(() => b.connectionCount === 0, 3000, 'the connection to B to close');
  got = nextJob(client);
  a.newJob();
  assert.equal((await got)[1].port, a.port);
  assert.ok(logger.lines.some((l) => /answers again/.test(l.msg)));
});

test('failover when the first host is down from the start', async () => {
  const port = await closedPort();
  const b = await startNode();
  const { client } = makeClient([{ host: '127.0.0.1', port }, nodeSpec(b)], { primaryProbeIntervalMs: 60_000 });
  const done = subscribed(client, 1);
  client.start();
  await done;
  assert.equal(client.endpoint.port, b.port);
});

test('the return to the first host waits for a submit in flight', async () => {
  const a = await startNode();
  const b = await startNode();
  b.behaviour.submitDelayMs = 200;
  const { client } = makeClient([nodeSpec(a), nodeSpec(b)]);
  let done = subscribed(client, 0);
  client.start();
  await done;
  await a.stopListening();
  done = subscribed(client, 1);
  a.dropConnections();
  await done;
  const got = nextJob(client);
  b.newJob();
  const [job] = await got;
  const seen = waitForEvent(b, 'submit');
  const pending = client.submit(job, 2n);
  await seen;
  const failback = waitForEvent(client, 'failback');
  await a.listen();
  await failback;
  assert.equal((await pending).status, 'accepted', 'the submit was not cut short by the switch');
  await subscribed(client, 0);
});

test('half-open: a node that goes silent is dropped after the idle timeout', async () => {
  const node = await startNode();
  const { client, logger } = makeClient([nodeSpec(node)], { idleTimeoutMs: 200, requestTimeoutMs: 150 });
  let done = subscribed(client);
  client.start();
  await done;
  const lost = waitForEvent<[StateChange]>(client, 'state', { filter: (s) => s.state === 'disconnected' });
  node.behaviour.silent = true;
  const [change] = await lost;
  assert.match(change.reason ?? '', /no data for 200 ms/);
  assert.ok(logger.lines.some((l) => /half-open/.test(l.msg)));
  done = subscribed(client);
  node.behaviour.silent = false;
  await done;
});

test('data keeps an idle connection alive (the node\'s periodic re-send)', async () => {
  const node = await startNode({ resendIntervalMs: 40 });
  const { client, states } = makeClient([nodeSpec(node)], { idleTimeoutMs: 1_000 });
  const done = subscribed(client);
  client.start();
  await done;
  node.newJob();
  // Thirty re-sends take at least 1.2 s (timers never fire early), past the idle timeout: the
  // connection must stay. Only a stall of the whole process for a second could drop it.
  let resends = 0;
  await new Promise<void>((resolve) => {
    const onJob = (): void => { if (++resends >= 30) { client.off('job', onJob); resolve(); } };
    client.on('job', onJob);
  });
  assert.ok(!states.some((s) => s.state === 'disconnected'));
});

// ---------------------------------------------------------------------------------------------
// Hostile and awkward streams

test('messages split into tiny TCP writes still arrive whole', async () => {
  const node = await startNode();
  node.behaviour.chunking = 'split';
  const { client } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  const jobs = recordEvents<[Job]>(client, 'job');
  const sent = [node.newJob(), node.newJob(), node.newJob()];
  await waitFor(() => jobs.events.length === 3, 5000, 'three jobs');
  assert.deepEqual(jobs.events.map(([j]) => j.jobId), sent.map((j) => j.jobId));
  const r = await client.submit(jobs.events[2]![0], 2n);
  assert.equal(r.status, 'accepted');
});

test('several messages merged into one write all arrive', async () => {
  const node = await startNode();
  node.behaviour.chunking = 'merge';
  const { client } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  const jobs = recordEvents<[Job]>(client, 'job');
  const sent = [node.newJob(), node.newJob(), node.newJob(), node.newJob()];
  await waitFor(() => jobs.events.length === 4, 3000, 'four jobs');
  assert.deepEqual(jobs.events.map(([j]) => j.jobId), sent.map((j) => j.jobId));
});

test('garbage among valid lines: the connection survives, jobs arrive, logs are rate-limited', async () => {
  const node = await startNode();
  const { client, logger, states } = makeClient([nodeSpec(node)], { badLineLog: { limit: 3, windowMs: 60_000 } });
  const done = subscribed(client);
  client.start();
  await done;
  const jobs = recordEvents<[Job]>(client, 'job');
  const bad = recordEvents(client, 'bad-line');
  node.sendGarbage();
  const j1 = node.newJob();
  node.sendGarbage();
  node.sendRaw(`${'x'.repeat(70 * 1024)}\n`);
  const j2 = node.newJob();
  await waitFor(() => jobs.events.length === 2, 3000, 'two jobs among the garbage');
  assert.deepEqual(jobs.events.map(([j]) => j.jobId), [j1.jobId, j2.jobId]);
  // 10 garbage lines twice, minus one valid-looking late reply each time, plus the long line.
  assert.equal(bad.events.length, 19);
  assert.equal(client.stats.lateReplies, 2);
  const badLogs = logger.lines.filter((l) => /ignored a bad line/.test(l.msg));
  assert.equal(badLogs.length, 3);
  assert.ok(badLogs.every((l) => !l.msg.includes('\n') && l.msg.length < 400));
  assert.equal(client.stats.badLinesSuppressed, 16);
  assert.ok(!states.some((s) => s.state === 'disconnected'));
  assert.equal((await client.submit(jobs.events.at(-1)![0], 2n)).status, 'accepted');
  await client.close();
  assert.ok(logger.lines.some((l) => /16 more bad lines from the node were not logged/.test(l.msg)));
});

test('a listener that throws does not break the connection', async () => {
  const node = await startNode();
  const { client, logger } = makeClient([nodeSpec(node)]);
  const done = subscribed(client);
  client.start();
  await done;
  client.once('job', () => { throw new Error('engine bug'); });
  node.newJob();
  await waitFor(() => logger.lines.some((l) => /engine bug/.test(l.msg)), 3000, 'the error log');
  const got = nextJob(client);
  node.newJob();
  await got;
});

// ---------------------------------------------------------------------------------------------
// close()

test('close() while connected, in backoff and before start leaves no handle behind', async () => {
  const before = activeHandles().length;
  const node = await startNode({ resendIntervalMs: 1000 });
  const { client } = makeClient([nodeSpec(node)], { idleTimeoutMs: 60_000 });
  const done = subscribed(client);
  client.start();
  await done;
  await client.close();
  assert.equal(client.state, 'closed');

  const port = await closedPort();
  const { client: c2 } = makeClient([{ host: '127.0.0.1', port }], { backoff: { initialMs: 5000, maxMs: 5000, jitter: 0 } });
  const inBackoff = waitForEvent<[StateChange]>(c2, 'state', { filter: (s) => s.state === 'backoff' });
  c2.start();
  await inBackoff;
  await c2.close();

  const { client: c3 } = makeClient([{ host: '127.0.0.1', port }]);
  await c3.close();
  await node.close();
  // Closed sockets release their handles on the next turn of the loop.
  await waitFor(() => activeHandles().length <= before, 2000, `handles back to ${before}`)
    .catch((err: Error) => { throw new Error(`${err.message}; still open: ${activeHandles().join(', ')}`); });
});

test('a process using the client and the test node ends by itself after close()', async () => {
  const script = `
    import { StratumClient } from ${JSON.stringify(path.join(here, '..', 'src', 'stratum', 'client.js'))};
    import { TestNode } from ${JSON.stringify(path.join(here, 'support', 'test-node.js'))};
    import { MemoryLogger } from ${JSON.stringify(path.join(here, 'support', 'memory-logger.js'))};
    const node = await TestNode.start({ verifier: { verify: async () => ({ valid: true }) }, resendIntervalMs: 50, jobIntervalMs: 100 });
    const client = new StratumClient({ hosts: [{ host: node.host, port: node.port }, { host: '127.0.0.1', port: 1 }],
      worker: 'w', password: '', logger: new MemoryLogger(), primaryProbeIntervalMs: 10 });
    client.start();
    const job = await new Promise((resolve) => client.once('job', resolve));
    const r = await client.submit(job, 1n);
    await client.close();
    await node.close();
    process.stdout.write(r.status + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { errText += d.toString(); });
  const exited = waitForEvent<[number | null]>(child, 'exit', { timeoutMs: 10_000, what: 'the child process to exit by itself' });
  try {
    const [code] = await exited;
    assert.equal(code, 0, errText);
    assert.equal(out.trim(), 'accepted');
  } finally {
    child.kill();
  }
});

// ---------------------------------------------------------------------------------------------
// Host specs

test('parseHostSpec accepts the usual forms', () => {
  assert.deepEqual(parseHostSpec('node.example.org'), { host: 'node.example.org', port: 32525 });
  assert.deepEqual(parseHostSpec('127.0.0.1:1234'), { host: '127.0.0.1', port: 1234 });
  assert.deepEqual(parseHostSpec('  localhost:65535 '), { host: 'localhost', port: 65535 });
  assert.deepEqual(parseHostSpec('stratum+tcp://10.0.0.2:32526'), { host: '10.0.0.2', port: 32526 });
  assert.deepEqual(parseHostSpec('STRATUM+TCP://host/'), { host: 'host', port: 32525 });
  assert.deepEqual(parseHostSpec('[::1]:4000'), { host: '::1', port: 4000 });
  assert.deepEqual(parseHostSpec('[fe80::1]'), { host: 'fe80::1', port: 32525 });
  assert.deepEqual(parseHostSpec('::1'), { host: '::1', port: 32525 });
  assert.deepEqual(parseHostSpec('h', 1), { host: 'h', port: 1 });
  assert.equal(formatHost({ host: '::1', port: 5 }), '[::1]:5');
  assert.equal(formatHost({ host: 'a.b', port: 5 }), 'a.b:5');
});

test('parseHostSpec rejects bad specs with a one-line UsageError', () => {
  const bad = ['', ':123', 'host:', 'host:0', 'host:65536', 'host:12ab', 'host:-1', 'a:b:c', '[::1', '[nothost]:1',
    'http://host:1', 'stratum+ssl://host:1', 'ho st:1', 'host/path:1', '[::1]:99999'];
  for (const spec of bad) {
    assert.throws(() => parseHostSpec(spec), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${spec}: ${String(err)}`);
      assert.equal(err.exitCode, 2);
      assert.ok(!err.message.includes('\n'));
      return true;
    }, spec);
  }
  assert.throws(() => parseHostSpec('stratum+ssl://node:32525'), /TLS is not supported/);
  assert.throws(() => parseHostSpec('stratum+tcp://user:hunter2@host:1'), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.ok(!err.message.includes('hunter2'), 'credentials are never echoed');
    return true;
  });
});

test('constructor and start() reject misuse', () => {
  assert.throws(() => new StratumClient({ hosts: [], worker: 'w', password: '', logger: new MemoryLogger() }), UsageError);
  assert.throws(() => new StratumClient({ hosts: [{ host: 'h', port: 1 }], worker: 'w', password: '', logger: new MemoryLogger(), requestTimeoutMs: 0 }), RangeError);
});
