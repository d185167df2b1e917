// Host-side verification of a nonce (the miner re-checks every solution; the test node checks
// every submit). Keeps the caches of the last few stages so a batch or a long run reuses them.
import type { Algo } from '../native/index.js';
import { CacheHandle, STAGE_LENGTH, hashKeccak, hashOctopusLightAsync, meetsBoundary, stageBytes } from '../native/index.js';

export interface PowJob {
  algo: Algo;
  header: Buffer;
  /** Needed for Octopus (it selects the cache); ignored by keccak. */
  height: number;
  boundary: bigint;
}

export class Verifier {
  private readonly caches = new Map<number, Promise<CacheHandle>>();

  constructor(private readonly keepStages = 2) {}

  /** The cache for a stage, built once and shared by every caller that asks meanwhile. */
  cacheFor(stage: number): Promise<CacheHandle> {
    let p = this.caches.get(stage);
    if (!p) {
      p = CacheHandle.build(stage);
      p.catch(() => this.caches.delete(stage));
      this.caches.set(stage, p);
      while (this.caches.size > this.keepStages) {
        const oldest = this.caches.keys().next().value as number;
        this.caches.delete(oldest);
      }
    } else {
      // Refresh its place so the most recently used stages survive eviction.
      this.caches.delete(stage);
      this.caches.set(stage, p);
    }
    return p;
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
