#include "keccak_x8.h"
#include "keccak_lanes.h"

#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "keccak.h"

#include "avx512.h"

namespace cfx {
namespace {

inline uint64_t rol64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian host, as everywhere in the core
  return v;
}

inline void store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// Absorbs `in_words` little-endian words of every input (one block: the inputs here are all
// shorter than the rate), pads, permutes and squeezes `out_words` words.
void sponge_x8_portable(const uint8_t* const in[8], uint8_t* const out[8], int in_words, int rate_words,
                        int out_words) {
  uint64_t st[8][25];
  for (int s = 0; s < 8; ++s) {
    std::memset(st[s], 0, sizeof(st[s]));
    for (int i = 0; i < in_words; ++i) st[s][i] = load64(in[s] + 8 * i);
    st[s][in_words] ^= 0x01;                         // padding byte right after the message
    st[s][rate_words - 1] ^= 0x8000000000000000ULL;  // and 0x80 on the rate's last byte
  }
  for (int s = 0; s < 8; ++s) {
    keccak_f1600(st[s]);
    for (int i = 0; i < out_words; ++i) store64(out[s] + 8 * i, st[s][i]);
  }
}

// keccak256 pads a message of whole words with 0x01 in the word after it and 0x80 in the top
// byte of the rate's last word (17 words of 136 bytes).
constexpr int kRate256Words = 17;
constexpr uint64_t kPadFirst = 0x01;
constexpr uint64_t kPadLast = 0x8000000000000000ULL;

}  // namespace

void keccak_f1600_x8_portable(uint64_t lanes[25][8]) {
  for (int s = 0; s < 8; ++s) {
    uint64_t st[25];
    for (int i = 0; i < 25; ++i) st[i] = lanes[i][s];
    keccak_f1600(st);
    for (int i = 0; i < 25; ++i) lanes[i][s] = st[i];
  }
}

void keccak512_64_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]) {
  sponge_x8_portable(in, out, 8, 9, 8);
}

void keccak512_40_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]) {
  sponge_x8_portable(in, out, 5, 9, 8);
}

void keccak256_96_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]) {
  sponge_x8_portable(in, out, 12, 17, 4);
}

uint32_t keccak_pow_x8_portable(const uint64_t header_words[4], uint64_t first, uint64_t top_limit,
                                uint8_t out[8][32]) {
  uint32_t mask = 0;
  for (int s = 0; s < 8; ++s) {
    // Inner: header (words 0-3) || nonce (word 4; words 5-7 are its zero high bytes), 64 bytes.
    uint64_t st[25] = {0};
    for (int i = 0; i < 4; ++i) st[i] = header_words[i];
    st[4] = first + static_cast<uint64_t>(s);
    st[8] = kPadFirst;
    st[kRate256Words - 1] = kPadLast;
    keccak_f1600(st);
    // Outer: (inner digest XOR header), 32 bytes.
    uint64_t st2[25] = {0};
    for (int i = 0; i < 4; ++i) st2[i] = st[i] ^ header_words[i];
    st2[4] = kPadFirst;
    st2[kRate256Words - 1] = kPadLast;
    keccak_f1600(st2);
    if (__builtin_bswap64(st2[0]) > top_limit) continue;  // the hash's first 8 bytes, big-endian
    mask |= 1u << s;
    for (int i = 0; i < 4; ++i) store64(out[s] + 8 * i, st2[i]);
  }
  return mask;
}

#if CFX_HAVE_AVX512_KERNELS
namespace {

// 24 rounds on 8 states: s[i] holds lane i of all 8. Straight-line rounds on named variables so
// the compiler keeps the state in registers (an indexed array would go through memory).
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void permute_zmm(__m512i s[25]) {
  CFX_KECCAK_LOAD_LANES(__m512i, s);
  for (int round = 0; round < 24; ++round) {
    const __m512i c0 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a00, a05, a10, 0x96), a15, a20, 0x96);
    const __m512i c1 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a01, a06, a11, 0x96), a16, a21, 0x96);
    const __m512i c2 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a02, a07, a12, 0x96), a17, a22, 0x96);
    const __m512i c3 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a03, a08, a13, 0x96), a18, a23, 0x96);
    const __m512i c4 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a04, a09, a14, 0x96), a19, a24, 0x96);
    const __m512i d0 = _mm512_xor_si512(c4, _mm512_rol_epi64(c1, 1));
    const __m512i d1 = _mm512_xor_si512(c0, _mm512_rol_epi64(c2, 1));
    const __m512i d2 = _mm512_xor_si512(c1, _mm512_rol_epi64(c3, 1));
    const __m512i d3 = _mm512_xor_si512(c2, _mm512_rol_epi64(c4, 1));
    const __m512i d4 = _mm512_xor_si512(c3, _mm512_rol_epi64(c0, 1));
    const __m512i b00 = _mm512_xor_si512(a00, d0);
    const __m512i b01 = _mm512_rol_epi64(_mm512_xor_si512(a06, d1), 44);
    const __m512i b02 = _mm512_rol_epi64(_mm512_xor_si512(a12, d2), 43);
    const __m512i b03 = _mm512_rol_epi64(_mm512_xor_si512(a18, d3), 21);
    const __m512i b04 = _mm512_rol_epi64(_mm512_xor_si512(a24, d4), 14);
    const __m512i b05 = _mm512_rol_epi64(_mm512_xor_si512(a03, d3), 28);
    const __m512i b06 = _mm512_rol_epi64(_mm512_xor_si512(a09, d4), 20);
    const __m512i b07 = _mm512_rol_epi64(_mm512_xor_si512(a10, d0), 3);
    const __m512i b08 = _mm512_rol_epi64(_mm512_xor_si512(a16, d1), 45);
    const __m512i b09 = _mm512_rol_epi64(_mm512_xor_si512(a22, d2), 61);
    const __m512i b10 = _mm512_rol_epi64(_mm512_xor_si512(a01, d1), 1);
    const __m512i b11 = _mm512_rol_epi64(_mm512_xor_si512(a07, d2), 6);
    const __m512i b12 = _mm512_rol_epi64(_mm512_xor_si512(a13, d3), 25);
    const __m512i b13 = _mm512_rol_epi64(_mm512_xor_si512(a19, d4), 8);
    const __m512i b14 = _mm512_rol_epi64(_mm512_xor_si512(a20, d0), 18);
    const __m512i b15 = _mm512_rol_epi64(_mm512_xor_si512(a04, d4), 27);
    const __m512i b16 = _mm512_rol_epi64(_mm512_xor_si512(a05, d0), 36);
    const __m512i b17 = _mm512_rol_epi64(_mm512_xor_si512(a11, d1), 10);
    const __m512i b18 = _mm512_rol_epi64(_mm512_xor_si512(a17, d2), 15);
    const __m512i b19 = _mm512_rol_epi64(_mm512_xor_si512(a23, d3), 56);
    const __m512i b20 = _mm512_rol_epi64(_mm512_xor_si512(a02, d2), 62);
    const __m512i b21 = _mm512_rol_epi64(_mm512_xor_si512(a08, d3), 55);
    const __m512i b22 = _mm512_rol_epi64(_mm512_xor_si512(a14, d4), 39);
    const __m512i b23 = _mm512_rol_epi64(_mm512_xor_si512(a15, d0), 41);
    const __m512i b24 = _mm512_rol_epi64(_mm512_xor_si512(a21, d1), 2);
    a00 = _mm512_ternarylogic_epi64(b00, b01, b02, 0xD2);
    a01 = _mm512_ternarylogic_epi64(b01, b02, b03, 0xD2);
    a02 = _mm512_ternarylogic_epi64(b02, b03, b04, 0xD2);
    a03 = _mm512_ternarylogic_epi64(b03, b04, b00, 0xD2);
    a04 = _mm512_ternarylogic_epi64(b04, b00, b01, 0xD2);
    a05 = _mm512_ternarylogic_epi64(b05, b06, b07, 0xD2);
    a06 = _mm512_ternarylogic_epi64(b06, b07, b08, 0xD2);
    a07 = _mm512_ternarylogic_epi64(b07, b08, b09, 0xD2);
    a08 = _mm512_ternarylogic_epi64(b08, b09, b05, 0xD2);
    a09 = _mm512_ternarylogic_epi64(b09, b05, b06, 0xD2);
    a10 = _mm512_ternarylogic_epi64(b10, b11, b12, 0xD2);
    a11 = _mm512_ternarylogic_epi64(b11, b12, b13, 0xD2);
    a12 = _mm512_ternarylogic_epi64(b12, b13, b14, 0xD2);
    a13 = _mm512_ternarylogic_epi64(b13, b14, b10, 0xD2);
    a14 = _mm512_ternarylogic_epi64(b14, b10, b11, 0xD2);
    a15 = _mm512_ternarylogic_epi64(b15, b16, b17, 0xD2);
    a16 = _mm512_ternarylogic_epi64(b16, b17, b18, 0xD2);
    a17 = _mm512_ternarylogic_epi64(b17, b18, b19, 0xD2);
    a18 = _mm512_ternarylogic_epi64(b18, b19, b15, 0xD2);
    a19 = _mm512_ternarylogic_epi64(b19, b15, b16, 0xD2);
    a20 = _mm512_ternarylogic_epi64(b20, b21, b22, 0xD2);
    a21 = _mm512_ternarylogic_epi64(b21, b22, b23, 0xD2);
    a22 = _mm512_ternarylogic_epi64(b22, b23, b24, 0xD2);
    a23 = _mm512_ternarylogic_epi64(b23, b24, b20, 0xD2);
    a24 = _mm512_ternarylogic_epi64(b24, b20, b21, 0xD2);
    a00 = _mm512_xor_si512(a00, _mm512_set1_epi64(static_cast<long long>(kKeccakRoundConstants[round])));
  }
  CFX_KECCAK_STORE_LANES(s);
}

// 8x8 transpose of 64-bit words: row r (one input's 8 words) becomes column r (lane r of 8
// state words), and back, with 24 shuffles. Its own inverse.
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void transpose8(__m512i r[8]) {
  const __m512i t0 = _mm512_unpacklo_epi64(r[0], r[1]), t1 = _mm512_unpackhi_epi64(r[0], r[1]);
  const __m512i t2 = _mm512_unpacklo_epi64(r[2], r[3]), t3 = _mm512_unpackhi_epi64(r[2], r[3]);
  const __m512i t4 = _mm512_unpacklo_epi64(r[4], r[5]), t5 = _mm512_unpackhi_epi64(r[4], r[5]);
  const __m512i t6 = _mm512_unpacklo_epi64(r[6], r[7]), t7 = _mm512_unpackhi_epi64(r[6], r[7]);
  const __m512i u0 = _mm512_shuffle_i64x2(t0, t2, 0x88), u1 = _mm512_shuffle_i64x2(t0, t2, 0xdd);
  const __m512i u2 = _mm512_shuffle_i64x2(t1, t3, 0x88), u3 = _mm512_shuffle_i64x2(t1, t3, 0xdd);
  const __m512i u4 = _mm512_shuffle_i64x2(t4, t6, 0x88), u5 = _mm512_shuffle_i64x2(t4, t6, 0xdd);
  const __m512i u6 = _mm512_shuffle_i64x2(t5, t7, 0x88), u7 = _mm512_shuffle_i64x2(t5, t7, 0xdd);
  r[0] = _mm512_shuffle_i64x2(u0, u4, 0x88);
  r[4] = _mm512_shuffle_i64x2(u0, u4, 0xdd);
  r[2] = _mm512_shuffle_i64x2(u1, u5, 0x88);
  r[6] = _mm512_shuffle_i64x2(u1, u5, 0xdd);
  r[1] = _mm512_shuffle_i64x2(u2, u6, 0x88);
  r[5] = _mm512_shuffle_i64x2(u2, u6, 0xdd);
  r[3] = _mm512_shuffle_i64x2(u3, u7, 0x88);
  r[7] = _mm512_shuffle_i64x2(u3, u7, 0xdd);
}

// Loads words [first, first + n) (n <= 8) of every input into s[first..first+n): masked loads
// never touch bytes past an input's end.
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void load_words(const uint8_t* const in[8], int first,
                                                                         int n, __m512i* s) {
  __m512i r[8];
  const __mmask8 m = static_cast<__mmask8>((1u << n) - 1);
  for (int i = 0; i < 8; ++i) r[i] = _mm512_maskz_loadu_epi64(m, in[i] + 8 * first);
  transpose8(r);
  for (int i = 0; i < n; ++i) s[first + i] = r[i];
}

// Writes words [0, n) (n <= 8) of every state to out[s].
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void store_words(const __m512i* s, int n,
                                                                          uint8_t* const out[8]) {
  __m512i r[8];
  for (int i = 0; i < 8; ++i) r[i] = s[i];
  transpose8(r);
  const __mmask8 m = static_cast<__mmask8>((1u << n) - 1);
  for (int i = 0; i < 8; ++i) _mm512_mask_storeu_epi64(out[i], m, r[i]);
}

CFX_TARGET_AVX512 __attribute__((always_inline)) inline void sponge_x8_avx512(const uint8_t* const in[8],
                                                                               uint8_t* const out[8], int in_words,
                                                                               int rate_words, int out_words) {
  __m512i s[25];
  for (int i = 0; i < 25; ++i) s[i] = _mm512_setzero_si512();
  for (int first = 0; first < in_words; first += 8)
    load_words(in, first, in_words - first < 8 ? in_words - first : 8, s);
  s[in_words] = _mm512_xor_si512(s[in_words], _mm512_set1_epi64(0x01));
  const __m512i last = _mm512_set1_epi64(static_cast<long long>(0x8000000000000000ULL));
  s[rate_words - 1] = _mm512_xor_si512(s[rate_words - 1], last);
  permute_zmm(s);
  store_words(s, out_words, out);
}

}  // namespace

CFX_TARGET_AVX512 void keccak_f1600_x8_avx512(uint64_t lanes[25][8]) {
  __m512i s[25];
  for (int i = 0; i < 25; ++i) s[i] = _mm512_loadu_si512(lanes[i]);
  permute_zmm(s);
  for (int i = 0; i < 25; ++i) _mm512_storeu_si512(lanes[i], s[i]);
}

CFX_TARGET_AVX512 void keccak512_64_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]) {
  sponge_x8_avx512(in, out, 8, 9, 8);
}

CFX_TARGET_AVX512 void keccak512_40_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]) {
  sponge_x8_avx512(in, out, 5, 9, 8);
}

CFX_TARGET_AVX512 void keccak256_96_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]) {
  sponge_x8_avx512(in, out, 12, 17, 4);
}

// Both blocks of the test PoW for 8 nonces; lanes 0-3 (the header) are the same in every state,
// lane 4 carries the nonces. Only the lanes whose top word passes the filter are transposed out.
CFX_TARGET_AVX512 uint32_t keccak_pow_x8_avx512(const uint64_t header_words[4], uint64_t first, uint64_t top_limit,
                                                uint8_t out[8][32]) {
  __m512i h[4], s[25];
  for (int i = 0; i < 25; ++i) s[i] = _mm512_setzero_si512();
  for (int i = 0; i < 4; ++i) s[i] = h[i] = _mm512_set1_epi64(static_cast<long long>(header_words[i]));
  s[4] = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first)), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
  const __m512i pad_first = _mm512_set1_epi64(static_cast<long long>(kPadFirst));
  const __m512i pad_last = _mm512_set1_epi64(static_cast<long long>(kPadLast));
  s[8] = pad_first;
  s[kRate256Words - 1] = pad_last;
  permute_zmm(s);
  for (int i = 0; i < 4; ++i) s[i] = _mm512_xor_si512(s[i], h[i]);
  for (int i = 4; i < 25; ++i) s[i] = _mm512_setzero_si512();
  s[4] = pad_first;
  s[kRate256Words - 1] = pad_last;
  permute_zmm(s);
  // Byte-reverse each 64-bit word (indices within each 128-bit lane): the hash is compared as a
  // big-endian number, so its first 8 bytes are the top word.
  const __m512i reverse = _mm512_set_epi64(0x08090a0b0c0d0e0fLL, 0x0001020304050607LL, 0x08090a0b0c0d0e0fLL,
                                           0x0001020304050607LL, 0x08090a0b0c0d0e0fLL, 0x0001020304050607LL,
                                           0x08090a0b0c0d0e0fLL, 0x0001020304050607LL);
  const __m512i top = _mm512_shuffle_epi8(s[0], reverse);
  const uint32_t mask = _mm512_cmple_epu64_mask(top, _mm512_set1_epi64(static_cast<long long>(top_limit)));
  if (mask == 0) return 0;
  __m512i r[8] = {s[0], s[1], s[2], s[3], _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                  _mm512_setzero_si512()};
  transpose8(r);  // r[lane] = the lane's state words 0..7
  for (int lane = 0; lane < 8; ++lane)
    if (mask & (1u << lane)) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[lane]), _mm512_castsi512_si256(r[lane]));
  return mask;
}

#else  // no AVX-512 kernels on this architecture: never called (cpu_has_avx512() is false)

void keccak_f1600_x8_avx512(uint64_t lanes[25][8]) { std::abort(); }
void keccak512_64_x8_avx512(const uint8_t* const[8], uint8_t* const[8]) { std::abort(); }
void keccak512_40_x8_avx512(const uint8_t* const[8], uint8_t* const[8]) { std::abort(); }
void keccak256_96_x8_avx512(const uint8_t* const[8], uint8_t* const[8]) { std::abort(); }
uint32_t keccak_pow_x8_avx512(const uint64_t[4], uint64_t, uint64_t, uint8_t[8][32]) { std::abort(); }

#endif

void keccak_f1600_x8(uint64_t lanes[25][8]) {
  if (cpu_has_avx512()) keccak_f1600_x8_avx512(lanes);
  else keccak_f1600_x8_portable(lanes);
}

void keccak512_64_x8(const uint8_t* const in[8], uint8_t* const out[8]) {
  if (cpu_has_avx512()) keccak512_64_x8_avx512(in, out);
  else keccak512_64_x8_portable(in, out);
}

void keccak512_40_x8(const uint8_t* const in[8], uint8_t* const out[8]) {
  if (cpu_has_avx512()) keccak512_40_x8_avx512(in, out);
  else keccak512_40_x8_portable(in, out);
}

void keccak256_96_x8(const uint8_t* const in[8], uint8_t* const out[8]) {
  if (cpu_has_avx512()) keccak256_96_x8_avx512(in, out);
  else keccak256_96_x8_portable(in, out);
}

uint32_t keccak_pow_x8(const uint64_t header_words[4], uint64_t first, uint64_t top_limit, uint8_t out[8][32]) {
  if (cpu_has_avx512()) return keccak_pow_x8_avx512(header_words, first, top_limit, out);
  return keccak_pow_x8_portable(header_words, first, top_limit, out);
}

}  // namespace cfx
