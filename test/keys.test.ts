// The interactive keys (src/ui/keys.ts) driven through a fake terminal: which key calls which
// handler, raw mode on and off, Ctrl-C as a signal, and no effect at all on piped input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { attachKeys, KEY_HELP } from '../src/ui/keys.js';
import type { KeyHandlers, KeyInput } from '../src/ui/keys.js';

type HandlerName = keyof KeyHandlers;

/** A stand-in for process.stdin on a terminal that records what was done to it. */
class FakeTty extends EventEmitter implements KeyInput {
  readonly calls: string[] = [];
  rawMode = false;
  constructor(public isTTY = true) {
    super();
  }
  setRawMode(mode: boolean): this {
    this.calls.push(`setRawMode(${mode})`);
    this.rawMode = mode;
    return this;
  }
  resume(): this { this.calls.push('resume'); return this; }
  pause(): this { this.calls.push('pause'); return this; }
  ref(): this { this.calls.push('ref'); return this; }
  unref(): this { this.calls.push('unref'); return this; }
  type(keys: string | Buffer): void {
    this.emit('data', keys);
  }
}

/** Handlers that record their own names, in call order. */
function recorder(): { handlers: KeyHandlers; called: HandlerName[] } {
  const called: HandlerName[] = [];
  const make = (name: HandlerName) => () => { called.push(name); };
  return {
    called,
    handlers: {
      onHashrate: make('onHashrate'), onPause: make('onPause'), onResume: make('onResume'),
      onShares: make('onShares'), onHelp: make('onHelp'),
    },
  };
}

/** Runs fn with an extra SIGINT listener, so an emitted SIGINT cannot end the test process. */
function withSigintListener(fn: (received: string[]) => void): void {
  const received: string[] = [];
  const listener = (sig: string): void => { received.push(sig); };
  process.on('SIGINT', listener);
  try {
    fn(received);
  } finally {
    process.removeListener('SIGINT', listener);
  }
}

const KEYS: [string, HandlerName][] = [
  ['h', 'onHashrate'], ['p', 'onPause'], ['r', 'onResume'], ['s', 'onShares'], ['?', 'onHelp'],
];

test('attaching puts the terminal in raw mode and starts reading', (t) => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  const detach = attachKeys(handlers, input);
  t.after(detach);
  assert.equal(input.rawMode, true);
  assert.deepEqual(input.calls, ['setRawMode(true)', 'resume', 'ref']);
  assert.equal(input.listenerCount('data'), 1);
  assert.deepEqual(called, [], 'attaching alone calls no handler');
});

for (const [key, handler] of KEYS) {
  test(`"${key}" calls ${handler} and nothing else`, (t) => {
    const input = new FakeTty();
    const { handlers, called } = recorder();
    t.after(attachKeys(handlers, input));
    input.type(key);
    assert.deepEqual(called, [handler]);
  });
}

test('letters work in upper case too (Caps Lock on)', (t) => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  t.after(attachKeys(handlers, input));
  for (const key of ['H', 'P', 'R', 'S']) input.type(key);
  assert.deepEqual(called, ['onHashrate', 'onPause', 'onResume', 'onShares']);
});

test('several keys in one chunk (a paste) each count, in order; Buffers work like strings', (t) => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  t.after(attachKeys(handlers, input));
  input.type('hpS?r');
  input.type(Buffer.from('sh', 'utf8'));
  assert.deepEqual(called, ['onHashrate', 'onPause', 'onShares', 'onHelp', 'onResume', 'onShares', 'onHashrate']);
});

test('other keys, Enter, escape sequences and non-ASCII text do nothing', (t) => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  t.after(attachKeys(handlers, input));
  withSigintListener((received) => {
    input.type('xq1 \r\n\t');
    input.type('\u001b[A'); // arrow up
    input.type('\u001b'); // Esc alone
    input.type('ßhé'.replace('h', '')); // no h left: ß and é only
    input.type('\u0004'); // Ctrl-D is not Ctrl-C
    assert.deepEqual(called, []);
    assert.deepEqual(received, []);
  });
});

test('Ctrl-C reaches the SIGINT listeners (raw mode would otherwise swallow it)', (t) => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  t.after(attachKeys(handlers, input));
  withSigintListener((received) => {
    input.type('\u0003');
    assert.deepEqual(received, ['SIGINT']);
    input.type('h\u0003');
    assert.deepEqual(received, ['SIGINT', 'SIGINT'], 'a second Ctrl-C is delivered too (the miner then exits 130)');
  });
  assert.deepEqual(called, ['onHashrate'], 'Ctrl-C calls no key handler');
});

test('detach restores the terminal, stops reading, and can be called twice', () => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  const detach = attachKeys(handlers, input);
  input.calls.length = 0;

  detach();
  assert.equal(input.rawMode, false);
  assert.equal(input.listenerCount('data'), 0);
  assert.deepEqual(input.calls, ['setRawMode(false)', 'pause', 'unref'],
    'raw mode off, input paused and unref\'d so the process can exit');

  detach();
  assert.deepEqual(input.calls, ['setRawMode(false)', 'pause', 'unref'], 'a second detach does nothing');

  input.type('hprs?');
  assert.deepEqual(called, [], 'no handler runs after detach');
});

test('after a detach, attaching again works (ref\'d again)', (t) => {
  const input = new FakeTty();
  const { handlers, called } = recorder();
  attachKeys(handlers, input)();
  input.calls.length = 0;
  t.after(attachKeys(handlers, input));
  assert.deepEqual(input.calls, ['setRawMode(true)', 'resume', 'ref']);
  input.type('s');
  assert.deepEqual(called, ['onShares']);
});

test('a non-terminal input is left alone: no raw mode, no reading, detach is a no-op', () => {
  for (const input of [new FakeTty(false), Object.assign(new FakeTty(true), { setRawMode: undefined })]) {
    const { handlers, called } = recorder();
    withSigintListener((received) => {
      const detach = attachKeys(handlers, input as KeyInput);
      assert.equal(typeof detach, 'function');
      assert.equal(input.listenerCount('data'), 0, 'piped input must not be consumed');
      assert.deepEqual(input.calls, [], 'no setRawMode, resume or ref');
      input.type('hprs?\u0003');
      assert.deepEqual(called, []);
      assert.deepEqual(received, []);
      detach();
      detach();
      assert.deepEqual(input.calls, []);
    });
  }
});

test('KEY_HELP names every key', () => {
  for (const [key] of KEYS) assert.ok(KEY_HELP.includes(`${key} `), `"${key}" missing from: ${KEY_HELP}`);
  assert.match(KEY_HELP, /Ctrl-C/);
});
