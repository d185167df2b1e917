// Host-side verification of a nonce (the miner re-checks every solution; the test node checks
// every submit). Keeps the caches of the last few stages so a batch or a long run reuses them.
import type { Algo } from '../native/index.js';
import type { CacheHandle } from '../native/index.js';
import { STAGE_LENGTH, hashKeccak, hashOctopusLightAsync, meetsBoundary, stageBytes } from '../native/index.js';
import { CacheRegistry } from './caches.js';

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
    if (algo === 'keccak') return hashKeccak(header, nonce);
    const stage = Math.floor(height / STAGE_LENGTH);
    const cache = await this.cacheFor(stage);
    // On a pool thread: a node checking a flood of submits keeps its event loop free.
    return hashOctopusLightAsync(cache, header, nonce, stageBytes(stage).datasetBytes);
  }

  async verify(job: PowJob, nonce: bigint): Promise<{ valid: boolean; hash: Buffer }> {
    const hash = await this.hash(job.algo, job.header, job.height, nonce);
    return { valid: meetsBoundary(hash, nonce, job.boundary), hash };
  }
}
