#include "params.h"

#include <cstring>

#include "keccak.h"

namespace cfx {
namespace {

uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % m);
}

uint64_t powmod(uint64_t b, uint64_t e, uint64_t m) {
  uint64_t r = 1 % m;
  b %= m;
  while (e) {
    if (e & 1) r = mulmod(r, b, m);
    b = mulmod(b, b, m);
    e >>= 1;
  }
  return r;
}

}  // namespace

bool is_prime_u64(uint64_t n) {
  if (n < 2) return false;
  static constexpr uint64_t kSmall[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  for (uint64_t p : kSmall) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // These twelve bases decide primality for every n < 2^64.
  for (uint64_t a : kSmall) {
    uint64_t x = powmod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = mulmod(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

uint64_t cache_bytes_for_stage(uint64_t stage) {
  uint64_t size = (1ULL << 24) + (1ULL << 16) * stage - kNodeBytes;
  while (!is_prime_u64(size / kNodeBytes)) size -= 2 * kNodeBytes;
  return size;
}

uint64_t dataset_bytes_for_stage(uint64_t stage) {
  uint64_t size = (1ULL << 32) + (1ULL << 24) * stage - kPageBytes;
  while (!is_prime_u64(size / kPageBytes)) size -= 2 * kPageBytes;
  return size;
}

void seed_for_stage(uint64_t stage, uint8_t out[32]) {
  uint8_t seed[32] = {0};
  for (uint64_t i = 0; i < stage; ++i) keccak256(seed, 32, seed);
  std::memcpy(out, seed, 32);
}

}  // namespace cfx
