// The only importer of the .node file. The raw addon stays inside src/native/: every other
// module uses the typed, validated wrappers (handles.ts, hash.ts, search.ts).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { NativeLoadError } from '../errors.js';
import type { Algo, HugePages } from './params.js';

// What the addon exports (native/binding/addon.cc). Opaque handles are External values.
export interface Addon {
  sizes(height: number, withSeed?: boolean): { stage: number; seed?: Buffer; cacheBytes: number; datasetBytes: number };
  buildCache(stage: number, onProgress: ((done: number, total: number) => void) | undefined,
    cancel: object): Promise<object>;
  newCancelToken(): object;
  cancelAllBuilds(): void;
  cancel(token: object): void;
  cacheInfo(cache: object): { stage: number; bytes: number; nodes: number };
  cacheNode(cache: object, index: number): Buffer;
  dagItem(cache: object, index: number): Buffer;
  buildDataset(cache: object, bytes: number, threads: number, hugePages: boolean,
    onProgress: ((done: number, total: number) => void) | undefined, cancel: object): Promise<object>;
  allocDataset(bytes: number, stage: number): object;
  fillDatasetItems(dataset: object, cache: object, first: number, count: number): void;
  datasetInfo(dataset: object): { stage: number; bytes: number; hugePages: HugePages };
  releaseDataset(dataset: object): void;
  hashKeccak(header: Buffer, nonceLe32: Buffer): Buffer;
  keccak256(data: Buffer): Buffer;
  hashOctopusLight(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): Buffer;
  hashOctopusLightAsync(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): Promise<Buffer>;
  hashOctopusFull(dataset: object, header: Buffer, nonce: bigint): Buffer;
  octopusTrace(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): {
    a: number; b: number; c: number; w: number; digest: bigint; values: number[]; pages: number[]; hash: Buffer;
  };
  meetsBoundary(hash: Buffer, nonceLe32: Buffer, boundaryBe32: Buffer): boolean;
  cpuFeatures(): { avx512: boolean; keccakImpl: string; polyImpl: string };
  selfTest(): SelfTestReport;
  disableKernel(kernel: 'amx' | 'avx512'): void;
  /** `shares`: [generation, nonce, hash, bits, ...] flat, or undefined; `generation` 0 when only shares came. */
  SearchEngine: new (threads: number, onSolutions: (generation: number, nonces: bigint[], hashes: Buffer[],
    shares: (number | bigint | Buffer)[] | undefined) => void) => NativeEngine;
}

/** native/core/self_test.h: every check run, and what was switched off to pass. */
export interface SelfTestReport {
  ok: boolean;
  kernels: { name: string; ok: boolean; ms: number }[];
  disabled: ('amx' | 'avx512')[];
}

export interface NativeEngine {
  /** By position (see engine.cc): algo 0 keccak, 1 octopus; unused handles undefined. */
  start(algo: 0 | 1, header: Buffer, boundary: Buffer, startNonce: bigint,
    cache: object | undefined, dataset: object | undefined, datasetBytes: number | undefined): number;
  pause(): void;
  destroy(): void;
  generation(): number;
  hashCounts(): number[];
  dropped(): { stale: number; full: number; shares: number };
  /** Internal shares: hashes below 2^256 / 2^bits, bits 0 to 63. */
  setShareBits(bits: number): void;
  waitSwitched(timeoutMs: number): boolean;
  /** steady_clock nanoseconds when every thread had taken the generation, or -1. */
  switchedAt(generation: number): number;
}

let addon: Addon | undefined;
/** What process.exit() must stop first (search engines); at most one per engine created. */
const stopOnExit = new Set<{ destroy(): void }>();

/**
 * process.exit() runs no environment cleanup hook, but it does join libuv's pool threads before
 * the process ends: a cache or dataset build still running there would hold a second Ctrl-C for
 * as long as the build takes. So on 'exit', every build is cancelled (they poll their flag every
 * few milliseconds) and every search engine joins its threads.
 */
function onProcessExit(): void {
  addon?.cancelAllBuilds();
  for (const e of stopOnExit) e.destroy();
}

/** Registers something process.exit() must destroy; returns the function that forgets it. */
export function destroyOnExit(e: { destroy(): void }): () => void {
  stopOnExit.add(e);
  return () => stopOnExit.delete(e);
}

function here(): string {
  return path.dirname(fileURLToPath(import.meta.url));
}

/** Loads the addon once; a failure becomes one NativeLoadError that says what to do. */
export function loadAddon(): Addon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const root = path.resolve(here(), '..', '..', '..');
  try {
    const load = require('node-gyp-build') as (dir: string) => Addon;
    addon = load(root);
    process.once('exit', onProcessExit);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    // A checkout has src/; an installed package has only dist/src and rebuilds by reinstalling.
    const fix = existsSync(path.join(root, 'src'))
      ? `run \`npm install\` (or \`npm run build\`) in ${root} with Node ${process.versions.node}, python3, make and a C++17 compiler`
      : `reinstall cfx-miner (npm install -g cfx-miner-<version>.tgz) with Node ${process.versions.node}; where its prebuilt ` +
        'addon does not load, that builds one from source and needs python3, make and a C++17 compiler';
    throw new NativeLoadError(`cannot load the native addon (${reason}); ${fix}`, { cause: err });
  }
  return addon;
}

/** Loads the addon now, so that a broken build is exit 3 before anything else starts. */
export function ensureAddon(): void {
  loadAddon();
}

export function checkHeader(header: Buffer): Buffer {
  if (!Buffer.isBuffer(header) || header.length !== 32) throw new TypeError('header must be a 32-byte Buffer');
  return header;
}

export function checkNonce(nonce: bigint, bits: number): bigint {
  if (typeof nonce !== 'bigint') throw new TypeError('nonce must be a bigint');
  if (nonce < 0n || nonce >= 1n << BigInt(bits)) throw new RangeError(`nonce must fit in ${bits} bits`);
  return nonce;
}

export function checkDatasetBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % 256 !== 0) {
    throw new RangeError('dataset size must be a positive multiple of 256 bytes');
  }
}
