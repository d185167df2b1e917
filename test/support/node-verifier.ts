// What the test node checks submits with, written apart from the miner: keccak PoW and the
// boundary rule from PROTOCOL.md in plain JS, Octopus with the independent baseline addon
// (test/baseline/, its own cache and light hash). None of it runs the product's hashing code, so
// an "accepted" cannot hide a bug the miner and the node would share; node-verifier.test.ts pins
// both down to the reference vectors.
import type { Algo } from '../../src/native/params.js';
import { baselineHash } from './baseline.js';
import { keccak256Fast } from './keccak-js.js';

const TWO_256 = 1n << 256n;

/** keccak256(keccak256(pow_hash || nonce as 32 bytes LE) XOR pow_hash), PROTOCOL.md. */
export function keccakPowJs(header: Buffer, nonce: bigint): Buffer {
  const input = Buffer.alloc(64);
  header.copy(input, 0);
  let n = nonce;
  for (let i = 32; i < 64; i++, n >>= 8n) input[i] = Number(n & 0xffn);
  const inner = keccak256Fast(input);
  for (let i = 0; i < 32; i++) inner[i] = inner[i]! ^ header[i]!;
  return keccak256Fast(inner);
}

/** (hash - lower_bound(nonce)) mod 2^256 < boundary, lower_bound = the nonce's top 128 bits, bit 255 cleared. */
export function meetsBoundaryJs(hash: Buffer, nonce: bigint, boundary: bigint): boolean {
  const h = BigInt(`0x${hash.toString('hex')}`);
  const lower = ((nonce >> 128n) << 128n) & ((1n << 255n) - 1n);
  return (((h - lower) % TWO_256) + TWO_256) % TWO_256 < boundary;
}

export class NodeVerifier {
  async verify(job: { algo: Algo; header: Buffer; height: number; boundary: bigint }, nonce: bigint): Promise<{ valid: boolean }> {
    const hash = job.algo === 'keccak' ? keccakPowJs(job.header, nonce) : await baselineHash(job.header, job.height, nonce);
    return { valid: meetsBoundaryJs(hash, nonce, job.boundary) };
  }
}
