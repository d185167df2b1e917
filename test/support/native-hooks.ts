// The test-only native entry points (test/baseline/hooks.cc, the cfx_test_hooks target built by
// `npm run build:refs`), on the product's own handles: a cache's nodes and DAG items, a dataset
// filled item by item (full mode at a real size without building gigabytes), the Octopus trace
// and the full-mode hash of one nonce. Also the wait for a search switch, which the product
// reads after the fact (switchedAt) and never waits for.
import { createRequire } from 'node:module';
import path from 'node:path';
import { CacheHandle, DatasetHandle, SearchEngine, octopusNonce, stageBytes } from '../../src/native/index.js';
import { repoRoot } from './fixtures.js';
import { waitFor } from './wait.js';

export interface OctopusTrace {
  a: number; b: number; c: number; w: number;
  digest: bigint; values: number[]; pages: number[]; hash: Buffer;
}

export interface TestHooks {
  cacheNode(cache: object, index: number): Buffer;
  dagItem(cache: object, index: number): Buffer;
  allocDataset(bytes: number, stage: number): object;
  hashOctopusLight(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): Buffer;
  fillDatasetItems(dataset: object, cache: object, first: number, count: number): void;
  octopusTrace(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): OctopusTrace;
  hashOctopusFull(dataset: object, header: Buffer, nonce: bigint): Buffer;
}

let hooks: TestHooks | undefined;

/** The raw hooks addon (its file by name: test/baseline/build/Release holds the baseline too). */
export function testHooks(): TestHooks {
  if (hooks) return hooks;
  const file = path.join(repoRoot, 'test', 'baseline', 'build', 'Release', 'cfx_test_hooks.node');
  try {
    hooks = createRequire(import.meta.url)(file) as TestHooks;
  } catch (err) {
    throw new Error(`cannot load the test hooks ${file}: run \`npm run build:refs\` (${(err as Error).message.split('\n')[0]})`);
  }
  return hooks;
}

export function cacheNode(cache: CacheHandle, index: number): Buffer {
  return testHooks().cacheNode(cache.handle, index);
}

export function dagItem(cache: CacheHandle, index: number): Buffer {
  return testHooks().dagItem(cache.handle, index);
}

/** A dataset whose memory is reserved but not filled: only the items written by fillDataset hold data. */
export function allocateDataset(stage: number, bytes: number): DatasetHandle {
  return DatasetHandle.fromNative(testHooks().allocDataset(bytes, stage));
}

export function fillDataset(dataset: DatasetHandle, cache: CacheHandle, firstItem: number, count: number): void {
  testHooks().fillDatasetItems(dataset.handle, cache.handle, firstItem, count);
}

/** Octopus in light mode on this thread, over `datasetBytes` (default: the real size for the cache's stage). */
export function hashOctopusLight(cache: CacheHandle, header: Buffer, nonce: bigint, datasetBytes?: number): Buffer {
  return testHooks().hashOctopusLight(cache.handle, header, octopusNonce(nonce), datasetBytes ?? stageBytes(cache.stage).datasetBytes);
}

export function octopusTrace(cache: CacheHandle, header: Buffer, nonce: bigint, datasetBytes?: number): OctopusTrace {
  return testHooks().octopusTrace(cache.handle, header, octopusNonce(nonce), datasetBytes ?? stageBytes(cache.stage).datasetBytes);
}

export function hashOctopusFull(dataset: DatasetHandle, header: Buffer, nonce: bigint): Buffer {
  return testHooks().hashOctopusFull(dataset.handle, header, octopusNonce(nonce));
}

/** Resolves once every thread works on the engine's current generation (idle after a pause). */
export async function switched(engine: SearchEngine, timeoutMs = 5_000): Promise<void> {
  const generation = engine.generation;
  await waitFor(() => engine.switchedAt(generation) !== undefined, timeoutMs, `every thread to take generation ${generation}`);
}
