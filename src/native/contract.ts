// The addon's contract: what native/binding exports, typed. The binding checks every argument
// (native/binding/convert.h) and throws TypeError/RangeError; the wrappers in this directory do
// not check again. Opaque handles are External values, type-tagged by the binding.
import type { HugePages } from './params.js';

/** native/core/params.h: the limits every layer checks against, written there once. */
export interface Limits {
  readonly maxThreads: number;
  readonly maxHeight: number;
  readonly maxDatasetBytes: number;
  readonly stageLength: number;
  readonly maxShareBits: number;
  readonly pageBytes: number;
}

/** buildDataset's options, one object (the baton) read by the binding on the JS thread. */
export interface DatasetBuildOptions {
  bytes: number;
  threads: number;
  hugePages: boolean;
  onProgress: ((done: number, total: number) => void) | undefined;
  cancel: object;
}

/** A kernel path the process can switch off: AMX tiles, AVX-512, the AVX2 transforms (native/core/cpu.h). */
export type KernelPath = 'amx' | 'avx512' | 'avx2';

/** native/core/self_test.h: every check run, and what was switched off to pass. */
export interface SelfTestReport {
  ok: boolean;
  kernels: { name: string; ok: boolean; ms: number }[];
  disabled: KernelPath[];
}

/** native/binding/addon.cc, builds.cc, engine.cc, verify.cc. A cancelled build resolves to undefined. */
export interface Addon {
  readonly limits: Limits;
  sizes(height: number, withSeed?: boolean): { stage: number; seed?: Buffer; cacheBytes: number; datasetBytes: number };
  buildCache(stage: number, onProgress: ((done: number, total: number) => void) | undefined,
    cancel: object): Promise<object | undefined>;
  newCancelToken(): object;
  cancelAllBuilds(): void;
  cancel(token: object): void;
  cacheInfo(cache: object): { stage: number; bytes: number; nodes: number };
  buildDataset(cache: object, options: DatasetBuildOptions): Promise<object | undefined>;
  /** hugePagesFraction: measured, 0..1 (1 for explicit pages; THP: AnonHugePages / size from smaps). */
  datasetInfo(dataset: object): { stage: number; bytes: number; hugePages: HugePages; hugePagesFraction: number };
  releaseDataset(dataset: object): void;
  hashKeccak(header: Buffer, nonceLe32: Buffer): Buffer;
  keccak256(data: Buffer): Buffer;
  hashOctopusLightAsync(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): Promise<Buffer>;
  meetsBoundary(hash: Buffer, nonceLe32: Buffer, boundaryBe32: Buffer): boolean;
  cpuFeatures(): { avx512: boolean; keccakImpl: string; polyImpl: string };
  selfTest(): SelfTestReport;
  disableKernel(kernel: KernelPath): void;
  /** `shares`: [generation, nonce, hash, bits, ...] flat, or undefined; `generation` 0 when only shares came. */
  SearchEngine: new (threads: number, onSolutions: (generation: number, nonces: bigint[], hashes: Buffer[],
    shares: (number | bigint | Buffer)[] | undefined) => void) => SearchBinding;
}

/** cfx::SearchEngine as the binding wraps it (native/binding/engine.cc). */
export interface SearchBinding {
  /** By position (see engine.cc): algo 0 keccak, 1 octopus; unused handles undefined. */
  start(algo: 0 | 1, header: Buffer, boundary: Buffer, startNonce: bigint,
    cache: object | undefined, dataset: object | undefined, datasetBytes: number | undefined): number;
  pause(): void;
  destroy(): void;
  generation(): number;
  hashCounts(): number[];
  dropped(): { stale: number; full: number; shares: number };
  /** Internal shares: hashes below 2^256 / 2^bits, bits 0 to limits.maxShareBits. */
  setShareBits(bits: number): void;
  /** steady_clock nanoseconds when every thread had taken the generation (0: gone idle), or -1. */
  switchedAt(generation: number): number;
}

/**
 * Every export the contract names, checked when the addon loads: a .node file without one is a
 * build of another cfx-miner version (a checkout pulled without a rebuild, a stale prebuild),
 * which would otherwise fail later on a missing property. Typed so it cannot miss a member.
 */
const ADDON_EXPORTS: Record<keyof Addon, true> = {
  limits: true, sizes: true, buildCache: true, newCancelToken: true, cancelAllBuilds: true, cancel: true, cacheInfo: true,
  buildDataset: true, datasetInfo: true, releaseDataset: true, hashKeccak: true, keccak256: true,
  hashOctopusLightAsync: true, meetsBoundary: true, cpuFeatures: true, selfTest: true, disableKernel: true, SearchEngine: true,
};

/** The contract's exports `loaded` lacks (none for the addon this version builds). */
export function missingExports(loaded: object): string[] {
  return Object.keys(ADDON_EXPORTS).filter((name) => !(name in loaded));
}
