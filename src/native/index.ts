// The only importer of the .node file: loads the addon and wraps it in typed, validated calls.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { NativeLoadError } from '../errors.js';

export type Algo = 'octopus' | 'keccak';
export type HugePages = 'explicit' | 'transparent' | 'none';

export const STAGE_LENGTH = 524288;
/** 2^40 blocks is millennia of Conflux; above it the seed alone would take hours (native/core/params.h). */
export const MAX_HEIGHT = 2 ** 40;
export const U256_MAX = (1n << 256n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;

// What the addon exports (native/binding/addon.cc). Opaque handles are External values.
interface Addon {
  sizes(height: number): { stage: number; seed: Buffer; cacheBytes: number; datasetBytes: number };
  buildCache(stage: number, onProgress: ((done: number, total: number) => void) | undefined,
    cancel: object): Promise<object>;
  newCancelToken(): object;
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
  hashOctopusFull(dataset: object, header: Buffer, nonce: bigint): Buffer;
  octopusTrace(cache: object, header: Buffer, nonce: bigint, datasetBytes: number): {
    a: number; b: number; c: number; w: number; digest: bigint; values: number[]; pages: number[]; hash: Buffer;
  };
  meetsBoundary(hash: Buffer, nonceLe32: Buffer, boundaryBe32: Buffer): boolean;
  cpuFeatures(): { avx512: boolean; keccakImpl: string };
  SearchEngine: new (threads: number, onSolutions: (generation: number, nonces: bigint[], hashes: Buffer[]) => void) => NativeEngine;
}

interface NativeEngine {
  start(job: {
    algo: Algo; header: Buffer; boundary: Buffer; startNonce: bigint;
    cache?: object; dataset?: object; datasetBytes?: number;
  }): number;
  pause(): void;
  destroy(): void;
  generation(): number;
  hashCounts(): number[];
}

let addon: Addon | undefined;

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
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new NativeLoadError(
      `cannot load the native addon (${reason}); run \`npm install\` (or \`npm run build\`) ` +
      `in ${root} with Node ${process.versions.node}, python3, make and a C++17 compiler`,
      { cause: err });
  }
  return addon;
}

// ---------------------------------------------------------------------------------------------
// Validation at the boundary: every value from a user or the network passes through these.

export function parseHex(value: string, what: string, bytes?: number): Buffer {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a hex string`);
  const body = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (body.length === 0 || !/^[0-9a-fA-F]*$/.test(body)) throw new TypeError(`${what} is not hex: ${short(value)}`);
  if (bytes !== undefined && body.length !== bytes * 2) {
    throw new RangeError(`${what} must be ${bytes} bytes (${bytes * 2} hex digits), got ${body.length} digits`);
  }
  if (body.length % 2 !== 0) throw new RangeError(`${what} has an odd number of hex digits`);
  return Buffer.from(body, 'hex');
}

/** A hex quantity (leading zeros optional) as an unsigned bigint of at most `bits` bits. */
export function parseHexUint(value: string, what: string, bits: number): bigint {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a hex string`);
  const body = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (body.length === 0 || !/^[0-9a-fA-F]+$/.test(body)) throw new TypeError(`${what} is not hex: ${short(value)}`);
  const stripped = body.replace(/^0+/, '');
  if (stripped.length > bits / 4) throw new RangeError(`${what} is larger than ${bits} bits`);
  return BigInt('0x' + (stripped || '0'));
}

export function parseHeight(value: unknown, what = 'height'): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) n = Number(value.trim());
  else if (typeof value === 'bigint') n = Number(value);
  else throw new TypeError(`${what} must be a whole number, got ${short(String(value))}`);
  if (!Number.isInteger(n) || n < 0 || n > MAX_HEIGHT) {
    throw new RangeError(`${what} must be a whole number from 0 to ${MAX_HEIGHT}, got ${short(String(value))}`);
  }
  return n;
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function u256ToBe(v: bigint): Buffer {
  if (v < 0n || v > U256_MAX) throw new RangeError('value does not fit in 256 bits');
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

export function u256ToLe(v: bigint): Buffer {
  return u256ToBe(v).reverse();
}

export function beToBigint(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : BigInt('0x' + buf.toString('hex'));
}

function checkHeader(header: Buffer): Buffer {
  if (!Buffer.isBuffer(header) || header.length !== 32) throw new TypeError('header must be a 32-byte Buffer');
  return header;
}

function checkNonce(nonce: bigint, bits: number): bigint {
  if (typeof nonce !== 'bigint') throw new TypeError('nonce must be a bigint');
  if (nonce < 0n || nonce >= 1n << BigInt(bits)) throw new RangeError(`nonce must fit in ${bits} bits`);
  return nonce;
}

// ---------------------------------------------------------------------------------------------
// Parameters

export interface StageSizes { stage: number; seed: Buffer; cacheBytes: number; datasetBytes: number }

export function sizesForHeight(height: number): StageSizes {
  return loadAddon().sizes(parseHeight(height));
}

export function stageOf(height: number): number {
  return Math.floor(parseHeight(height) / STAGE_LENGTH);
}

// ---------------------------------------------------------------------------------------------
// Cache and dataset

export interface BuildOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

function cancelToken(signal: AbortSignal | undefined): object {
  const a = loadAddon();
  const token = a.newCancelToken();
  if (signal) {
    if (signal.aborted) a.cancel(token);
    else signal.addEventListener('abort', () => a.cancel(token), { once: true });
  }
  return token;
}

function abortError(err: unknown): unknown {
  if (err instanceof Error && err.message === 'cancelled') {
    const e = new Error('build cancelled');
    e.name = 'AbortError';
    return e;
  }
  return err;
}

export class CacheHandle {
  private constructor(readonly handle: object, readonly stage: number, readonly bytes: number, readonly nodes: number) {}

  /** Builds the cache for a stage on a native thread (a few hundred ms at stage 0). */
  static async build(stage: number, opts: BuildOptions = {}): Promise<CacheHandle> {
    if (!Number.isInteger(stage) || stage < 0 || stage > Math.floor(MAX_HEIGHT / STAGE_LENGTH)) {
      throw new RangeError(`stage must be a whole number from 0 to ${Math.floor(MAX_HEIGHT / STAGE_LENGTH)}`);
    }
    const a = loadAddon();
    try {
      const h = await a.buildCache(stage, opts.onProgress, cancelToken(opts.signal));
      const info = a.cacheInfo(h);
      return new CacheHandle(h, info.stage, info.bytes, info.nodes);
    } catch (err) {
      throw abortError(err);
    }
  }

  static forHeight(height: number, opts: BuildOptions = {}): Promise<CacheHandle> {
    return CacheHandle.build(stageOf(height), opts);
  }

  node(index: number): Buffer {
    return loadAddon().cacheNode(this.handle, index);
  }

  dagItem(index: number): Buffer {
    return loadAddon().dagItem(this.handle, index);
  }
}

export class DatasetHandle {
  private released = false;
  private constructor(readonly handle: object, readonly stage: number, readonly bytes: number, readonly hugePages: HugePages) {}

  /**
   * Builds a dataset from `cache` on `threads` native threads. `bytes` defaults to the real size
   * for the cache's stage; tests pass a small size (a multiple of 256).
   */
  static async build(cache: CacheHandle, opts: BuildOptions & { bytes?: number; threads?: number; hugePages?: boolean } = {}): Promise<DatasetHandle> {
    const a = loadAddon();
    const bytes = opts.bytes ?? a.sizes(cache.stage * STAGE_LENGTH).datasetBytes;
    checkDatasetBytes(bytes);
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new RangeError('threads must be 1 to 1024');
    try {
      const h = await a.buildDataset(cache.handle, bytes, threads, opts.hugePages ?? true, opts.onProgress, cancelToken(opts.signal));
      const info = a.datasetInfo(h);
      return new DatasetHandle(h, info.stage, info.bytes, info.hugePages);
    } catch (err) {
      throw abortError(err);
    }
  }

  /**
   * A dataset whose memory is reserved but not filled: only the items written through
   * `fill` hold data. Tests use it to run full mode at a real size without building 4 GiB.
   */
  static allocate(stage: number, bytes: number): DatasetHandle {
    checkDatasetBytes(bytes);
    const a = loadAddon();
    const h = a.allocDataset(bytes, stage);
    const info = a.datasetInfo(h);
    return new DatasetHandle(h, info.stage, info.bytes, info.hugePages);
  }

  fill(cache: CacheHandle, firstItem: number, count: number): void {
    loadAddon().fillDatasetItems(this.handle, cache.handle, firstItem, count);
  }

  /** Frees the memory now rather than at garbage collection; engines holding it keep it alive. */
  release(): void {
    if (this.released) return;
    this.released = true;
    loadAddon().releaseDataset(this.handle);
  }
}

function checkDatasetBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % 256 !== 0) {
    throw new RangeError('dataset size must be a positive multiple of 256 bytes');
  }
}

// ---------------------------------------------------------------------------------------------
// One-shot hashes

/** keccak-256 (the original Keccak padding, not NIST SHA3-256) of any bytes. */
export function keccak256(data: Buffer): Buffer {
  if (!Buffer.isBuffer(data)) throw new TypeError('keccak256 needs a Buffer');
  return loadAddon().keccak256(data);
}

/** keccak256(keccak256(header || nonce as 32 bytes LE) XOR header); the nonce is all 256 bits. */
export function hashKeccak(header: Buffer, nonce: bigint): Buffer {
  return loadAddon().hashKeccak(checkHeader(header), u256ToLe(checkNonce(nonce, 256)));
}

/** Octopus in light mode; the hash uses the nonce's low 64 bits (as the node does). */
export function hashOctopusLight(cache: CacheHandle, header: Buffer, nonce: bigint, datasetBytes?: number): Buffer {
  const bytes = datasetBytes ?? loadAddon().sizes(cache.stage * STAGE_LENGTH).datasetBytes;
  checkDatasetBytes(bytes);
  return loadAddon().hashOctopusLight(cache.handle, checkHeader(header), checkNonce(nonce, 256) & U64_MAX, bytes);
}

export function hashOctopusFull(dataset: DatasetHandle, header: Buffer, nonce: bigint): Buffer {
  return loadAddon().hashOctopusFull(dataset.handle, checkHeader(header), checkNonce(nonce, 256) & U64_MAX);
}

export interface OctopusTrace {
  a: number; b: number; c: number; w: number;
  digest: bigint; values: number[]; pages: number[]; hash: Buffer;
}

export function octopusTrace(cache: CacheHandle, header: Buffer, nonce: bigint, datasetBytes?: number): OctopusTrace {
  const bytes = datasetBytes ?? loadAddon().sizes(cache.stage * STAGE_LENGTH).datasetBytes;
  checkDatasetBytes(bytes);
  return loadAddon().octopusTrace(cache.handle, checkHeader(header), checkNonce(nonce, 256) & U64_MAX, bytes);
}

/** The node's rule: (hash - lower_bound(nonce)) mod 2^256 < boundary. */
export function meetsBoundary(hash: Buffer, nonce: bigint, boundary: bigint): boolean {
  if (!Buffer.isBuffer(hash) || hash.length !== 32) throw new TypeError('hash must be a 32-byte Buffer');
  if (typeof boundary !== 'bigint' || boundary <= 0n) throw new RangeError('boundary must be from 1 to 2^256-1');
  return loadAddon().meetsBoundary(hash, u256ToLe(checkNonce(nonce, 256)), u256ToBe(boundary));
}

export function cpuFeatures(): { avx512: boolean; keccakImpl: string } {
  return loadAddon().cpuFeatures();
}

// ---------------------------------------------------------------------------------------------
// The search engine

export interface SearchJobSpec {
  algo: Algo;
  header: Buffer;
  boundary: bigint;
  startNonce: bigint;
  cache?: CacheHandle;
  dataset?: DatasetHandle;
  /** Light mode: the dataset size the hash is defined over (default: the real one for the stage). */
  datasetBytes?: number;
}

export interface FoundNonce { generation: number; nonce: bigint; hash: Buffer }

/**
 * Native search threads. `onSolutions` runs on the main thread with the solutions of the current
 * generation only; solutions found under a replaced job are dropped (and counted) before JS sees them.
 */
export class SearchEngine {
  private readonly native: NativeEngine;
  private destroyed = false;
  droppedStale = 0;

  constructor(readonly threads: number, onSolutions: (found: FoundNonce[]) => void) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new RangeError('threads must be 1 to 1024');
    this.native = new (loadAddon().SearchEngine)(threads, (generation, nonces, hashes) => {
      if (this.destroyed) return;
      if (generation !== this.native.generation()) {
        this.droppedStale += nonces.length;
        return;
      }
      onSolutions(nonces.map((nonce, i) => ({ generation, nonce, hash: hashes[i]! })));
    });
  }

  /** Switches all threads to the job; returns its generation once no thread hashes the old one. */
  start(job: SearchJobSpec): number {
    if (this.destroyed) throw new Error('search engine destroyed');
    checkHeader(job.header);
    if (job.boundary <= 0n || job.boundary > U256_MAX) throw new RangeError('boundary must be from 1 to 2^256-1');
    checkNonce(job.startNonce, 64);
    let datasetBytes = job.datasetBytes;
    if (job.algo === 'octopus') {
      if (!job.cache) throw new TypeError('octopus needs a cache');
      if (job.dataset) datasetBytes = job.dataset.bytes;
      datasetBytes ??= loadAddon().sizes(job.cache.stage * STAGE_LENGTH).datasetBytes;
      checkDatasetBytes(datasetBytes);
    } else if (job.algo !== 'keccak') {
      throw new TypeError(`unknown algo ${String(job.algo)}`);
    }
    return this.native.start({
      algo: job.algo, header: job.header, boundary: u256ToBe(job.boundary), startNonce: job.startNonce,
      cache: job.cache?.handle, dataset: job.dataset?.handle, datasetBytes,
    });
  }

  pause(): void {
    if (!this.destroyed) this.native.pause();
  }

  get generation(): number {
    return this.destroyed ? 0 : this.native.generation();
  }

  /** Hashes done by each thread since the engine started (relaxed counters, read any time). */
  hashCounts(): number[] {
    return this.destroyed ? [] : this.native.hashCounts();
  }

  totalHashes(): number {
    return this.hashCounts().reduce((a, b) => a + b, 0);
  }

  /** Stops and joins every thread; safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.native.destroy();
  }
}
