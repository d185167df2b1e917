#include "baseline.h"

#include <cstring>

namespace cfx {
namespace baseline {
namespace {

constexpr uint64_t kP = 1032193;

// ---- keccak-f[1600], the classic compact form (theta, rho+pi along the lane cycle, chi, iota)

constexpr uint64_t kRc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
// rho offsets and pi destinations along the single 24-lane cycle that starts at lane 1.
constexpr int kRotc[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPiln[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

inline uint64_t rotl64(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

void keccakf(uint64_t st[25]) {
  uint64_t bc[5];
  for (int round = 0; round < 24; ++round) {
    for (int i = 0; i < 5; ++i) bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
    for (int i = 0; i < 5; ++i) {
      const uint64_t t = bc[(i + 4) % 5] ^ rotl64(bc[(i + 1) % 5], 1);
      for (int j = 0; j < 25; j += 5) st[j + i] ^= t;
    }
    uint64_t t = st[1];
    for (int i = 0; i < 24; ++i) {
      const int j = kPiln[i];
      const uint64_t next = st[j];
      st[j] = rotl64(t, kRotc[i]);
      t = next;
    }
    for (int j = 0; j < 25; j += 5) {
      for (int i = 0; i < 5; ++i) bc[i] = st[j + i];
      for (int i = 0; i < 5; ++i) st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
    }
    st[0] ^= kRc[round];
  }
}

void keccak(const uint8_t* in, uint64_t len, uint64_t rate, uint8_t* out, uint64_t out_len) {
  uint64_t st[25] = {0};
  uint8_t* bytes = reinterpret_cast<uint8_t*>(st);  // a little-endian host: lane bytes in order
  while (len >= rate) {
    for (uint64_t i = 0; i < rate; ++i) bytes[i] ^= in[i];
    keccakf(st);
    in += rate;
    len -= rate;
  }
  for (uint64_t i = 0; i < len; ++i) bytes[i] ^= in[i];
  bytes[len] ^= 0x01;
  bytes[rate - 1] ^= 0x80;
  keccakf(st);
  std::memcpy(out, bytes, out_len);
}

// ---- the pieces of OCTOPUS.md

inline uint32_t fnv32(uint32_t x, uint32_t y) { return (x * 0x01000193u) ^ y; }

uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    const uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

uint64_t pow_mod_p(uint64_t b, uint64_t e) {
  uint64_t r = 1;
  b %= kP;
  for (; e; e >>= 1) {
    if (e & 1) r = r * b % kP;
    b = b * b % kP;
  }
  return r;
}

uint64_t remap(uint64_t h) {
  uint64_t e = h % (kP - 2) + 1;
  for (uint64_t g = gcd(e, kP - 1); g != 1; g = gcd(e, kP - 1)) e /= g;
  return pow_mod_p(11, e);
}

struct Sip {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);
    v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);
  }
};

// One DAG item, the plain way: its 256 parent reads one after the other.
void dag_item(const uint32_t* cache, uint64_t nodes, uint32_t index, uint32_t item[16]) {
  uint32_t mix[16];
  std::memcpy(mix, cache + (index % nodes) * 16, 64);
  mix[0] ^= index;
  keccak(reinterpret_cast<const uint8_t*>(mix), 64, 72, reinterpret_cast<uint8_t*>(mix), 64);
  for (uint32_t k = 0; k < 256; ++k) {
    const uint32_t parent = static_cast<uint32_t>(fnv32(index ^ k, mix[k % 16]) % nodes);
    const uint32_t* p = cache + uint64_t(parent) * 16;
    for (int w = 0; w < 16; ++w) mix[w] = fnv32(mix[w], p[w]);
  }
  keccak(reinterpret_cast<const uint8_t*>(mix), 64, 72, reinterpret_cast<uint8_t*>(item), 64);
}

bool is_prime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

}  // namespace

uint64_t baseline_cache_bytes(uint64_t stage) {
  uint64_t size = (uint64_t(1) << 24) + (uint64_t(1) << 16) * stage - 64;
  while (!is_prime(size / 64)) size -= 128;
  return size;
}

uint64_t baseline_dataset_bytes(uint64_t stage) {
  uint64_t size = (uint64_t(1) << 32) + (uint64_t(1) << 24) * stage - 256;
  while (!is_prime(size / 256)) size -= 512;
  return size;
}

void baseline_cache(uint64_t stage, uint64_t cache_bytes, uint32_t* words) {
  uint8_t seed[32] = {0};
  for (uint64_t s = 0; s < stage; ++s) keccak(seed, 32, 136, seed, 32);
  const uint64_t n = cache_bytes / 64;
  uint8_t* nodes = reinterpret_cast<uint8_t*>(words);  // a little-endian host: words in byte order
  keccak(seed, 32, 72, nodes, 64);
  for (uint64_t i = 1; i < n; ++i) keccak(nodes + (i - 1) * 64, 64, 72, nodes + i * 64, 64);
  for (int round = 0; round < 3; ++round) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t j = words[i * 16] % n;
      uint8_t x[64];
      for (int b = 0; b < 64; ++b) x[b] = nodes[((i + n - 1) % n) * 64 + b] ^ nodes[j * 64 + b];
      keccak(x, 64, 72, nodes + i * 64, 64);
    }
  }
}

void baseline_keccak256(const uint8_t* in, uint64_t len, uint8_t out[32]) { keccak(in, len, 136, out, 32); }
void baseline_keccak512(const uint8_t* in, uint64_t len, uint8_t out[64]) { keccak(in, len, 72, out, 64); }

void baseline_values(const uint8_t header[32], uint64_t nonce, uint32_t values[32]) {
  uint64_t v[4];
  std::memcpy(v, header, 32);
  const uint64_t a = remap(v[0]), b = remap(v[1]), w = remap(v[3]);
  uint64_t c = 0;
  for (uint64_t t = 0;; ++t) {
    c = remap(v[2] + t);
    if (b * b % kP != 4 * a * c % kP) break;
  }
  // Only this nonce's lane-independent coefficients are needed, but all 32 lanes feed d.
  const uint64_t warp = nonce / 32;
  uint32_t d[1024];
  for (uint32_t lane = 0; lane < 32; ++lane) {
    const uint64_t m = warp * 32 + lane;
    Sip s{v[0], v[1], v[2], v[3]};
    s.v3 ^= m;
    s.round();
    s.round();
    s.v0 ^= m;
    s.v2 ^= 0xff;
    for (int r = 0; r < 4; ++r) s.round();
    for (uint32_t i = 0; i < 32; ++i) {
      s.round();
      d[i * 32 + lane] = static_cast<uint32_t>(s.v0 ^ s.v1 ^ s.v2 ^ s.v3) % kP;
    }
  }
  const uint64_t r = nonce % 32;
  for (uint32_t i = 0; i < 32; ++i) {
    const uint64_t k = r + 32 * i;
    const uint64_t wk = pow_mod_p(w, k);
    const uint64_t x = (a * (wk * wk % kP) + b * wk + c) % kP;
    uint64_t acc = 0;
    for (int j = 1023; j >= 0; --j) acc = (acc * x + d[j]) % kP;
    values[i] = static_cast<uint32_t>(acc);
  }
}

void baseline_hash_light(const uint8_t header[32], uint64_t nonce, const uint32_t* cache_words,
                         uint64_t cache_nodes, uint64_t dataset_bytes, uint8_t out[32]) {
  uint32_t values[32];
  baseline_values(header, nonce, values);
  uint64_t digest = 0;
  for (int i = 0; i < 32; ++i) digest = (digest * 0x01000193ull) ^ values[i];

  uint8_t seed_in[40];
  std::memcpy(seed_in, header, 32);
  std::memcpy(seed_in + 32, &digest, 8);
  uint32_t seed[16];
  keccak(seed_in, 40, 72, reinterpret_cast<uint8_t*>(seed), 64);

  uint32_t mix[64];
  for (int n = 0; n < 4; ++n) std::memcpy(mix + 16 * n, seed, 64);
  const uint64_t pages = dataset_bytes / 256;
  for (uint32_t i = 0; i < 32; ++i) {
    const uint64_t page = fnv32(seed[0] ^ i ^ values[i], mix[i % 64]) % pages;
    for (uint32_t n = 0; n < 4; ++n) {
      uint32_t item[16];
      dag_item(cache_words, cache_nodes, static_cast<uint32_t>(page * 4 + n), item);
      for (int w = 0; w < 16; ++w) mix[n * 16 + w] = fnv32(mix[n * 16 + w], item[w]);
    }
  }
  uint32_t reduced[16];
  for (int g = 0; g < 16; ++g)
    reduced[g] = fnv32(fnv32(fnv32(mix[4 * g], mix[4 * g + 1]), mix[4 * g + 2]), mix[4 * g + 3]);
  uint8_t final_in[96];
  std::memcpy(final_in, seed, 64);
  for (int i = 0; i < 8; ++i) {
    const uint32_t c = fnv32(reduced[i], reduced[i + 8]);
    std::memcpy(final_in + 64 + 4 * i, &c, 4);
  }
  keccak(final_in, 96, 136, out, 32);
}

}  // namespace baseline
}  // namespace cfx
