// Stage resources past their bounds, without a real dataset: caches held at once, builds for
// stages no job wants, and caches and datasets that would not fit in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheRegistry } from '../src/miner/caches.js';
import { StageResources } from '../src/miner/resources.js';
import { CacheHandle } from '../src/native/index.js';
import { MemoryLogger } from './support/memory-logger.js';

const GiB = 2 ** 30;

test('a cache that would not fit is refused in one line naming the height, before any allocation', async () => {
  const caches = new CacheRegistry({ max: 2, availableBytes: () => 64 * 2 ** 20 });
  await assert.rejects(caches.get(0, 123), /^Error: refusing the job at height 123: its stage 0 needs a 16\.00 MiB cache \(\+ 256\.00 MiB margin\) and 64\.00 MiB is available$/);
  assert.equal(caches.ready(0), undefined);
});

test('at most `max` caches, held or building: a third stage cancels the oldest build; only() cancels the rest', async () => {
  const log = new MemoryLogger();
  const caches = new CacheRegistry({ max: 2, logger: log });
  const first = caches.get(3);
  const second = caches.get(4);
  const third = caches.get(5);
  await assert.rejects(first, { name: 'AbortError' });
  caches.only(5);
  await assert.rejects(second, { name: 'AbortError' });
  const c = await third;
  assert.equal(c.stage, 5);
  assert.equal(caches.ready(5), c);
  assert.equal(log.lines.filter((l) => /ready in/.test(l.msg)).length, 1, 'only the wanted stage was built');
  caches.close();
  await assert.rejects(caches.get(6), { name: 'AbortError' });
});

test('a dataset that would not fit is refused in one line naming the height; mining stays in light mode', async () => {
  const log = new MemoryLogger();
  const resources = new StageResources({
    mode: 'full', threads: 1, hugePages: false, logger: log, availableBytes: () => 2 * GiB,
    progress: () => ({ update() {}, stop() {} }),
  });
  const cache = await CacheHandle.build(0);
  resources.want(42, cache);
  const errors = log.lines.filter((l) => l.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.msg, /^cannot use full mode: the dataset for height 42 \(stage 0\) needs 4\.00 GiB \+ 1\.50 GiB margin, 2\.00 GiB is available; mining in light mode$/);
  assert.equal(resources.datasetStatus.state, 'unavailable');
  await resources.close();
});
