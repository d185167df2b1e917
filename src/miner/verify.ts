// Host-side verification of a nonce, one function for both users: the miner re-checks every
// solution and share with it, and `cfx-miner hash` and `verify` answer with it from the command
// line (through the Verifier, which keeps the caches of the last few stages so a batch reuses them).
import type { Algo } from '../native/index.js';
import type { CacheHandle } from '../native/index.js';
import { STAGE_LENGTH, hashKeccak, hashOctopusLightAsync, meetsBoundary, stageBytes } from '../native/index.js';
import { CacheRegistry } from './caches.js';

/**
 * The hash of (algo, header, nonce) by the path that shares nothing with the search: keccak at
 * once, or Octopus in light mode from the stage's cache on a pool thread (no dataset, no batch
 * kernel), so a node checking a flood of submits keeps its event loop free. `datasetBytes`: the
 * dataset size the light hash stands in for, the stage's own unless a test shrank the dataset.
 */
export function independentHash(algo: Algo, header: Buffer, cache: CacheHandle | undefined, nonce: bigint,
  datasetBytes?: number): Promise<Buffer> {
  if (algo === 'keccak') return Promise.resolve(hashKeccak(header, nonce));
  if (!cache) return Promise.reject(new TypeError('an Octopus hash needs the cache of its stage'));
  return hashOctopusLightAsync(cache, header, nonce, datasetBytes ?? stageBytes(cache.stage).datasetBytes);
}

export interface PowJob {
  algo: Algo;
  header: Buffer;
  /** Needed for Octopus (it selects the cache); ignored by keccak. */
  height: number;
  boundary: bigint;
}

export class Verifier {
  private readonly caches: CacheRegistry;

  constructor(keepStages = 2) {
    this.caches = new CacheRegistry({ max: keepStages });
  }

  /** The cache for a stage, built once and shared by every caller that asks meanwhile. */
  cacheFor(stage: number): Promise<CacheHandle> {
    return this.caches.get(stage);
  }

  async hash(algo: Algo, header: Buffer, height: number, nonce: bigint): Promise<Buffer> {
    const cache = algo === 'keccak' ? undefined : await this.cacheFor(Math.floor(height / STAGE_LENGTH));
    return independentHash(algo, header, cache, nonce);
  }

  async verify(job: PowJob, nonce: bigint): Promise<{ valid: boolean; hash: Buffer }> {
    const hash = await this.hash(job.algo, job.header, job.height, nonce);
    return { valid: meetsBoundary(hash, nonce, job.boundary), hash };
  }
}
