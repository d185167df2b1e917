import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvalidLine, NotifyMessage, ParsedLine, ResponseMessage } from '../src/stratum/messages.js';
import {
  buildSubmit, buildSubscribe, clip, interpretSubmitReply, interpretSubscribeReply, parseLine,
} from '../src/stratum/messages.js';
import {
  TWO_POW_256, boundaryFromDifficulty, createJob, difficultyFromBoundary, formatDifficulty, sameWork, shortJobId,
} from '../src/miner/job.js';
import { U256_MAX } from '../src/hex.js';
import { limits } from '../src/native/index.js';

const HASH = 'ab'.repeat(32);
const HASH2 = '0123456789abcdef'.repeat(4);

function notifyLine(params: unknown): string {
  return `{ "id": 17, "method": "mining.notify", "params": ${JSON.stringify(params)} }`;
}

function asNotify(p: ParsedLine): NotifyMessage {
  assert.equal(p.kind, 'notify', p.kind === 'invalid' ? p.reason : p.kind);
  return p as NotifyMessage;
}

function asInvalid(p: ParsedLine, reasonPart?: RegExp): InvalidLine {
  assert.equal(p.kind, 'invalid', `expected invalid, got ${p.kind}`);
  const inv = p as InvalidLine;
  if (reasonPart) assert.match(inv.reason, reasonPart);
  assert.ok(!inv.reason.includes('\n'), 'a reason is one line');
  assert.ok(inv.reason.length < 200, 'a reason is short');
  return inv;
}

function asResponse(line: string): ResponseMessage {
  const p = parseLine(line);
  assert.equal(p.kind, 'response', p.kind === 'invalid' ? p.reason : p.kind);
  return p as ResponseMessage;
}

// ---------------------------------------------------------------------------------------------
// notify

test('the real node\'s 4-param notify (spaces, id 17, no jsonrpc field)', () => {
  const line = `{ "id": 17, "method": "mining.notify", "params": ["0x${HASH}", "1234", "0x${HASH}","0x1fffff"] }`;
  const n = asNotify(parseLine(line, 42.5));
  assert.equal(n.paramCount, 4);
  assert.equal(n.id, 17);
  assert.equal(n.job.jobId, `0x${HASH}`);
  assert.equal(n.job.height, 1234);
  assert.deepEqual(n.job.powHash, Buffer.from(HASH, 'hex'));
  assert.equal(n.job.boundary, 0x1fffffn);
  assert.equal(n.job.difficulty, TWO_POW_256 / 0x1fffffn);
  assert.equal(n.job.receivedAt, 42.5);
});

test('the design note\'s 3-param notify has no height', () => {
  const line = `{"jsonrpc":"2.0","method":"mining.notify","params":["0x${HASH}","0x${HASH2}","0x1a4e3422948568210f3ab3f34673f1d17198625ec175a9c"],"id":3}`;
  const n = asNotify(parseLine(line));
  assert.equal(n.paramCount, 3);
  assert.equal(n.job.height, undefined);
  assert.deepEqual(n.job.powHash, Buffer.from(HASH2, 'hex'));
  assert.equal(n.job.boundary, 0x1a4e3422948568210f3ab3f34673f1d17198625ec175a9cn);
});

test('notify normalizes job id case, accepts a numeric height, leading-zero boundary, no id', () => {
  const n = asNotify(parseLine(JSON.stringify({
    method: 'mining.notify', params: [`0X${HASH.toUpperCase()}`, 7, `0x${HASH}`, `0x000000${'f'.repeat(64)}`],
  })));
  assert.equal(n.job.jobId, `0x${HASH}`);
  assert.equal(n.job.height, 7);
  assert.equal(n.job.boundary, U256_MAX);
  assert.equal(n.job.difficulty, 1n);
  assert.equal(n.id, undefined);
  assert.equal(typeof n.job.receivedAt, 'number');
});

test('notify heights at the edges', () => {
  const ok = (h: unknown): number | undefined => asNotify(parseLine(notifyLine([`0x${HASH}`, h, `0x${HASH}`, '0xff']))).job.height;
  assert.equal(ok('0'), 0);
  assert.equal(ok('0000123'), 123);
  // The one height rule (native/limits.ts): up to the core's limit, as the CLI and config take it.
  const max = limits().maxHeight;
  assert.equal(ok(String(max)), max);
  assert.equal(ok(max), max);
  for (const past of [String(max + 1), max + 1, String(Number.MAX_SAFE_INTEGER), '9'.repeat(30)]) {
    assert.match(asInvalid(parseLine(notifyLine([`0x${HASH}`, past, `0x${HASH}`, '0xff']))).reason, /height is larger than/, String(past));
  }
});

test('every invalid notify field gives a typed error naming it', () => {
  const good = [`0x${HASH}`, '1', `0x${HASH}`, '0xff'];
  const withParam = (i: number, v: unknown): unknown[] => good.map((g, j) => (j === i ? v : g));
  const cases: [unknown, RegExp][] = [
    // job id
    [withParam(0, '0xzz'), /job id is not hex/],
    [withParam(0, ''), /job id is not hex/],
    [withParam(0, '0x'), /job id is not hex/],
    [withParam(0, 5), /job id is not hex/],
    [withParam(0, null), /job id is not hex/],
    [withParam(0, `0x${'a'.repeat(129)}`), /job id longer/],
    // height
    [withParam(1, '-5'), /height is not a decimal/],
    [withParam(1, -5), /height is negative/],
    [withParam(1, '1.5'), /height is not a decimal/],
    [withParam(1, 1.5), /not a whole number/],
    [withParam(1, '9007199254740992'), /height is larger than/],
    [withParam(1, '99999999999999999999999999'), /height is larger than/],
    [withParam(1, 1e300), /height is larger than/],
    [withParam(1, '9'.repeat(400)), /height is larger than/],
    [withParam(1, 'abc'), /height is not a decimal/],
    [withParam(1, ''), /height is not a decimal/],
    [withParam(1, ' 12'), /height is not a decimal/],
    [withParam(1, '0x10'), /height is not a decimal/],
    [withParam(1, true), /height is not a number/],
    [withParam(1, null), /height is not a number/],
    [withParam(1, [1]), /height is not a number/],
    // pow hash
    [withParam(2, '0x1234'), /pow hash must be 32 bytes/],
    [withParam(2, `0x${HASH}00`), /pow hash must be 32 bytes/],
    [withParam(2, `0x${'g'.repeat(64)}`), /pow hash is not hex/],
    [withParam(2, {}), /pow hash is not hex/],
    // boundary
    [withParam(3, '0x0'), /boundary is 0/],
    [withParam(3, '0x0000'), /boundary is 0/],
    [withParam(3, `0x1${'0'.repeat(64)}`), /larger than 256 bits/],
    [withParam(3, '0xfg'), /boundary is not hex/],
    [withParam(3, 255), /boundary is not hex/],
    // shape
    [[...good, 'extra'], /expected 4 params/],
    [good.slice(0, 2), /expected 4 params/],
    [[], /expected 4 params/],
    ['0xff', /params is not an array/],
    [{ a: 1 }, /params is not an array/],
    [null, /params is not an array/],
  ];
  for (const [params, reason] of cases) {
    const inv = asInvalid(parseLine(notifyLine(params)), reason);
    assert.equal(inv.method, 'mining.notify', `method is reported for ${JSON.stringify(params)}`);
    assert.equal(inv.id, 17);
  }
  const missing = asInvalid(parseLine('{"id":1,"method":"mining.notify"}'), /params is not an array/);
  assert.equal(missing.method, 'mining.notify');
});

test('3-param notify fields are validated the same way', () => {
  asInvalid(parseLine(notifyLine([`0x${HASH}`, '0x12', '0xff'])), /pow hash must be 32 bytes/);
  asInvalid(parseLine(notifyLine([`0x${HASH}`, `0x${HASH}`, '0x0'])), /boundary is 0/);
  asInvalid(parseLine(notifyLine(['nothex', `0x${HASH}`, '0xff'])), /job id is not hex/);
});

// ---------------------------------------------------------------------------------------------
// lines that are not messages

test('lines that are not one JSON object are bad input, never a throw', () => {
  const cases: [string, RegExp][] = [
    ['[{"id":1,"result":true}]', /array/],
    ['[]', /array/],
    ['42', /not a JSON object \(number\)/],
    ['"true"', /not a JSON object \(string\)/],
    ['null', /not a JSON object \(null\)/],
    ['true', /not a JSON object \(boolean\)/],
    ['{"id":1,"result":', /not JSON/],
    ['not json at all', /not JSON/],
    ['', /not JSON/],
    ['{"id":1,"result":true}{"id":2,"result":true}', /not JSON/],
    ['{}', /neither a request/],
    ['{"jsonrpc":"2.0"}', /neither a request/],
    ['{"id":1}', /without result or error/],
    ['{"id":{"x":1},"result":true}', /bad id/],
    ['{"id":[1],"result":true}', /bad id/],
    ['{"id":1,"method":5}', /method is not a string/],
  ];
  for (const [line, reason] of cases) asInvalid(parseLine(line), reason);
});

test('deeply nested JSON is handled without a throw', () => {
  const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
  asInvalid(parseLine(deep), /array/);
  const deepResult = `{"id":1,"result":[false,${'['.repeat(20000)}${']'.repeat(20000)}]}`;
  const v = interpretSubmitReply(asResponse(deepResult));
  assert.deepEqual(v, { kind: 'rejected', reason: '(array)' });
});

test('other server requests come back as requests', () => {
  const p = parseLine('{"id":5,"method":"mining.set_difficulty","params":[1]}');
  assert.deepEqual(p, { kind: 'request', id: 5, method: 'mining.set_difficulty', params: [1] });
  const sub = parseLine('{"jsonrpc":"2.0","method":"mining.subscribe","params":["w","p"],"id":1}');
  assert.deepEqual(sub, { kind: 'request', id: 1, method: 'mining.subscribe', params: ['w', 'p'] });
});

// ---------------------------------------------------------------------------------------------
// replies

test('subscribe replies: true / "true" ok, false / "false" refused, error objects, junk', () => {
  assert.deepEqual(interpretSubscribeReply(asResponse('{"jsonrpc":"2.0","result":true,"id":1}')), { kind: 'subscribed' });
  assert.deepEqual(interpretSubscribeReply(asResponse('{ "jsonrpc": "2.0", "result": "true", "id": 1 }')), { kind: 'subscribed' });
  assert.deepEqual(interpretSubscribeReply(asResponse('{"jsonrpc":"2.0","result":false,"id":1}')), { kind: 'refused' });
  assert.deepEqual(interpretSubscribeReply(asResponse('{"jsonrpc":"2.0","result":"false","id":1}')), { kind: 'refused' });
  assert.deepEqual(interpretSubscribeReply(asResponse('{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}')),
    { kind: 'error', error: { code: -32601, message: 'Method not found' } });
  for (const r of ['1', '"yes"', 'null', '[true]', '{}']) {
    const o = interpretSubscribeReply(asResponse(`{"id":1,"result":${r}}`));
    assert.equal(o.kind, 'invalid', r);
  }
});

test('submit replies: every accepted and rejected form', () => {
  const verdict = (result: string): ReturnType<typeof interpretSubmitReply> =>
    interpretSubmitReply(asResponse(`{"jsonrpc":"2.0","result":${result},"id":9}`));
  for (const r of ['[true]', '["true"]', 'true', '"true"']) assert.deepEqual(verdict(r), { kind: 'accepted' }, r);
  assert.deepEqual(verdict('[false, "Incorrect Nonce! worker_id = w!"]'), { kind: 'rejected', reason: 'Incorrect Nonce! worker_id = w!' });
  assert.deepEqual(verdict('["false", "invlaid nonce"]'), { kind: 'rejected', reason: 'invlaid nonce' });
  assert.deepEqual(verdict('[false, "Solution for a stale job! worker_id = w"]'), { kind: 'rejected', reason: 'Solution for a stale job! worker_id = w' });
  for (const r of ['[false]', 'false', '"false"', '[false, null]']) assert.deepEqual(verdict(r), { kind: 'rejected', reason: undefined }, r);
  assert.deepEqual(verdict('[false, 12]'), { kind: 'rejected', reason: '12' });
  for (const r of ['[]', 'null', '1', '"maybe"', '{"ok":true}', '[1]']) assert.equal(verdict(r).kind, 'invalid', r);
});

test('submit error objects, malformed ones included, and JSON-RPC 1.0 style "error": null', () => {
  const e = interpretSubmitReply(asResponse('{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":4}'));
  assert.deepEqual(e, { kind: 'error', error: { code: -32602, message: 'Invalid params' } });
  const weird = interpretSubmitReply(asResponse('{"error":"boom\\nsecond line","id":4}'));
  assert.deepEqual(weird, { kind: 'error', error: { code: 0, message: 'boom second line' } });
  const noCode = interpretSubmitReply(asResponse('{"error":{"message":5},"id":4}'));
  assert.deepEqual(noCode, { kind: 'error', error: { code: 0, message: 'no message' } });
  const v1 = interpretSubmitReply(asResponse('{"result":[true],"error":null,"id":4}'));
  assert.deepEqual(v1, { kind: 'accepted' });
  const r = asResponse('{"id":"abc","result":[true]}');
  assert.equal(r.id, 'abc');
  const nullId = asResponse('{"id":null,"error":{"code":-32700,"message":"Parse error"}}');
  assert.equal(nullId.id, null);
});

test('a long rejection reason is clipped and control characters removed', () => {
  const long = 'x'.repeat(5000);
  const v = interpretSubmitReply(asResponse(JSON.stringify({ id: 1, result: [false, `a\u0000b\u001b[31m${long}`] })));
  assert.equal(v.kind, 'rejected');
  const reason = (v as { reason: string }).reason;
  assert.ok(reason.length <= 200);
  assert.ok(!/[\u0000-\u001f]/.test(reason));
  assert.equal(clip('abc'), 'abc');
});

// ---------------------------------------------------------------------------------------------
// builders

test('subscribe request is exactly the protocol\'s shape', () => {
  assert.equal(buildSubscribe(1, 'rig1', 'pw'), '{"jsonrpc":"2.0","method":"mining.subscribe","params":["rig1","pw"],"id":1}');
  // Quotes and unicode in names survive as JSON.
  assert.deepEqual(JSON.parse(buildSubscribe(2, 'a"b', 'é')).params, ['a"b', 'é']);
});

test('submit request: 0x job id, nonce without leading zeros, 0x pow hash', () => {
  const hash = Buffer.from(HASH2, 'hex');
  const line = buildSubmit(7, 'rig1', `0x${HASH.toUpperCase()}`, 0x00abcn, hash);
  assert.equal(line, `{"jsonrpc":"2.0","method":"mining.submit","params":["rig1","0x${HASH}","0xabc","0x${HASH2}"],"id":7}`);
  assert.equal(JSON.parse(buildSubmit(1, 'w', HASH, 0n, hash)).params[2], '0x0');
  assert.equal(JSON.parse(buildSubmit(1, 'w', HASH, U256_MAX, hash)).params[2], `0x${'f'.repeat(64)}`);
  assert.equal(JSON.parse(buildSubmit(1, 'w', HASH, (1n << 64n) - 1n, hash)).params[2], '0xffffffffffffffff');
  assert.throws(() => buildSubmit(1, 'w', HASH, -1n, hash), RangeError);
  assert.throws(() => buildSubmit(1, 'w', HASH, TWO_POW_256, hash), RangeError);
  assert.throws(() => buildSubmit(1, 'w', HASH, 1n, Buffer.alloc(31)), RangeError);
});

test('a notify round-trips into the submit the node expects', () => {
  const n = asNotify(parseLine(`{ "id": 18, "method": "mining.notify", "params": ["0x${HASH}", "5", "0x${HASH2}","0xff"] }`));
  const params = JSON.parse(buildSubmit(3, 'w', n.job.jobId, 255n, n.job.powHash)).params;
  assert.deepEqual(params, ['w', `0x${HASH}`, '0xff', `0x${HASH2}`]);
});

// ---------------------------------------------------------------------------------------------
// job helpers

test('difficulty and boundary', () => {
  assert.equal(difficultyFromBoundary(U256_MAX), 1n);
  assert.equal(difficultyFromBoundary(1n), TWO_POW_256);
  assert.equal(difficultyFromBoundary(TWO_POW_256 / 1000n), 1000n);
  assert.throws(() => difficultyFromBoundary(0n), RangeError);
  assert.throws(() => difficultyFromBoundary(TWO_POW_256), RangeError);
  assert.equal(boundaryFromDifficulty(1n), U256_MAX);
  assert.equal(boundaryFromDifficulty(2n), 1n << 255n);
  assert.equal(boundaryFromDifficulty(3n), TWO_POW_256 / 3n);
  assert.equal(boundaryFromDifficulty(TWO_POW_256), 1n);
  assert.throws(() => boundaryFromDifficulty(TWO_POW_256 + 1n), RangeError);
  assert.throws(() => boundaryFromDifficulty(0n), RangeError);
  for (const d of [1n, 2n, 7n, 1000n, 2_000_000n, 123456789012345678901234567890n]) {
    assert.equal(difficultyFromBoundary(boundaryFromDifficulty(d)), d, `round trip ${d}`);
  }
});

test('formatDifficulty', () => {
  assert.equal(formatDifficulty(1n), '1');
  assert.equal(formatDifficulty(999n), '999');
  assert.equal(formatDifficulty(1000n), '1.00 K');
  assert.equal(formatDifficulty(1234n), '1.23 K');
  assert.equal(formatDifficulty(45_600_000n), '45.6 M');
  assert.equal(formatDifficulty(999_999n), '1.00 M');
  assert.equal(formatDifficulty(2_000_000n), '2.00 M');
  assert.equal(formatDifficulty(789_000_000_000_000n), '789 T');
  assert.equal(formatDifficulty(12_300_000_000_000_000_000_000_000n), '12.3 Y');
  assert.match(formatDifficulty(TWO_POW_256), /^1\.16e\+77$/);
});

test('shortJobId, createJob and sameWork', () => {
  assert.equal(shortJobId(`0x${HASH2}`), '01234567');
  assert.equal(shortJobId('0XABCDEF0123'), 'abcdef01');
  assert.equal(shortJobId('0x12'), '12');
  const a = createJob({ jobId: `0x${HASH.toUpperCase()}`, height: 1, powHash: Buffer.from(HASH, 'hex'), boundary: 255n, receivedAt: 1 });
  assert.equal(a.jobId, `0x${HASH}`);
  assert.equal(a.difficulty, TWO_POW_256 / 255n);
  const b = createJob({ jobId: `0x${HASH}`, height: 1, powHash: Buffer.from(HASH, 'hex'), boundary: 255n, receivedAt: 2 });
  assert.ok(sameWork(a, b), 'the receive time does not matter');
  assert.ok(!sameWork(a, { ...b, height: 2 }));
  assert.ok(!sameWork(a, { ...b, boundary: 254n }));
  assert.ok(!sameWork(a, { ...b, powHash: Buffer.from(HASH2, 'hex') }));
});
