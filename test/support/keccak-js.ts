// A tiny, slow, independent keccak-256 (original Keccak padding 0x01, rate 136 bytes) in BigInt,
// written from the Keccak reference, for tests that must not trust the addon's own keccak.
const MASK = (1n << 64n) - 1n;
const ROTATIONS = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

function rotl(x: bigint, n: number): bigint {
  return n === 0 ? x : ((x << BigInt(n)) | (x >> BigInt(64 - n))) & MASK;
}

/** Round constants from the LFSR the reference defines (x^8 + x^6 + x^5 + x^4 + 1), not a table. */
function roundConstants(): bigint[] {
  let r = 1;
  const bit = (): number => {
    const out = r & 1;
    r = (r & 0x80) ? ((r << 1) ^ 0x171) & 0xff : (r << 1) & 0xff;
    return out;
  };
  const rc: bigint[] = [];
  for (let round = 0; round < 24; round++) {
    let c = 0n;
    for (let j = 0; j < 7; j++) if (bit()) c |= 1n << BigInt((1 << j) - 1);
    rc.push(c);
  }
  return rc;
}
const RC = roundConstants();

function permute(a: bigint[]): void {
  for (let round = 0; round < 24; round++) {
    const c = [0, 1, 2, 3, 4].map((x) => a[x]! ^ a[x + 5]! ^ a[x + 10]! ^ a[x + 15]! ^ a[x + 20]!);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5]! ^ rotl(c[(x + 1) % 5]!, 1);
      for (let y = 0; y < 25; y += 5) a[x + y] = a[x + y]! ^ d;
    }
    const b = new Array<bigint>(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y]!, ROTATIONS[x + 5 * y]!);
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) a[x + 5 * y] = b[x + 5 * y]! ^ (~b[(x + 1) % 5 + 5 * y]! & MASK & b[(x + 2) % 5 + 5 * y]!);
    }
    a[0] = a[0]! ^ RC[round]!;
  }
}

export function keccak256Js(data: Uint8Array): string {
  const rate = 136;
  const padded = new Uint8Array(Math.ceil((data.length + 1) / rate) * rate);
  padded.set(data);
  padded[data.length]! ^= 0x01;
  padded[padded.length - 1]! ^= 0x80;
  const state = new Array<bigint>(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let k = 7; k >= 0; k--) lane = (lane << 8n) | BigInt(padded[off + 8 * i + k]!);
      state[i] = state[i]! ^ lane;
    }
    permute(state);
  }
  let hex = '';
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 8; k++) hex += Number((state[i]! >> BigInt(8 * k)) & 0xffn).toString(16).padStart(2, '0');
  }
  return hex;
}
