#include "keccak.h"

#include <cstring>

namespace cfx {
namespace {

inline uint64_t rol(uint64_t x, unsigned n) { return n == 0 ? x : (x << n) | (x >> (64 - n)); }

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

void keccak_f1600(uint64_t st[25]) {
  // rho offsets and pi lane order walked as one cycle (the classic compact formulation); the
  // pragmas let the compiler turn every index into a register name.
  static constexpr unsigned kRotc[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                         27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
  static constexpr unsigned kPiln[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};
  uint64_t a[25];
  std::memcpy(a, st, sizeof(a));
  for (int round = 0; round < 24; ++round) {
    uint64_t bc[5];
#pragma GCC unroll 5
    for (int i = 0; i < 5; ++i) bc[i] = a[i] ^ a[i + 5] ^ a[i + 10] ^ a[i + 15] ^ a[i + 20];
#pragma GCC unroll 5
    for (int i = 0; i < 5; ++i) {
      const uint64_t t = bc[(i + 4) % 5] ^ rol(bc[(i + 1) % 5], 1);
#pragma GCC unroll 5
      for (int j = 0; j < 25; j += 5) a[j + i] ^= t;
    }
    uint64_t t = a[1];
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) {
      const unsigned j = kPiln[i];
      const uint64_t next = a[j];
      a[j] = rol(t, kRotc[i]);
      t = next;
    }
#pragma GCC unroll 5
    for (int j = 0; j < 25; j += 5) {
      uint64_t row[5];
#pragma GCC unroll 5
      for (int i = 0; i < 5; ++i) row[i] = a[j + i];
#pragma GCC unroll 5
      for (int i = 0; i < 5; ++i) a[j + i] = row[i] ^ (~row[(i + 1) % 5] & row[(i + 2) % 5]);
    }
    a[0] ^= kKeccakRoundConstants[round];
  }
  std::memcpy(st, a, sizeof(a));
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
