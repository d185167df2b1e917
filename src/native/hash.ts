// One-shot hashes and the boundary rule (the host-side re-check, `cfx-miner hash`, the tests).
import { u256ToBe, u256ToLe } from '../hex.js';
import { checkDatasetBytes, checkHeader, checkNonce, loadAddon } from './addon.js';
import type { CacheHandle, DatasetHandle } from './handles.js';
import { STAGE_LENGTH, U64_MAX } from './params.js';

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

/** hashOctopusLight on a pool thread: the event loop is not held while the 128 items are computed. */
export function hashOctopusLightAsync(cache: CacheHandle, header: Buffer, nonce: bigint, datasetBytes: number): Promise<Buffer> {
  checkDatasetBytes(datasetBytes);
  return loadAddon().hashOctopusLightAsync(cache.handle, checkHeader(header), checkNonce(nonce, 256) & U64_MAX, datasetBytes);
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

export function cpuFeatures(): { avx512: boolean; keccakImpl: string; polyImpl: string } {
  return loadAddon().cpuFeatures();
}

export type { SelfTestReport } from './addon.js';

/**
 * The self-test of every kernel the CPU selected (native/core/self_test.h): known answers from
 * the reference vectors and a small cache, in milliseconds. A failing path is switched off for
 * the process before the report comes back (the next search job uses the next path).
 */
export function selfTest(): import('./addon.js').SelfTestReport {
  return loadAddon().selfTest();
}

/** Stops using a kernel path for the rest of the process (the next job's batchers take the next one). */
export function disableKernel(kernel: 'amx' | 'avx512'): void {
  loadAddon().disableKernel(kernel);
}
