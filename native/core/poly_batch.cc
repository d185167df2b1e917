#include "poly_batch.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cpu.h"

#include "avx512.h"

namespace cfx {
namespace {

constexpr uint32_t kN = kPolyDegree;     // coefficients per warp, and points per job
constexpr uint32_t kPanels = kAccesses;  // one panel of 32 points per access i
constexpr double kPd = static_cast<double>(kPrime);
constexpr uint32_t kInner = 64;               // base powers x^0 .. x^63
constexpr uint32_t kOuter = kN / kInner;      // 16 outer powers x^(64 t)
constexpr uint32_t kGroup = 6;                // warps per register block (4 * 6 accumulators of 8 doubles)

inline uint64_t rotl(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

// ---- portable kernels: plain loops the compiler vectorises as far as the target allows

void coefficients_portable(const uint64_t key[4], uint64_t warp, double* d) {
  for (uint32_t lane = 0; lane < kWarp; ++lane) {
    const uint64_t m = warp * kWarp + lane;
    uint64_t v0 = key[0], v1 = key[1], v2 = key[2], v3 = key[3] ^ m;
    auto round = [&]() {
      v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
      v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    };
    round();
    round();
    v0 ^= m;
    v2 ^= 0xff;
    for (int r = 0; r < 4; ++r) round();
    for (uint32_t i = 0; i < kN / kWarp; ++i) {
      round();
      d[i * kWarp + lane] = static_cast<double>(static_cast<uint32_t>(v0 ^ v1 ^ v2 ^ v3) % kPrime);
    }
  }
}

// Two doubles as one GCC/Clang vector: an SSE2 register on baseline x86-64, NEON on arm64.
// Written out because GCC 12 at -O2 (the core tests' level) leaves the plain loops scalar.
typedef double V2 __attribute__((vector_size(16)));

inline V2 load2(const double* p) {
  V2 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Up to kGroup warps of one panel: out[m * 32 + r] = (sum_t G_t * x^(64 t)) mod p. Register
// blocks of 2 warps x 8 points (8 accumulators, 4 panel loads, 2 broadcasts per power) fit the
// 16 registers of either target. Shrinking G_t goes through a signed truncation (baseline x86-64
// converts doubles to signed integers in one instruction); acc stays below 2^45, exact.
void tile_portable(const double* d, uint32_t rows, const double* base, const double* outer, uint32_t* out) {
  double acc[kGroup][kWarp] = {};
  for (uint32_t t = 0; t < kOuter; ++t) {
    const double* ot = outer + size_t(t) * kWarp;
    for (uint32_t m0 = 0; m0 < rows; m0 += 2) {
      // An odd last warp pairs with itself; only its first copy is kept.
      const double* d0 = d + size_t(m0) * kN + t * kInner;
      const double* d1 = d + size_t(m0 + 1 < rows ? m0 + 1 : m0) * kN + t * kInner;
      for (uint32_t q0 = 0; q0 < kWarp; q0 += 8) {
        V2 a0[4] = {}, a1[4] = {};
        for (uint32_t s = 0; s < kInner; ++s) {
          const double* bs = base + size_t(s) * kWarp + q0;
          const V2 x0 = {d0[s], d0[s]}, x1 = {d1[s], d1[s]};
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q) {
            const V2 b = load2(bs + 2 * q);
            a0[q] += x0 * b;  // exact: see poly_batch.h
            a1[q] += x1 * b;
          }
        }
        for (uint32_t r = 0; r < 8; ++r) {
          const int64_t g0 = static_cast<int64_t>(a0[r / 2][r % 2]);  // < 2^46: exact
          acc[m0][q0 + r] += static_cast<double>(g0 % kPrime) * ot[q0 + r];
          if (m0 + 1 < rows) {
            const int64_t g1 = static_cast<int64_t>(a1[r / 2][r % 2]);
            acc[m0 + 1][q0 + r] += static_cast<double>(g1 % kPrime) * ot[q0 + r];
          }
        }
      }
    }
  }
  for (uint32_t m = 0; m < rows; ++m)
    for (uint32_t r = 0; r < kWarp; ++r)
      out[m * kWarp + r] = static_cast<uint32_t>(static_cast<int64_t>(acc[m][r]) % kPrime);
}

#if CFX_HAVE_AVX512_KERNELS

// s mod p (in [0, p)) for integral doubles |s| < 2^52, negative ones too. q = floor(s / p)
// computed through 1/p is off by at most one either way (|s/p| < 2^32, relative error below
// 2^-52), so r = s - q*p (exact: an FMA of exact integers whose result fits) lies in [-p, p];
// one correction each way makes it exact.
CFX_TARGET_AVX512 __attribute__((always_inline)) inline __m512d mod_p(__m512d s) {
  const __m512d p = _mm512_set1_pd(kPd);
  const __m512d inv_p = _mm512_set1_pd(1.0 / kPd);
  const __m512d q = _mm512_roundscale_pd(_mm512_mul_pd(s, inv_p), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(q, p, s);
  r = _mm512_mask_add_pd(r, _mm512_cmp_pd_mask(r, _mm512_setzero_pd(), _CMP_LT_OQ), r, p);
  r = _mm512_mask_sub_pd(r, _mm512_cmp_pd_mask(r, p, _CMP_GE_OQ), r, p);
  return r;
}

// n SipRounds on 4 vectors of 8 states (lambdas do not inherit the target attribute).
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void sip_rounds(__m512i* v0, __m512i* v1, __m512i* v2,
                                                                         __m512i* v3, int n) {
  for (int k = 0; k < n; ++k) {
#pragma GCC unroll 4
    for (int l = 0; l < 4; ++l) {
      v0[l] = _mm512_add_epi64(v0[l], v1[l]);
      v1[l] = _mm512_xor_si512(_mm512_rol_epi64(v1[l], 13), v0[l]);
      v0[l] = _mm512_rol_epi64(v0[l], 32);
      v2[l] = _mm512_add_epi64(v2[l], v3[l]);
      v3[l] = _mm512_xor_si512(_mm512_rol_epi64(v3[l], 16), v2[l]);
      v0[l] = _mm512_add_epi64(v0[l], v3[l]);
      v3[l] = _mm512_xor_si512(_mm512_rol_epi64(v3[l], 21), v0[l]);
      v2[l] = _mm512_add_epi64(v2[l], v1[l]);
      v1[l] = _mm512_xor_si512(_mm512_rol_epi64(v1[l], 17), v2[l]);
      v2[l] = _mm512_rol_epi64(v2[l], 32);
    }
  }
}

// The 32 lanes of a warp as 4 vectors of 8 SipHash states, interleaved for instruction-level
// parallelism (each round is a serial chain).
CFX_TARGET_AVX512 void coefficients_avx512(const uint64_t key[4], uint64_t warp, double* d) {
  __m512i v0[4], v1[4], v2[4], v3[4], m[4];
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  for (int l = 0; l < 4; ++l) {
    m[l] = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(warp * kWarp + 8 * l)), lane);
    v0[l] = _mm512_set1_epi64(static_cast<long long>(key[0]));
    v1[l] = _mm512_set1_epi64(static_cast<long long>(key[1]));
    v2[l] = _mm512_set1_epi64(static_cast<long long>(key[2]));
    v3[l] = _mm512_xor_si512(_mm512_set1_epi64(static_cast<long long>(key[3])), m[l]);
  }
  sip_rounds(v0, v1, v2, v3, 2);
  for (int l = 0; l < 4; ++l) {
    v0[l] = _mm512_xor_si512(v0[l], m[l]);
    v2[l] = _mm512_xor_si512(v2[l], _mm512_set1_epi64(0xff));
  }
  sip_rounds(v0, v1, v2, v3, 4);
  const __m512i low32 = _mm512_set1_epi64(0xffffffffLL);
  for (uint32_t i = 0; i < kN / kWarp; ++i) {
    sip_rounds(v0, v1, v2, v3, 1);
    for (int l = 0; l < 4; ++l) {
      const __m512i x = _mm512_and_si512(
          _mm512_ternarylogic_epi64(_mm512_xor_si512(v0[l], v1[l]), v2[l], v3[l], 0x96), low32);
      _mm512_store_pd(d + i * kWarp + 8 * l, mod_p(_mm512_cvtepu64_pd(x)));
    }
  }
}

// s - q p with q = floor(s / p) give or take one: |result| < 2p for |s| < 2^52 (the division
// through 1/p errs by less than one unit), exact since the FMA rounds an exact small integer.
CFX_TARGET_AVX512 __attribute__((always_inline)) inline __m512d shrink_p(__m512d s) {
  const __m512d q = _mm512_roundscale_pd(_mm512_mul_pd(s, _mm512_set1_pd(1.0 / kPd)),
                                         _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm512_fnmadd_pd(q, _mm512_set1_pd(kPd), s);
}

// MR warps (rows of d, stride 1024) of one panel: for each t the 64 inner products in 4*MR
// registers of 8 doubles (4 base loads and MR broadcasts per power), shrunk and folded into acc
// (MR x 32, in L1: the registers are taken) with the outer power; then reduced exactly into
// out[m * 32 + r].
template <int MR>
CFX_TARGET_AVX512 void tile_avx512(const double* d, const double* base, const double* outer, uint32_t* out) {
  alignas(64) double acc[MR * kWarp];
  // Every loop over m and q is unrolled so the sums live in registers (GCC keeps an array in
  // memory as soon as one index is not a constant).
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) _mm512_store_pd(acc + m * kWarp + 8 * q, _mm512_setzero_pd());
  }
  for (uint32_t t = 0; t < kOuter; ++t) {
    __m512d sum[MR][4];
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) sum[m][q] = _mm512_setzero_pd();
    }
    const double* dt = d + t * kInner;
#pragma GCC unroll 2
    for (uint32_t s = 0; s < kInner; ++s) {
      const double* bs = base + size_t(s) * kWarp;
      const __m512d b0 = _mm512_load_pd(bs), b1 = _mm512_load_pd(bs + 8);
      const __m512d b2 = _mm512_load_pd(bs + 16), b3 = _mm512_load_pd(bs + 24);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const __m512d dm = _mm512_set1_pd(dt[size_t(m) * kN + s]);
        sum[m][0] = _mm512_fmadd_pd(dm, b0, sum[m][0]);
        sum[m][1] = _mm512_fmadd_pd(dm, b1, sum[m][1]);
        sum[m][2] = _mm512_fmadd_pd(dm, b2, sum[m][2]);
        sum[m][3] = _mm512_fmadd_pd(dm, b3, sum[m][3]);
      }
    }
    const double* ot = outer + size_t(t) * kWarp;
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        double* a = acc + m * kWarp + 8 * q;
        _mm512_store_pd(a, _mm512_fmadd_pd(shrink_p(sum[m][q]), _mm512_load_pd(ot + 8 * q), _mm512_load_pd(a)));
      }
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + m * kWarp + 8 * q),
                          _mm512_cvttpd_epi32(mod_p(_mm512_load_pd(acc + m * kWarp + 8 * q))));
  }
}

CFX_TARGET_AVX512 void tile_avx512_rows(uint32_t rows, const double* d, const double* base, const double* outer,
                                        uint32_t* out) {
  switch (rows) {
    case 6: return tile_avx512<6>(d, base, outer, out);
    case 5: return tile_avx512<5>(d, base, outer, out);
    case 4: return tile_avx512<4>(d, base, outer, out);
    case 3: return tile_avx512<3>(d, base, outer, out);
    case 2: return tile_avx512<2>(d, base, outer, out);
    case 1: return tile_avx512<1>(d, base, outer, out);
    default: return;
  }
}

// Base powers x^0 .. x^63 and outer powers x^0, x^64, .. x^960 of every panel's 32 points,
// 4 vectors of 8 points advancing together.
CFX_TARGET_AVX512 void build_tables_avx512(const uint32_t* points, double* base, double* outer) {
  for (uint32_t i = 0; i < kPanels; ++i) {
    __m512d x[4], pw[4];
    for (int q = 0; q < 4; ++q) {
      x[q] = _mm512_cvtepu32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(points + i * kWarp + 8 * q)));
      pw[q] = _mm512_set1_pd(1.0);
    }
    for (uint32_t s = 0; s < kInner; ++s) {
      for (int q = 0; q < 4; ++q) {
        _mm512_store_pd(base + (size_t(i) * kInner + s) * kWarp + 8 * q, pw[q]);
        pw[q] = mod_p(_mm512_mul_pd(pw[q], x[q]));  // < 2^40: exact
      }
    }
    __m512d x64[4];
    for (int q = 0; q < 4; ++q) {
      x64[q] = pw[q];  // x^64
      pw[q] = _mm512_set1_pd(1.0);
    }
    for (uint32_t t = 0; t < kOuter; ++t) {
      for (int q = 0; q < 4; ++q) {
        _mm512_store_pd(outer + (size_t(i) * kOuter + t) * kWarp + 8 * q, pw[q]);
        pw[q] = mod_p(_mm512_mul_pd(pw[q], x64[q]));
      }
    }
  }
}


#if CFX_HAVE_AMX_KERNELS

// ---- AMX: the inner products as int8 tile products (TDPBUUD: 16x64 u8 times 64x16 u8 into
// 16x16 int32 sums, 16384 multiply-adds per instruction; ~6 ns each here, against ~130 ns for
// as many fp64 FMAs).
//
// Another split of the same sum: value(n) = sum_t x_n^(S t) G_t(n), G_t(n) = sum_s d[S t + s]
// x_n^s, with S = kAmxInner powers and T = 1024 / S outer terms. Every number is cut into bytes:
// d = d_0 + 2^8 d_1 + 2^16 d_2, and for the 16 points n of a half panel y_u = 2^(8u) x_n^s mod p
// = sum_v 2^(8v) y_uv. Tile products give C_v[t][n] = sum_u sum_s d_u[S t + s] y_uv(n, s), and
//   value(n) == sum_v sum_t (2^(8v) x_n^(S t) mod p) * C_v[t][n]   (mod p),
// 3 T products per point folded in fp64 with the outer table O_v[t][n] = 2^(8v) x_n^(S t) mod p.
// Exact: C_v <= 3 * S * 255 * 255 < 2^25 for S <= 128, O_v < 2^20, so every product is below
// 2^45 and the 3 T of them below 2^50: doubles hold the sums exactly; one reduction mod p at the
// end. S = 128: two warps a tile, 24 products a point in the fold. (S = 64, one warp a tile and
// 48 products a point, measured the same with the earlier tile schedule and 10% slower with the
// 2 x 2 one below, whose K loop is then only 3 steps: 279 against 254 ns a hash.) Its B tables
// are twice as large (1.15 MB a thread); with the dense product's tables, which AMX never reads,
// no longer built beside them, a job's tables still take 0.33 ms a thread, as before.
//
// A tile's 16 rows are (warp, t) for kAmxWarps warps (tile row r = warp * T + t reads the bytes
// d_u[S t + 64 k ..] of its warp with a row stride of S bytes: the byte planes are [u][warp][j]);
// its 64 columns one 64-power chunk k of s. B_uvk holds y_uv of powers 64 k .. 64 k + 63 in AMX's
// pairs-of-4 layout (row s / 4, byte n * 4 + s % 4).
constexpr uint32_t kAmxInner = 128;                    // S
constexpr uint32_t kAmxOuter = kN / kAmxInner;         // T = 8
constexpr uint32_t kAmxWarps = 16 / kAmxOuter;         // warps per tile: 2
constexpr uint32_t kAmxChunks = kAmxInner / 64;        // K chunks of 64 powers: 2
constexpr uint32_t kHalves = 2;                        // a panel's 32 points as two tiles of 16
constexpr size_t kTile = 1024;                         // bytes in a 16 x 64 tile
constexpr size_t kBHalf = 9 * kAmxChunks * kTile;      // B_uvk of one half panel, index (k * 3 + u) * 3 + v
constexpr size_t kOHalf = 3 * kAmxOuter * 16;          // O_v[t][n] of one half panel, doubles
static_assert(kAmxOuter * kAmxWarps == 16 && kAmxChunks * 64 == kAmxInner && kAmxInner <= 128, "tiles of 16 rows and 64 bytes; exact sums");

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
// Tiles 0-7 all 16 rows of 64 bytes. Static: GCC's ldtilecfg asm tells the compiler of only 8 of
// the 64 bytes it reads, so a config built on the stack could be partly optimised away.
const TileConfig kTileConfig = {1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

// B and O tables of every half panel from the job's points: powers x^0 .. x^(S-1) and x^(S t),
// 16 points (two vectors) at a time.
CFX_TARGET_AMX void build_amx_tables(const uint32_t* points, uint8_t* btab, double* otab) {
  for (uint32_t hp = 0; hp < kPanels * kHalves; ++hp) {
    const uint32_t* pts = points + (hp / kHalves) * kWarp + (hp % kHalves) * 16;
    __m512d x[2], pw[2] = {_mm512_set1_pd(1.0), _mm512_set1_pd(1.0)};
    for (int h = 0; h < 2; ++h)
      x[h] = _mm512_cvtepu32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(pts + 8 * h)));
    uint8_t* b = btab + hp * kBHalf;
    for (uint32_t q = 0; q < kAmxInner / 4; ++q) {  // B rows: powers 4q .. 4q+3
      __m512i word[3][3] = {};                        // [u][v]: 16 dwords, one per point
      for (uint32_t e = 0; e < 4; ++e) {
        for (uint32_t u = 0; u < 3; ++u) {
          const __m512d scale = _mm512_set1_pd(static_cast<double>(1u << (8 * u)));
          const __m256i y0 = _mm512_cvttpd_epi32(mod_p(_mm512_mul_pd(pw[0], scale)));  // < 2^36: exact
          const __m256i y1 = _mm512_cvttpd_epi32(mod_p(_mm512_mul_pd(pw[1], scale)));
          const __m512i y = _mm512_inserti64x4(_mm512_castsi256_si512(y0), y1, 1);
          for (uint32_t v = 0; v < 3; ++v) {
            const __m512i byte = _mm512_and_si512(_mm512_srli_epi32(y, 8 * v), _mm512_set1_epi32(0xff));
            word[u][v] = _mm512_or_si512(word[u][v], _mm512_slli_epi32(byte, 8 * e));
          }
        }
        for (int h = 0; h < 2; ++h) pw[h] = mod_p(_mm512_mul_pd(pw[h], x[h]));  // < 2^40: exact
      }
      const uint32_t k = q / 16, row = q % 16;
      for (uint32_t u = 0; u < 3; ++u)
        for (uint32_t v = 0; v < 3; ++v) _mm512_store_si512(b + ((k * 3 + u) * 3 + v) * kTile + row * 64, word[u][v]);
    }
    const __m512d xs[2] = {pw[0], pw[1]};  // x^S
    pw[0] = pw[1] = _mm512_set1_pd(1.0);
    double* o = otab + hp * kOHalf;
    for (uint32_t t = 0; t < kAmxOuter; ++t) {
      for (uint32_t v = 0; v < 3; ++v) {
        const __m512d scale = _mm512_set1_pd(static_cast<double>(1u << (8 * v)));
        for (int h = 0; h < 2; ++h) _mm512_store_pd(o + (v * kAmxOuter + t) * 16 + 8 * h, mod_p(_mm512_mul_pd(pw[h], scale)));
      }
      for (int h = 0; h < 2; ++h) pw[h] = mod_p(_mm512_mul_pd(pw[h], xs[h]));
    }
  }
}

// One warp's coefficients (doubles below p) as three byte planes d_u, `plane` bytes apart.
CFX_TARGET_AMX void coefficient_bytes(const double* d, uint8_t* out, size_t plane) {
  for (uint32_t j = 0; j < kN; j += 16) {
    const __m256i x0 = _mm512_cvttpd_epi32(_mm512_load_pd(d + j));
    const __m256i x1 = _mm512_cvttpd_epi32(_mm512_load_pd(d + j + 8));
    const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(x0), x1, 1);
    for (uint32_t u = 0; u < 3; ++u)
      _mm_store_si128(reinterpret_cast<__m128i*>(out + u * plane + j), _mm512_cvtepi32_epi8(_mm512_srli_epi32(x, 8 * u)));
  }
}

// The tile products of one access as a matrix product in tiles: M = the warps (a tile of
// kAmxWarps warps per row block), N = the access's six (half, v) column blocks, K = the (k, u)
// steps. 2 x 2 blocking: tiles 0-3 accumulate C for two warp tiles and two column blocks, 4-5
// hold their A_u, 6-7 their B_uv, so each TDPBUUD costs one tile load. Here tile loads and tile
// products do not overlap (loads alone 3.1 ns, products alone 4.9 ns, both 8.2 ns a product,
// whatever the order), so the loads per product are what counts: the earlier schedule (one warp
// tile, its three A_u held, B loaded for each product) took 1.33 and 9.9 ns a product.
// `c` receives tile (m, n) at ((m * kHalves + n / 3) * 3 + n % 3) * 256: per warp tile and half,
// the three C_v one after another, as fold_outer reads them.
CFX_TARGET_AMX __attribute__((always_inline)) inline void tile_products(const uint8_t* a, size_t plane,
                                                                         const uint8_t* btab_i, uint32_t n,
                                                                         int32_t* c) {
  const uint8_t* b0 = btab_i + (n / 3) * kBHalf + (n % 3) * kTile;
  const uint8_t* b1 = btab_i + ((n + 1) / 3) * kBHalf + ((n + 1) % 3) * kTile;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (uint32_t k = 0; k < kAmxChunks; ++k) {
    for (uint32_t u = 0; u < 3; ++u) {
      const uint8_t* au = a + u * plane + 64 * k;
      const size_t bo = (k * 3 + u) * 3 * kTile;
      _tile_loadd(4, au, kAmxInner);
      _tile_loadd(6, b0 + bo, 64);
      _tile_dpbuud(0, 4, 6);
      _tile_loadd(5, au + kAmxWarps * kN, kAmxInner);
      _tile_dpbuud(1, 5, 6);
      _tile_loadd(7, b1 + bo, 64);
      _tile_dpbuud(2, 4, 7);
      _tile_dpbuud(3, 5, 7);
    }
  }
  constexpr size_t kM1 = kHalves * 3 * 256;  // the second warp tile's offset in c
  _tile_stored(0, c + n * 256, 64);
  _tile_stored(1, c + kM1 + n * 256, 64);
  _tile_stored(2, c + (n + 1) * 256, 64);
  _tile_stored(3, c + kM1 + (n + 1) * 256, 64);
}

CFX_TARGET_AMX __attribute__((always_inline)) inline __m512d cvt(const int32_t* p) {
  return _mm512_cvtepi32_pd(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
}

// value(n) of one warp (its T rows of each C_v): the 3 T products, two chains per half.
CFX_TARGET_AMX __attribute__((always_inline)) inline void fold_outer(const int32_t* c, const double* o, uint32_t* out) {
  __m512d lo0 = _mm512_setzero_pd(), lo1 = lo0, hi0 = lo0, hi1 = lo0;
#pragma GCC unroll 3
  for (uint32_t v = 0; v < 3; ++v) {
#pragma GCC unroll 8
    for (uint32_t t = 0; t < kAmxOuter; t += 2) {
      const int32_t* cv = c + v * 256 + t * 16;
      const double* ov = o + (v * kAmxOuter + t) * 16;
      lo0 = _mm512_fmadd_pd(cvt(cv), _mm512_load_pd(ov), lo0);
      hi0 = _mm512_fmadd_pd(cvt(cv + 8), _mm512_load_pd(ov + 8), hi0);
      lo1 = _mm512_fmadd_pd(cvt(cv + 16), _mm512_load_pd(ov + 16), lo1);
      hi1 = _mm512_fmadd_pd(cvt(cv + 24), _mm512_load_pd(ov + 24), hi1);
    }
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_cvttpd_epi32(mod_p(_mm512_add_pd(lo0, lo1))));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm512_cvttpd_epi32(mod_p(_mm512_add_pd(hi0, hi1))));
}

// Values of accesses [i0, i1) for `warps` warps (the byte planes hold whole pairs of warp tiles;
// rows past `warps` are computed and dropped). Access by access: its two halves' B tiles are
// read again by every pair of warp tiles (from L1 and L2), while the warps' coefficient bytes
// stream past.
CFX_TARGET_AMX void evaluate_amx(const uint8_t* dbytes, size_t plane, uint32_t warps, const uint8_t* btab,
                                 const double* otab, uint32_t i0, uint32_t i1, uint32_t* values, size_t row_stride) {
  _tile_loadconfig(&kTileConfig);
  // Two buffers: the next products need not wait for this fold.
  alignas(64) int32_t c[2][2 * kHalves * 3 * 256];
  uint32_t buf = 0;
  for (uint32_t i = i0; i < i1; ++i) {
    const uint8_t* btab_i = btab + size_t(i) * kHalves * kBHalf;
    uint32_t* row = values + size_t(i) * row_stride;
    for (uint32_t w0 = 0; w0 < warps; w0 += 2 * kAmxWarps, buf ^= 1) {
      for (uint32_t n = 0; n < kHalves * 3; n += 2) tile_products(dbytes + size_t(w0) * kN, plane, btab_i, n, c[buf]);
      for (uint32_t w = w0; w < warps && w < w0 + 2 * kAmxWarps; ++w) {
        const uint32_t m = (w - w0) / kAmxWarps, wl = (w - w0) % kAmxWarps;
        for (uint32_t h = 0; h < kHalves; ++h)
          fold_outer(c[buf] + (m * kHalves + h) * 3 * 256 + wl * kAmxOuter * 16, otab + (size_t(i) * kHalves + h) * kOHalf,
                     row + h * 16 + w * kWarp);
      }
    }
  }
  _tile_release();  // the tile state back to its initial (cheap to save) state
}

#endif  // CFX_HAVE_AMX_KERNELS

#endif  // CFX_HAVE_AVX512_KERNELS

void build_tables_portable(const uint32_t* points, double* base, double* outer) {
  for (uint32_t i = 0; i < kPanels; ++i) {
    for (uint32_t r = 0; r < kWarp; ++r) {
      const uint64_t x = points[i * kWarp + r];
      uint64_t pw = 1;
      for (uint32_t s = 0; s < kInner; ++s) {
        base[(size_t(i) * kInner + s) * kWarp + r] = static_cast<double>(pw);
        pw = pw * x % kPrime;
      }
      const uint64_t x64 = pw;
      pw = 1;
      for (uint32_t t = 0; t < kOuter; ++t) {
        outer[(size_t(i) * kOuter + t) * kWarp + r] = static_cast<double>(pw);
        pw = pw * x64 % kPrime;
      }
    }
  }
}

}  // namespace

PolyBatch::PolyBatch(const OctopusJob& job, uint32_t max_warps, bool use_avx512, bool use_amx, bool use_transforms)
    : max_warps_(max_warps ? max_warps : 1),
      avx512_(use_avx512 && CFX_HAVE_AVX512_KERNELS),
      amx_(avx512_ && use_amx && cpu_has_amx()) {  // never without the OS permission it asks for
  std::memcpy(sip_, job.v, sizeof(sip_));
  coeffs_ = alloc_aligned<double>(size_t(max_warps_) * kN);
  values_ = alloc_aligned<uint32_t>(size_t(kAccesses) * max_warps_ * kWarp);
  // Fewer than 8 warps would leave lanes of the transforms empty: the dense product is faster there.
  if (!amx_ && use_transforms && max_warps_ >= PolyNtt::kLanes) {
    ntt_.reset(new PolyNtt(job, avx512_));
    return;
  }
#if CFX_HAVE_AMX_KERNELS
  if (amx_) {  // the tiles' own tables only: evaluate() never reads the dense ones then
    btab_ = alloc_aligned<uint8_t>(size_t(kPanels) * kHalves * kBHalf);
    otab_ = alloc_aligned<double>(size_t(kPanels) * kHalves * kOHalf);
    // Whole tiles of warps; the rows past the loaded warps are zero at first, then stale.
    const size_t plane = amx_plane_bytes();
    dbytes_ = alloc_aligned<uint8_t>(3 * plane);
    std::memset(dbytes_.get(), 0, 3 * plane);
    build_amx_tables(job.points, btab_.get(), otab_.get());
    return;
  }
#endif
  base_ = alloc_aligned<double>(size_t(kPanels) * kInner * kWarp);
  outer_ = alloc_aligned<double>(size_t(kPanels) * kOuter * kWarp);
  build_tables(job);
}

PolyBatch::~PolyBatch() = default;

size_t PolyBatch::amx_plane_bytes() const {
#if CFX_HAVE_AMX_KERNELS
  return size_t(max_warps_ + 2 * kAmxWarps - 1) / (2 * kAmxWarps) * (2 * kAmxWarps) * kN;  // pairs of warp tiles
#else
  return 0;
#endif
}

void PolyBatch::build_tables(const OctopusJob& job) {
#if CFX_HAVE_AVX512_KERNELS
  if (avx512_) return build_tables_avx512(job.points, base_.get(), outer_.get());
#endif
  build_tables_portable(job.points, base_.get(), outer_.get());
}

void PolyBatch::load_warps(uint64_t first_warp, uint32_t warps) {
  if (warps > max_warps_) warps = max_warps_;  // callers keep within bounds; never overrun
  warps_ = warps;
  for (uint32_t w = 0; w < warps; ++w) {
    double* d = coeffs_.get() + size_t(w) * kN;
#if CFX_HAVE_AVX512_KERNELS
    if (avx512_) {
      coefficients_avx512(sip_, first_warp + w, d);
#if CFX_HAVE_AMX_KERNELS
      if (amx_) coefficient_bytes(d, dbytes_.get() + size_t(w) * kN, amx_plane_bytes());
#endif
      continue;
    }
#endif
    coefficients_portable(sip_, first_warp + w, d);
  }
}

void PolyBatch::evaluate(uint32_t access_begin, uint32_t access_end) {
  if (ntt_) {
    // The slice's share of the groups: [ceil(begin G / 32), ceil(end G / 32)), G groups of 8.
    const uint32_t groups = (warps_ + PolyNtt::kLanes - 1) / PolyNtt::kLanes;
    const uint32_t end = std::min(access_end, kPanels);
    const size_t row = size_t(max_warps_) * kWarp;
    for (uint32_t g = (access_begin * groups + kPanels - 1) / kPanels; g < (end * groups + kPanels - 1) / kPanels;
         ++g) {
      const uint32_t w = g * PolyNtt::kLanes;
      ntt_->evaluate(coeffs_.get() + size_t(w) * kN, kN, std::min(PolyNtt::kLanes, warps_ - w),
                     values_.get() + size_t(w) * kWarp, row);
    }
    return;
  }
#if CFX_HAVE_AMX_KERNELS
  if (amx_) {
    if (access_begin < access_end && warps_ > 0)
      evaluate_amx(dbytes_.get(), amx_plane_bytes(), warps_, btab_.get(), otab_.get(), access_begin,
                   std::min(access_end, kPanels), values_.get(), size_t(max_warps_) * kWarp);
    return;
  }
#endif
  for (uint32_t i = access_begin; i < access_end && i < kPanels; ++i) {
    const double* base = base_.get() + size_t(i) * kInner * kWarp;
    const double* outer = outer_.get() + size_t(i) * kOuter * kWarp;
    uint32_t* row = values_.get() + size_t(i) * max_warps_ * kWarp;
    // Panel by panel: its 16 KiB of base powers stay in L1 while every warp group streams past.
    for (uint32_t w = 0; w < warps_; w += kGroup) {
      const uint32_t rows = std::min(kGroup, warps_ - w);
      const double* d = coeffs_.get() + size_t(w) * kN;
#if CFX_HAVE_AVX512_KERNELS
      if (avx512_) {
        tile_avx512_rows(rows, d, base, outer, row + w * kWarp);
        continue;
      }
#endif
      tile_portable(d, rows, base, outer, row + w * kWarp);
    }
  }
}

}  // namespace cfx
