#include "keccak.h"
#include "keccak_lanes.h"

#include <cstring>

namespace cfx {
namespace {

inline uint64_t rol64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }  // 0 < n < 64

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // the core assumes a little-endian host (x86-64, arm64)
  return v;
}

inline void store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// Sponge with a rate of `rate` bytes and an output of `out_len` <= rate bytes.
void keccak_sponge(const uint8_t* in, size_t len, size_t rate, uint8_t* out, size_t out_len) {
  uint64_t st[25] = {0};
  while (len >= rate) {
    for (size_t i = 0; i < rate / 8; ++i) st[i] ^= load64(in + 8 * i);
    keccak_f1600(st);
    in += rate;
    len -= rate;
  }
  uint8_t block[200] = {0};
  std::memcpy(block, in, len);
  block[len] ^= 0x01;
  block[rate - 1] ^= 0x80;
  for (size_t i = 0; i < rate / 8; ++i) st[i] ^= load64(block + 8 * i);
  keccak_f1600(st);
  for (size_t i = 0; i < out_len / 8; ++i) store64(out + 8 * i, st[i]);
}

}  // namespace

// Every lane a named local, the 24 rounds a loop: the compiler keeps the state in registers
// (faster than the compact rho/pi-cycle formulation this replaced, and the one scalar
// permutation of the core: the 8-lane portable path calls it too).
void keccak_f1600(uint64_t s[25]) {
  CFX_KECCAK_LOAD_LANES(uint64_t, s);
  for (int round = 0; round < 24; ++round) {
    const uint64_t c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
    const uint64_t c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
    const uint64_t c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
    const uint64_t c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
    const uint64_t c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
    const uint64_t d0 = c4 ^ rol64(c1, 1);
    const uint64_t d1 = c0 ^ rol64(c2, 1);
    const uint64_t d2 = c1 ^ rol64(c3, 1);
    const uint64_t d3 = c2 ^ rol64(c4, 1);
    const uint64_t d4 = c3 ^ rol64(c0, 1);
    const uint64_t b00 = a00 ^ d0;
    const uint64_t b01 = rol64(a06 ^ d1, 44);
    const uint64_t b02 = rol64(a12 ^ d2, 43);
    const uint64_t b03 = rol64(a18 ^ d3, 21);
    const uint64_t b04 = rol64(a24 ^ d4, 14);
    const uint64_t b05 = rol64(a03 ^ d3, 28);
    const uint64_t b06 = rol64(a09 ^ d4, 20);
    const uint64_t b07 = rol64(a10 ^ d0, 3);
    const uint64_t b08 = rol64(a16 ^ d1, 45);
    const uint64_t b09 = rol64(a22 ^ d2, 61);
    const uint64_t b10 = rol64(a01 ^ d1, 1);
    const uint64_t b11 = rol64(a07 ^ d2, 6);
    const uint64_t b12 = rol64(a13 ^ d3, 25);
    const uint64_t b13 = rol64(a19 ^ d4, 8);
    const uint64_t b14 = rol64(a20 ^ d0, 18);
    const uint64_t b15 = rol64(a04 ^ d4, 27);
    const uint64_t b16 = rol64(a05 ^ d0, 36);
    const uint64_t b17 = rol64(a11 ^ d1, 10);
    const uint64_t b18 = rol64(a17 ^ d2, 15);
    const uint64_t b19 = rol64(a23 ^ d3, 56);
    const uint64_t b20 = rol64(a02 ^ d2, 62);
    const uint64_t b21 = rol64(a08 ^ d3, 55);
    const uint64_t b22 = rol64(a14 ^ d4, 39);
    const uint64_t b23 = rol64(a15 ^ d0, 41);
    const uint64_t b24 = rol64(a21 ^ d1, 2);
    a00 = b00 ^ (~b01 & b02);
    a01 = b01 ^ (~b02 & b03);
    a02 = b02 ^ (~b03 & b04);
    a03 = b03 ^ (~b04 & b00);
    a04 = b04 ^ (~b00 & b01);
    a05 = b05 ^ (~b06 & b07);
    a06 = b06 ^ (~b07 & b08);
    a07 = b07 ^ (~b08 & b09);
    a08 = b08 ^ (~b09 & b05);
    a09 = b09 ^ (~b05 & b06);
    a10 = b10 ^ (~b11 & b12);
    a11 = b11 ^ (~b12 & b13);
    a12 = b12 ^ (~b13 & b14);
    a13 = b13 ^ (~b14 & b10);
    a14 = b14 ^ (~b10 & b11);
    a15 = b15 ^ (~b16 & b17);
    a16 = b16 ^ (~b17 & b18);
    a17 = b17 ^ (~b18 & b19);
    a18 = b18 ^ (~b19 & b15);
    a19 = b19 ^ (~b15 & b16);
    a20 = b20 ^ (~b21 & b22);
    a21 = b21 ^ (~b22 & b23);
    a22 = b22 ^ (~b23 & b24);
    a23 = b23 ^ (~b24 & b20);
    a24 = b24 ^ (~b20 & b21);
    a00 ^= kKeccakRoundConstants[round];
  }
  CFX_KECCAK_STORE_LANES(s);
}

void keccak256(const uint8_t* in, size_t len, uint8_t out[32]) { keccak_sponge(in, len, 136, out, 32); }

void keccak512(const uint8_t* in, size_t len, uint8_t out[64]) { keccak_sponge(in, len, 72, out, 64); }

void keccak512_64(const uint8_t in[64], uint8_t out[64]) {
  uint64_t st[25] = {0};
  for (int i = 0; i < 8; ++i) st[i] = load64(in + 8 * i);
  st[8] = 0x8000000000000001ULL;  // 0x01 right after the 64 bytes, 0x80 at the end of the 72-byte rate
  keccak_f1600(st);
  for (int i = 0; i < 8; ++i) store64(out + 8 * i, st[i]);
}

}  // namespace cfx
