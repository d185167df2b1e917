// The independent baseline (test/baseline/: Octopus from OCTOPUS.md alone, no native/core code),
// a separate small addon built by `npm install` (see package.json "prepare"). The test node
// verifies Octopus with it and the benchmark measures the miner against it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASELINE_STAGE_LENGTH = 524_288; // OCTOPUS.md, written here apart from the product

interface BaselineAddon {
  sizes(stage: number): { cacheBytes: number; datasetBytes: number };
  buildCache(stage: number): Promise<Buffer>;
  hashLight(cache: Buffer, header: Buffer, nonce: bigint, datasetBytes: number): Promise<Buffer>;
  hashLightLoop(cache: Buffer, header: Buffer, nonce: bigint, datasetBytes: number, count: number): Buffer;
}

let addon: BaselineAddon | undefined;

/** The baseline addon; a missing build is one clear error naming the command that makes it. */
export function baseline(): BaselineAddon {
  if (addon) return addon;
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'baseline');
  const require = createRequire(import.meta.url);
  try {
    addon = (require('node-gyp-build') as (d: string) => BaselineAddon)(dir);
  } catch (err) {
    throw new Error(`cannot load the baseline addon in ${dir}: run \`npm run build:refs\` (${(err as Error).message.split('\n')[0]})`);
  }
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
