// Property tests of everything a node can send: random and mutated lines, lines around the
// length bound, arbitrary chunk boundaries. Nothing may throw, and every valid line in a hostile
// stream must still come through, in order. An independent oracle says which notifies are valid.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryLogger } from './support/memory-logger.js';
import { TWO_POW_256 } from '../src/miner/job.js';
import { U256_MAX } from '../src/hex.js';
import { limits } from '../src/native/index.js';
import type { Job } from '../src/miner/job.js';
import type { ResponseMessage } from '../src/stratum/messages.js';
import { interpretSubmitReply, interpretSubscribeReply, parseLine } from '../src/stratum/messages.js';
import { StratumClient } from '../src/stratum/client.js';
import { TestNode } from './support/test-node.js';
import { waitFor, waitForEvent } from './support/wait.js';

const MAX_LINE = 2048;
// node:test prints an error's message, not its cause: put the failing assertion in the message.
fc.configureGlobal({ includeErrorInReport: true });
/** Replays a failure: FC_SEED=<seed> FC_PATH=<path> node --test dist/test/protocol-fuzz.test.js */
const replay = process.env['FC_SEED'] === undefined ? {}
  : { seed: Number(process.env['FC_SEED']), path: process.env['FC_PATH'], endOnFailure: true };

// ---------------------------------------------------------------------------------------------
// The oracle: a second, deliberately plain reading of PROTOCOL.md.

interface Expected { jobId: string; height: number | undefined; powHash: string; boundary: bigint }

function oracleHex(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(?:0[xX])?([0-9a-fA-F]+)$/.exec(v);
  return m ? m[1]! : undefined;
}

function oracleNotify(params: unknown): Expected | undefined {
  if (!Array.isArray(params) || (params.length !== 3 && params.length !== 4)) return undefined;
  const four = params.length === 4;
  const [j, h, p, b] = four ? params : [params[0], undefined, params[1], params[2]];
  const job = oracleHex(j);
  const pow = oracleHex(p);
  const bound = oracleHex(b);
  if (job === undefined || job.length > 128 || pow === undefined || pow.length !== 64 || bound === undefined) return undefined;
  const boundary = BigInt(`0x${bound}`);
  if (boundary < 1n || boundary > U256_MAX) return undefined;
  let height: number | undefined;
  if (four) {
    if (typeof h === 'string' && /^[0-9]+$/.test(h) && BigInt(h) <= BigInt(limits().maxHeight)) height = Number(h);
    else if (typeof h === 'number' && Number.isInteger(h) && h >= 0 && h <= limits().maxHeight) height = h;
    else return undefined;
  }
  return { jobId: `0x${job.toLowerCase()}`, height, powHash: pow.toLowerCase(), boundary };
}

function oracleLine(line: string): Expected | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (o['method'] !== 'mining.notify') return undefined;
  const id = o['id'];
  if (id !== undefined && id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) return undefined;
  return oracleNotify(o['params']);
}

// ---------------------------------------------------------------------------------------------
// Generators

const hexDigits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });

const validParams = fc.record({
  jobId: hexDigits(64, 64),
  height: fc.oneof(fc.nat({ max: 10_000_000 }), fc.constant(limits().maxHeight)),
  powHash: hexDigits(64, 64),
  boundary: fc.bigInt({ min: 1n, max: U256_MAX }),
  threeParams: fc.boolean(),
  numericHeight: fc.boolean(),
}).map((r) => {
  const height: unknown = r.numericHeight ? r.height : String(r.height);
  const b = `0x${r.boundary.toString(16)}`;
  return r.threeParams ? [`0x${r.jobId}`, `0x${r.powHash}`, b] : [`0x${r.jobId}`, height, `0x${r.powHash}`, b];
});

const nested = fc.integer({ min: 1, max: 3000 }).map((d) => JSON.parse(`${'['.repeat(d)}${']'.repeat(d)}`) as unknown);

/** A replacement for one field: wrong types, lengths, huge numbers, odd strings. */
const badField: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hexDigits(0, 70).map((h) => `0x${h}`),
  hexDigits(1, 80),
  fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }).map((n) => n.toString()),
  fc.bigInt({ min: 0n, max: 1n << 300n }).map((n) => `0x${n.toString(16)}`),
  fc.constantFrom('0x0', '0x', '', '-1', '1.5', '1e3', ' 1', '0x-1', 'NaN', '0xg', '\u0000', '９'),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, -1, 1e308, -0),
  fc.string({ maxLength: 200 }),
  nested,
);

const mutatedParams: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(validParams, fc.nat(), badField).map(([p, i, v]) => p.map((x, j) => (j === i % p.length ? v : x))),
  fc.tuple(validParams, fc.nat()).map(([p, i]) => p.filter((_, j) => j !== i % p.length)),
  fc.tuple(validParams, badField).map(([p, v]) => [...p, v]),
  badField,
);

const notifyObject = fc.record({
  params: fc.oneof({ weight: 1, arbitrary: validParams }, { weight: 3, arbitrary: mutatedParams }),
  id: fc.oneof(fc.constant(17), fc.nat(), fc.constant(null), fc.string({ maxLength: 5 }), fc.constant(undefined), fc.constant({}), fc.double()),
  extra: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })),
  jsonrpc: fc.boolean(),
}).map(({ params, id, extra, jsonrpc }) => {
  const obj: Record<string, unknown> = { ...(extra ?? {}) };
  if (jsonrpc) obj['jsonrpc'] = '2.0';
  obj['method'] = 'mining.notify';
  obj['params'] = params;
  if (id !== undefined) obj['id'] = id;
  return obj;
});

// Pretty-printing deep nesting grows quadratically; keep the spaced form for ordinary sizes.
const notifyLine: fc.Arbitrary<string> = fc.tuple(notifyObject, fc.boolean()).map(([o, spaced]) => {
  const compact = JSON.stringify(o);
  return spaced && compact.length < 4096 ? JSON.stringify(o, null, 1).replace(/\n/g, ' ') : compact;
});

/** Lines that are not one newline-free message, or are replies and other objects. */
const hostileLine: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.tuple(notifyLine, fc.nat()).map(([l, cut]) => l.slice(0, cut % (l.length + 1))),
  fc.record({ id: fc.jsonValue({ maxDepth: 1 }), result: fc.jsonValue({ maxDepth: 2 }), error: fc.option(fc.jsonValue({ maxDepth: 2 })) }).map((o) => JSON.stringify(o)),
  fc.integer({ min: MAX_LINE - 4, max: MAX_LINE + 4 }).map((n) => `{"id":1,"result":"${'x'.repeat(Math.max(0, n - 17))}"}`),
  fc.integer({ min: MAX_LINE + 1, max: MAX_LINE * 3 }).map((n) => 'y'.repeat(n)),
  nested.map((v) => JSON.stringify(v)),
).map((l) => l.replace(/[\r\n]/g, ' '));

const streamLine = fc.oneof({ weight: 2, arbitrary: notifyLine }, { weight: 3, arbitrary: hostileLine });

// ---------------------------------------------------------------------------------------------
// Properties

test('parseLine never throws and agrees with the oracle on every notify', () => {
  fc.assert(fc.property(fc.oneof(notifyLine, hostileLine), (line) => {
    const parsed = parseLine(line, 1);
    const expected = oracleLine(line);
    if (expected === undefined) {
      assert.notEqual(parsed.kind, 'notify', `accepted a notify the oracle rejects: ${line.slice(0, 200)}`);
      return;
    }
    assert.equal(parsed.kind, 'notify', `rejected a valid notify (${parsed.kind === 'invalid' ? parsed.reason : parsed.kind}): ${line.slice(0, 200)}`);
    if (parsed.kind !== 'notify') return;
    const { job } = parsed;
    assert.equal(job.jobId, expected.jobId);
    assert.equal(job.height, expected.height);
    assert.equal(job.powHash.toString('hex'), expected.powHash);
    assert.equal(job.boundary, expected.boundary);
    assert.equal(job.difficulty, TWO_POW_256 / expected.boundary);
  }), { numRuns: 2500, ...replay });
});

test('reply interpretation never throws on any result or error value', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), fc.option(fc.jsonValue({ maxDepth: 3 })), (result, error) => {
    const line = JSON.stringify(error === null ? { id: 1, result } : { id: 1, result, error });
    const parsed = parseLine(line);
    if (parsed.kind !== 'response') return;
    const reply = parsed as ResponseMessage;
    const sub = interpretSubscribeReply(reply);
    const verdict = interpretSubmitReply(reply);
    const head = Array.isArray(result) ? result[0] : result;
    if (reply.error) {
      assert.equal(verdict.kind, 'error');
      assert.equal(sub.kind, 'error');
    } else if (head === true || head === 'true') {
      assert.equal(verdict.kind, 'accepted');
    } else if (head === false || head === 'false') {
      assert.equal(verdict.kind, 'rejected');
    } else {
      assert.equal(verdict.kind, 'invalid');
    }
    if (verdict.kind === 'rejected' && verdict.reason !== undefined) assert.ok(verdict.reason.length <= 200);
  }), { numRuns: 800, ...replay });
});

/** A client that never connects; lines go in through ingest(), as from its socket. */
function detachedClient(logger = new MemoryLogger()): { client: StratumClient; jobs: Job[]; logger: MemoryLogger } {
  const client = new StratumClient({
    hosts: [{ host: '127.0.0.1', port: 9 }], worker: 'w', password: 'pw', logger, maxLineBytes: MAX_LINE,
    badLineLog: { limit: 5, windowMs: 60_000 },
  });
  const jobs: Job[] = [];
  client.on('job', (j) => jobs.push(j));
  return { client, jobs, logger };
}

test('a hostile stream cut anywhere: valid notifies all arrive, in order; nothing throws', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(streamLine, { minLength: 1, maxLength: 25 }),
    fc.array(fc.nat(), { maxLength: 25 }),
    fc.boolean(),
    async (lines, cuts, crlf) => {
      const { client, jobs, logger } = detachedClient();
      const data = Buffer.from(lines.map((l) => `${l}${crlf ? '\r\n' : '\n'}`).join(''), 'utf8');
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      let prev = 0;
      for (const p of [...points, data.length]) {
        client.ingest(data.subarray(prev, p));
        prev = p;
      }
      const expected = lines
        .filter((l) => Buffer.byteLength(l) <= MAX_LINE)
        .map(oracleLine)
        .filter((e): e is Expected => e !== undefined);
      assert.deepEqual(jobs.map((j) => [j.jobId, j.height, j.boundary]), expected.map((e) => [e.jobId, e.height, e.boundary]));
      const stats = client.stats;
      assert.ok(stats.badLinesLogged <= 5, 'rate limit holds');
      assert.equal(stats.badLinesLogged + stats.badLinesSuppressed, stats.badLines);
      assert.ok(logger.lines.every((l) => !l.msg.includes('\n') && l.msg.length < 600), 'one short line per log');
      assert.ok(!logger.lines.some((l) => /internal error/.test(l.msg)), 'no handler crashed');
      await client.close();
    }), { numRuns: 400, ...replay });
});

test('lines at and around the length bound', () => {
  const { client, jobs } = detachedClient();
  const valid = (pad: number): string => {
    const h = 'ab'.repeat(32);
    const base = `{"method":"mining.notify","params":["0x${h}","1","0x${h}","0xff"],"pad":"`;
    return `${base}${'p'.repeat(pad - base.length - 2)}"}`;
  };
  for (const len of [MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE * 4]) {
    const line = valid(len);
    assert.equal(Buffer.byteLength(line), len);
    client.ingest(`${line}\r\n`);
  }
  assert.equal(jobs.length, 2, 'exactly the lines within the bound');
  assert.equal(client.stats.badLines, 2);
  void client.close();
});

const nodes: TestNode[] = [];
const clients: StratumClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.close()));
});

test('over a real socket in random tiny writes: hostile streams, then a sentinel job', async () => {
  const node = await TestNode.start({ verifier: { verify: async () => ({ valid: true }) } });
  nodes.push(node);
  node.behaviour.chunking = 'split';
  const logger = new MemoryLogger();
  const client = new StratumClient({ hosts: [{ host: node.host, port: node.port }], worker: 'w', password: '', logger, maxLineBytes: MAX_LINE });
  clients.push(client);
  const jobs: Job[] = [];
  client.on('job', (j) => jobs.push(j));
  const ready = waitForEvent(client, 'subscribed');
  client.start();
  await ready;
  let subscribes = 1;
  client.on('subscribed', () => subscribes++);
  // Lines past 3x the bound add nothing here and cost thousands of tiny writes each.
  const socketLine = streamLine.filter((l) => Buffer.byteLength(l) <= MAX_LINE * 3);
  await fc.assert(fc.asyncProperty(fc.array(socketLine, { minLength: 1, maxLength: 10 }), async (lines) => {
    const before = jobs.length;
    node.sendRaw(lines.map((l) => `${l}\n`).join(''));
    const sentinel = node.newJob();
    await waitFor(() => jobs.at(-1)?.jobId === sentinel.jobId, 5000, 'the sentinel job').catch((err: Error) => {
      throw new Error(`${err.message}: state ${client.state}, ${jobs.length - before} jobs since, stats ${JSON.stringify(client.stats)}, line bytes ${lines.map((l) => Buffer.byteLength(l)).join(',')}`);
    });
    const expected = lines.filter((l) => Buffer.byteLength(l) <= MAX_LINE).map(oracleLine).filter((e) => e !== undefined);
    assert.deepEqual(jobs.slice(before, -1).map((j) => j.jobId), expected.map((e) => e.jobId));
  }), { numRuns: 25, ...replay });
  assert.equal(subscribes, 1, 'the connection survived every stream');
  assert.equal(client.state, 'subscribed');
});
