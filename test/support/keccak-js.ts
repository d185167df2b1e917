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

const RATE = 136;

/** `data` with keccak's original padding (0x01 ... 0x80) to whole 136-byte blocks. */
function keccakPad(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((data.length + 1) / RATE) * RATE);
  out.set(data);
  out[data.length]! ^= 0x01;
  out[out.length - 1]! ^= 0x80;
  return out;
}

export function keccak256Js(data: Uint8Array): string {
  const rate = RATE;
  const padded = keccakPad(data);
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

// ---- the same permutation on 32-bit halves: ~100x faster than BigInt, for the test node, which
// checks every keccak submit (thousands a second at difficulty 1).

const RC_LO = Uint32Array.from(RC, (c) => Number(c & 0xffffffffn));
const RC_HI = Uint32Array.from(RC, (c) => Number(c >> 32n));

/** lanes[2i] is lane i's low 32 bits, lanes[2i+1] its high 32 bits. */
function permute32(s: Uint32Array): void {
  const cLo = new Uint32Array(5), cHi = new Uint32Array(5), bLo = new Uint32Array(25), bHi = new Uint32Array(25);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) {
      cLo[x] = s[2 * x]! ^ s[2 * (x + 5)]! ^ s[2 * (x + 10)]! ^ s[2 * (x + 15)]! ^ s[2 * (x + 20)]!;
      cHi[x] = s[2 * x + 1]! ^ s[2 * (x + 5) + 1]! ^ s[2 * (x + 10) + 1]! ^ s[2 * (x + 15) + 1]! ^ s[2 * (x + 20) + 1]!;
    }
    for (let x = 0; x < 5; x++) {
      const l = cLo[(x + 1) % 5]!, h = cHi[(x + 1) % 5]!;
      const dLo = cLo[(x + 4) % 5]! ^ ((l << 1) | (h >>> 31));
      const dHi = cHi[(x + 4) % 5]! ^ ((h << 1) | (l >>> 31));
      for (let y = 0; y < 25; y += 5) {
        s[2 * (x + y)] = s[2 * (x + y)]! ^ dLo;
        s[2 * (x + y) + 1] = s[2 * (x + y) + 1]! ^ dHi;
      }
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        const i = x + 5 * y, to = y + 5 * ((2 * x + 3 * y) % 5), n = ROTATIONS[i]!;
        const lo = s[2 * i]!, hi = s[2 * i + 1]!;
        if (n === 0) { bLo[to] = lo; bHi[to] = hi; }
        else if (n < 32) { bLo[to] = (lo << n) | (hi >>> (32 - n)); bHi[to] = (hi << n) | (lo >>> (32 - n)); }
        else if (n === 32) { bLo[to] = hi; bHi[to] = lo; }
        else { const m = n - 32; bLo[to] = (hi << m) | (lo >>> (32 - m)); bHi[to] = (lo << m) | (hi >>> (32 - m)); }
      }
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) {
        s[2 * (x + y)] = bLo[x + y]! ^ (~bLo[(x + 1) % 5 + y]! & bLo[(x + 2) % 5 + y]!);
        s[2 * (x + y) + 1] = bHi[x + y]! ^ (~bHi[(x + 1) % 5 + y]! & bHi[(x + 2) % 5 + y]!);
      }
    }
    s[0] = s[0]! ^ RC_LO[round]!;
    s[1] = s[1]! ^ RC_HI[round]!;
  }
}

/** keccak-256 of `data` (original padding) with the 32-bit permutation. */
export function keccak256Fast(data: Uint8Array): Buffer {
  const rate = RATE;
  const padded = keccakPad(data);
  const s = new Uint32Array(50);
  const view = new DataView(padded.buffer);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 4; i++) s[i] = s[i]! ^ view.getUint32(off + 4 * i, true);
    permute32(s);
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) out.writeUInt32LE(s[i]!, 4 * i);
  return out;
}
