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

template <class T>
T* alloc_aligned(size_t count) {
  size_t bytes = (count * sizeof(T) + 63) / 64 * 64;  // aligned_alloc wants a multiple of 64
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

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

void PolyBatch::Free::operator()(void* p) const { std::free(p); }

PolyBatch::PolyBatch(const OctopusJob& job, uint32_t max_warps, bool use_avx512)
    : max_warps_(max_warps ? max_warps : 1), avx512_(use_avx512 && CFX_HAVE_AVX512_KERNELS) {
  std::memcpy(sip_, job.v, sizeof(sip_));
  base_.reset(alloc_aligned<double>(size_t(kPanels) * kInner * kWarp));
  outer_.reset(alloc_aligned<double>(size_t(kPanels) * kOuter * kWarp));
  coeffs_.reset(alloc_aligned<double>(size_t(max_warps_) * kN));
  values_.reset(alloc_aligned<uint32_t>(size_t(kAccesses) * max_warps_ * kWarp));
  build_tables(job);
}

PolyBatch::~PolyBatch() = default;

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
      continue;
    }
#endif
    coefficients_portable(sip_, first_warp + w, d);
  }
}

void PolyBatch::evaluate(uint32_t access_begin, uint32_t access_end) {
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
