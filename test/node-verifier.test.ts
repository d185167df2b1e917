// The test node's own checks (test/support/node-verifier.ts) against the reference vectors and
// against the addon: two implementations that must agree bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashKeccak, meetsBoundary } from '../src/native/index.js';
import { keccak256Fast, keccak256Js } from './support/keccak-js.js';
import { keccakPowJs, meetsBoundaryJs } from './support/node-verifier.js';
import { loadVectors } from './support/fixtures.js';

test('keccak256Fast equals the BigInt reference for every length 0..300', () => {
  for (let len = 0; len <= 300; len++) {
    const data = randomBytes(len);
    assert.equal(keccak256Fast(data).toString('hex'), keccak256Js(data), `length ${len}`);
  }
  assert.equal(keccak256Fast(Buffer.alloc(0)).toString('hex'), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
});

test('keccakPowJs reproduces every keccak reference vector', () => {
  const keccak = loadVectors().filter((v) => v.kind === 'keccak');
  assert.ok(keccak.length > 0, 'the fixture has keccak lines');
  for (const v of keccak) {
    const header = Buffer.from(v.header.replace(/^0x/, ''), 'hex');
    assert.equal(`0x${keccakPowJs(header, BigInt(v.nonce)).toString('hex')}`, v.hash);
  }
});

test('keccakPowJs and meetsBoundaryJs agree with the addon on random inputs', () => {
  for (let i = 0; i < 300; i++) {
    const header = randomBytes(32);
    const nonce = BigInt(`0x${randomBytes(i % 3 === 0 ? 32 : 8).toString('hex')}`);
    const hash = keccakPowJs(header, nonce);
    assert.deepEqual(hash, hashKeccak(header, nonce));
    const boundary = BigInt(`0x${randomBytes(32).toString('hex')}`) >> BigInt(i % 256) || 1n;
    assert.equal(meetsBoundaryJs(hash, nonce, boundary), meetsBoundary(hash, nonce, boundary), `case ${i}`);
  }
});
