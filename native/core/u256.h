// Just enough 256-bit arithmetic for the node's boundary rule (PROTOCOL.md, "Which nonces are valid").
#pragma once
#include <cstdint>
#include <cstring>

namespace cfx {

struct U256 {
  uint64_t limb[4] = {0, 0, 0, 0};  // limb[0] is the least significant
};

inline U256 u256_from_be(const uint8_t b[32]) {
  U256 r;
  for (int i = 0; i < 4; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v = (v << 8) | b[(3 - i) * 8 + j];
    r.limb[i] = v;
  }
  return r;
}

inline U256 u256_from_le(const uint8_t b[32]) {
  U256 r;
  std::memcpy(r.limb, b, 32);  // little-endian host
  return r;
}

inline U256 u256_from_u64(uint64_t v) {
  U256 r;
  r.limb[0] = v;
  return r;
}

inline bool u256_less(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; --i) {
    if (a.limb[i] != b.limb[i]) return a.limb[i] < b.limb[i];
  }
  return false;
}

inline bool u256_is_zero(const U256& a) { return (a.limb[0] | a.limb[1] | a.limb[2] | a.limb[3]) == 0; }

// a - b modulo 2^256.
inline U256 u256_sub(const U256& a, const U256& b) {
  U256 r;
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t d = a.limb[i] - b.limb[i];
    const uint64_t b1 = a.limb[i] < b.limb[i];
    r.limb[i] = d - borrow;
    borrow = b1 | (d < borrow);
  }
  return r;
}

// The nonce's top 128 bits with bit 255 cleared; the low 128 bits zero.
inline U256 nonce_lower_bound(const U256& nonce) {
  U256 r;
  r.limb[2] = nonce.limb[2];
  r.limb[3] = nonce.limb[3] & 0x7fffffffffffffffULL;
  return r;
}

// The node's rule: (hash - lower_bound(nonce)) mod 2^256 < boundary, hash read big-endian.
inline bool meets_boundary(const uint8_t hash_be[32], const U256& nonce, const U256& boundary) {
  return u256_less(u256_sub(u256_from_be(hash_be), nonce_lower_bound(nonce)), boundary);
}

}  // namespace cfx
