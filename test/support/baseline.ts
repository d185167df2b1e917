// The independent baseline (test/baseline/: Octopus from OCTOPUS.md alone, no native/core code),
// a separate small addon built by `npm install` (see package.json "prepare"). The test node
// verifies Octopus with it and the benchmark measures the miner against it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

export const BASELINE_STAGE_LENGTH = 524_288; // OCTOPUS.md, written here apart from the product

interface BaselineAddon {
  sizes(stage: number): { cacheBytes: number; datasetBytes: number };
  buildCache(stage: number): Promise<Buffer>;
  hashLight(cache: Buffer, header: Buffer, nonce: bigint, datasetBytes: number): Promise<Buffer>;
  hashLightLoop(cache: Buffer, header: Buffer, nonce: bigint, datasetBytes: number, count: number): Buffer;
}

/**
 * Loads a reference addon built apart from the product (`dir` relative to the repository root:
 * test/baseline or bench/native); a missing build is one clear error naming the command that
 * makes it.
 */
export function loadReferenceAddon<T>(dir: string, what: string): T {
  const full = path.join(repoRoot, dir);
  const require = createRequire(import.meta.url);
  try {
    return (require('node-gyp-build') as (d: string) => T)(full);
  } catch (err) {
    throw new Error(`cannot load ${what} in ${full}: run \`npm run build:refs\` (${(err as Error).message.split('\n')[0]})`);
  }
}

let addon: BaselineAddon | undefined;

/** The baseline addon. */
export function baseline(): BaselineAddon {
  addon ??= loadReferenceAddon<BaselineAddon>(path.join('test', 'baseline'), 'the baseline addon');
  return addon;
}

/** A stage's baseline cache and dataset size. */
export interface BaselineStage {
  stage: number;
  cache: Buffer;
  datasetBytes: number;
}

/**
 * Baseline caches by stage, shared by everything in this process. Bounded: the two most recently
 * asked-for stages are kept (a cache is 16 MiB and more); an older one is forgotten.
 */
const stages = new Map<number, Promise<BaselineStage>>();
const MAX_STAGES = 2;

export function baselineStage(stage: number): Promise<BaselineStage> {
  let entry = stages.get(stage);
  if (entry) {
    stages.delete(stage);
  } else {
    const b = baseline();
    const { datasetBytes } = b.sizes(stage);
    entry = b.buildCache(stage).then((cache) => ({ stage, cache, datasetBytes }));
    entry.catch(() => stages.delete(stage));
  }
  stages.set(stage, entry); // most recent last
  while (stages.size > MAX_STAGES) stages.delete(stages.keys().next().value!);
  return entry;
}

/** The baseline light hash of (header, nonce) at `height`, on a pool thread. */
export async function baselineHash(header: Buffer, height: number, nonce: bigint): Promise<Buffer> {
  const s = await baselineStage(Math.floor(height / BASELINE_STAGE_LENGTH));
  return baseline().hashLight(s.cache, header, nonce & 0xffff_ffff_ffff_ffffn, s.datasetBytes);
}
