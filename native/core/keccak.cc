#include "keccak.h"

#include <cstring>

namespace cfx {
namespace {

constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

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

void keccak_f1600(uint64_t a[25]) {
  for (int round = 0; round < 24; ++round) {
    uint64_t c[5], d[5];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) d[x] = c[(x + 4) % 5] ^ rol(c[(x + 1) % 5], 1);
    for (int i = 0; i < 25; ++i) a[i] ^= d[i % 5];
    // rho and pi: b[y][2x+3y] = rol(a[x][y], r[x][y])
    static constexpr unsigned kRho[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                          25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};
    uint64_t b[25];
    for (int x = 0; x < 5; ++x)
      for (int y = 0; y < 5; ++y) b[y + 5 * ((2 * x + 3 * y) % 5)] = rol(a[x + 5 * y], kRho[x + 5 * y]);
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 5; ++x)
        a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
    a[0] ^= kRoundConstants[round];
  }
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
