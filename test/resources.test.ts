// Stage resources past their bounds, without a real dataset: caches held at once, builds for
// stages no job wants, and caches and datasets that would not fit in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheRegistry } from '../src/miner/caches.js';
import { StageResources, fragmentedWarning, hugePagesText } from '../src/miner/resources.js';
import { STAGE_LENGTH } from '../src/native/index.js';
import { waitFor } from './support/wait.js';
import { MemoryLogger } from './support/memory-logger.js';

const GiB = 2 ** 30;

test('a cache that would not fit is refused in one line naming the height, before any allocation', async () => {
  const caches = new CacheRegistry({ max: 2, availableBytes: () => 64 * 2 ** 20 });
  await assert.rejects(caches.get(0, 123), /^Error: refusing the job at height 123: its stage 0 needs a 16\.00 MiB cache \(\+ 256\.00 MiB margin\) and 64\.00 MiB is available$/);
  assert.equal(caches.ready(0), undefined);
});

test('at most `max` caches, held or building: a third stage cancels the oldest build; endBuildsNotWanted() the rest', async () => {
  const log = new MemoryLogger();
  const caches = new CacheRegistry({ max: 2, logger: log });
  const first = caches.get(3);
  const second = caches.get(4);
  const third = caches.get(5);
  await assert.rejects(first, { name: 'AbortError' });
  caches.endBuildsNotWanted(3); // keeps 3 and 4 (the next stage's cache, for a dataset built ahead): 5 goes
  await assert.rejects(third, { name: 'AbortError' });
  const again = caches.get(5);
  caches.endBuildsNotWanted(5);
  await assert.rejects(second, { name: 'AbortError' });
  const c = await again;
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
  const building = resources.forJob(42);
  assert.ok(building instanceof Promise, 'no cache yet: a promise for it');
  await building;
  const handles = resources.forJob(42);
  assert.ok(!(handles instanceof Promise));
  assert.equal(handles.dataset, undefined);
  const errors = log.lines.filter((l) => l.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.msg, /^cannot use full mode: the dataset for height 42 \(stage 0\) needs 4\.00 GiB \+ 1\.50 GiB margin, 2\.00 GiB is available; mining in light mode$/);
  assert.equal(resources.datasetStatus.state, 'unavailable');
  await resources.close();
});

test('the dataset-ready line and hugePagesFraction() say what share of the dataset is on huge pages; null without one', async () => {
  const log = new MemoryLogger();
  const resources = new StageResources({
    mode: 'full', threads: 1, hugePages: true, logger: log, availableBytes: () => 64 * GiB,
    datasetBytes: () => 4 << 20, progress: () => ({ update() {}, stop() {} }),
  });
  try {
    assert.equal(resources.hugePagesFraction(), null, 'no dataset yet');
    await resources.forJob(42);
    resources.forJob(42);
    await waitFor(() => resources.datasetStatus.state === 'ready', 30_000, 'the small dataset');
    const f = resources.hugePagesFraction();
    assert.ok(f !== null && f >= 0 && f <= 1, `fraction ${f}`);
    const line = log.lines.find((l) => /dataset for stage 0 ready in/.test(l.msg));
    assert.match(line!.msg, /, 4\.00 MiB, (huge pages: (explicit-1g|explicit|transparent) \d{1,3}%|no huge pages \(4 KiB pages: slower\))$/);
    assert.ok(line!.msg.endsWith(hugePagesText(resources.datasetIfReady(0)!.hugePages, f)), 'the line has the measured share');
  } finally {
    await resources.close();
  }
});

test('hugePagesText: kind and share, rounded down', () => {
  assert.equal(hugePagesText('transparent', 0.986), 'huge pages: transparent 98%');
  assert.equal(hugePagesText('transparent', 0.9999), 'huge pages: transparent 99%', '100% only when every page is huge');
  assert.equal(hugePagesText('explicit', 1), 'huge pages: explicit 100%');
  assert.equal(hugePagesText('explicit-1g', 1), 'huge pages: explicit-1g 100%');
  assert.equal(hugePagesText('none', 0), 'no huge pages (4 KiB pages: slower)');
});

test('fragmentedWarning: transparent pages below 95% say what to do; explicit, none and 95% up say nothing', () => {
  assert.match(fragmentedWarning('transparent', 0.5)!, /^only 50% of the dataset is on huge pages: .*vm\.nr_hugepages.*defrag.*or reboot$/);
  assert.equal(fragmentedWarning('transparent', 0.95), undefined);
  assert.equal(fragmentedWarning('explicit', 1), undefined);
  assert.equal(fragmentedWarning('none', 0), undefined, 'no huge pages has its own line');
});

test('the next stage\'s dataset is built ahead of time once, while jobs keep coming every half second', async () => {
  const log = new MemoryLogger();
  const ready: number[] = [];
  const resources = new StageResources({
    mode: 'full', threads: 2, hugePages: false, logger: log, availableBytes: () => 64 * GiB,
    datasetBytes: () => 1 << 20, onDatasetReady: (stage) => ready.push(stage),
    progress: () => ({ update() {}, stop() {} }),
  });
  try {
    const height = STAGE_LENGTH - 1_000; // within PREBUILD_BLOCKS of stage 1
    await resources.forJob(height);
    resources.forJob(height);
    await waitFor(() => ready.includes(0), 30_000, 'the dataset of the current stage');
    // Jobs of stage 0 every 50 ms while stage 1's cache builds (about a second) and its dataset after.
    for (let i = 0; !ready.includes(1); i++) {
      assert.ok(i < 600, 'the dataset of stage 1 is ready within 30 s');
      resources.forJob(height + i);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ahead = log.lines.filter((l) => /building its dataset ahead of time/.test(l.msg));
    assert.equal(ahead.length, 1, 'one line for the build ahead, not one per job');
    assert.equal(log.lines.filter((l) => /building cache for stage 1/.test(l.msg)).length, 1, 'its cache was built once, never restarted');
    assert.ok(resources.datasetIfReady(0) && resources.datasetIfReady(1), 'both datasets held');
  } finally {
    await resources.close();
  }
});

test('forJob: one answer per job; a new stage ends the other stage\'s build; the same answer object while nothing changed', async () => {
  const log = new MemoryLogger();
  const resources = new StageResources({ mode: 'light', threads: 1, hugePages: false, logger: log, progress: () => ({ update() {}, stop() {} }) });
  try {
    const first = resources.forJob(3 * STAGE_LENGTH);
    const second = resources.forJob(5 * STAGE_LENGTH + 7);
    assert.ok(first instanceof Promise && second instanceof Promise, 'no cache yet: promises');
    await assert.rejects(first, { name: 'AbortError' }, 'stage 3 is not wanted with jobs of stage 5');
    const cache = await second;
    const a = resources.forJob(5 * STAGE_LENGTH + 8);
    const b = resources.forJob(5 * STAGE_LENGTH + 9);
    assert.ok(!(a instanceof Promise));
    assert.equal(a.cache, cache);
    assert.equal(a.dataset, undefined, 'light mode: never a dataset');
    assert.equal(b, a, 'the same object for every job while the cache and dataset stay');
    assert.equal(resources.cacheIfReady(5), cache);
    assert.equal(log.lines.filter((l) => /ready in/.test(l.msg)).length, 1, 'only the wanted stage was built');
  } finally {
    await resources.close();
  }
});
