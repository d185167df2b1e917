// Text from a node on its way into a log line: masked where a secret stands as a token, cleaned
// of control characters, clipped; and nothing else changed.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_QUOTED_CHARS, clearSecrets, fromNode, maskTokens, registerSecret } from '../src/log/untrusted.js';

describe('fromNode', () => {
  afterEach(() => clearSecrets());

  for (const secret of ['x', 'e', '1', 'Tr0ub4dor&3']) {
    it(`password ${JSON.stringify(secret)}: masked as a whole token only`, () => {
      registerSecret(secret);
      const echoed = fromNode(`bad password: ${secret}`);
      assert.equal(echoed, 'bad password: ***');
      const inWords = `cfx-miner 0x2c71 avx512x8 e1e1 ${secret}${secret}`;
      assert.equal(fromNode(inWords), inWords, 'a secret inside a longer token is left alone');
    });
  }

  it('strips control characters and clips long text', () => {
    assert.equal(fromNode('stale\u001b[31m\r\nforged line'), 'stale [31m  forged line');
    const long = fromNode('y'.repeat(10_000));
    assert.equal(long.length, MAX_QUOTED_CHARS);
    assert.ok(long.endsWith('...'));
  });

  it('masks every occurrence, longest secret first', () => {
    assert.equal(maskTokens('a hunter2 b hunter2 c hunter', ['hunter', 'hunter2']), 'a *** b *** c ***');
    assert.equal(maskTokens('(x) x, "x"', ['x']), '(***) ***, "***"');
  });
});
