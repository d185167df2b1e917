// One-shot hashes and the boundary rule (the host-side re-check, `cfx-miner hash`, the tests).
// The binding checks the buffers, handles and sizes; here only what JS turns into them.
import { U256_MAX, u256ToBe, u256ToLe } from '../hex.js';
import type { KernelPath, SelfTestReport } from './contract.js';
import type { CacheHandle } from './handles.js';
import { loadAddon } from './loader.js';
import { U64_MAX } from './params.js';

export type { KernelPath, SelfTestReport } from './contract.js';

/** keccak-256 (the original Keccak padding, not NIST SHA3-256) of any bytes. */
export function keccak256(data: Buffer): Buffer {
  return loadAddon().keccak256(data);
}

/** keccak256(keccak256(header || nonce as 32 bytes LE) XOR header); the nonce is all 256 bits. */
export function hashKeccak(header: Buffer, nonce: bigint): Buffer {
  return loadAddon().hashKeccak(header, u256ToLe(nonce256(nonce)));
}

/** A nonce as the node takes it: any 256-bit value. */
function nonce256(nonce: bigint): bigint {
  if (typeof nonce !== 'bigint') throw new TypeError('nonce must be a bigint');
  if (nonce < 0n || nonce > U256_MAX) throw new RangeError('nonce must fit in 256 bits');
  return nonce;
}

/** The low 64 bits of a 256-bit nonce: what Octopus hashes (as the node does). */
export function octopusNonce(nonce: bigint): bigint {
  return nonce256(nonce) & U64_MAX;
}

/**
 * Octopus in light mode, on a pool thread: the event loop is not held while the 128 items are
 * computed. The hash uses the nonce's low 64 bits (as the node does).
 */
export function hashOctopusLightAsync(cache: CacheHandle, header: Buffer, nonce: bigint, datasetBytes: number): Promise<Buffer> {
  return loadAddon().hashOctopusLightAsync(cache.handle, header, octopusNonce(nonce), datasetBytes);
}

/** The node's rule: (hash - lower_bound(nonce)) mod 2^256 < boundary. */
export function meetsBoundary(hash: Buffer, nonce: bigint, boundary: bigint): boolean {
  if (typeof boundary !== 'bigint' || boundary <= 0n) throw new RangeError('boundary must be from 1 to 2^256-1');
  return loadAddon().meetsBoundary(hash, u256ToLe(nonce256(nonce)), u256ToBe(boundary));
}

export function cpuFeatures(): { avx512: boolean; keccakImpl: string; polyImpl: string } {
  return loadAddon().cpuFeatures();
}

/**
 * The self-test of every kernel the CPU selected (native/core/self_test.h): known answers from
 * the reference vectors and a small cache, in milliseconds. A failing path is switched off for
 * the process before the report comes back (the next search job uses the next path).
 */
export function selfTest(): SelfTestReport {
  return loadAddon().selfTest();
}

/** Stops using a kernel path for the rest of the process (the next job's batchers take the next one). */
export function disableKernel(kernel: KernelPath): void {
  loadAddon().disableKernel(kernel);
}
