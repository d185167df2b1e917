// The benchmark's independent references, built apart from the product: the scalar Octopus
// baseline (test/baseline/, through test/support/baseline.ts) and the probes (bench/native/: a
// plain scalar keccak PoW loop, the page walk alone over memory of its own). `npm install` builds
// both ("prepare" -> build:refs); bench/bench.ts hands them to the bench command as its extras.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BenchReferences } from '../src/commands/bench.js';
import { BASELINE_STAGE_LENGTH, baseline, baselineStage, loadReferenceAddon } from '../test/support/baseline.js';

interface ProbesAddon {
  keccakScalarHps(threads: number, milliseconds: number): number;
  walkMemory(bytes: number, threads: number, hugePages: boolean): object;
  memoryWalkHps(memory: object, threads: number, milliseconds: number): number;
  releaseWalkMemory(memory: object): void;
}

let probesAddon: ProbesAddon | undefined;

export function probes(): ProbesAddon {
  probesAddon ??= loadReferenceAddon<ProbesAddon>(path.join('bench', 'native'), 'the bench probes');
  return probesAddon;
}

const ms = (seconds: number) => Math.max(1, Math.round(seconds * 1000));

export const benchReferences: BenchReferences = {
  async baselineLightHps(height, seconds) {
    const { cache, datasetBytes } = await baselineStage(Math.floor(height / BASELINE_STAGE_LENGTH));
    const header = randomBytes(32);
    let nonce = randomBytes(8).readBigUInt64LE() >> 1n;
    const batch = 16; // a batch per call keeps JS out of the figure
    baseline().hashLightLoop(cache, header, nonce, datasetBytes, 4);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      baseline().hashLightLoop(cache, header, nonce, datasetBytes, batch);
      nonce += BigInt(batch);
      n += batch;
    }
    return n / ((performance.now() - t0) / 1000);
  },
  keccakScalarHps: (threads, seconds) => probes().keccakScalarHps(threads, ms(seconds)),
  walkMemory(bytes, threads, hugePages) {
    const p = probes();
    const memory = p.walkMemory(bytes, threads, hugePages);
    return {
      walkHps: (seconds) => p.memoryWalkHps(memory, threads, ms(seconds)),
      release: () => p.releaseWalkMemory(memory),
    };
  },
};
