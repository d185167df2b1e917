#include "poly_ntt.h"

#include <algorithm>
#include <cstring>

#include "cpu.h"

#include "avx512.h"

namespace cfx {
namespace {

constexpr uint64_t kP = kPrime;
constexpr double kPd = static_cast<double>(kPrime);
// x + kMagic - kMagic is x rounded to the nearest integer for |x| < 2^51 (the sum's unit is 1).
constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
constexpr uint32_t kD = kPolyDegree;           // 1024 coefficients and points
constexpr uint32_t kSmall = 2 * kD;            // step 1's transform size
constexpr uint32_t kLarge = 4 * kD;            // steps 2 and 3
constexpr uint32_t kQ = 2 * kD - 1;            // Q's coefficients (degree 2046)
constexpr uint32_t kChirp = kQ + kD - 1;       // w^C(n,2) for n < 3070

uint64_t mulm(uint64_t a, uint64_t b) { return a * b % kP; }

uint64_t invm(uint64_t a) { return powmod_p(a, kP - 2); }  // p is prime

// A generator of F_p*: p - 1 = 2^14 * 3^2 * 7.
uint64_t generator() {
  for (uint64_t g = 2;; ++g)
    if (powmod_p(g, (kP - 1) / 2) != 1 && powmod_p(g, (kP - 1) / 3) != 1 && powmod_p(g, (kP - 1) / 7) != 1) return g;
}

// A table entry: the number (in [0, p)) and its quotient factor.
struct Entry {
  double w, wp;
};

Entry entry(uint64_t v) { return {static_cast<double>(v % kP), static_cast<double>(v % kP) / kPd}; }

// Tables every job shares: the transforms' twiddles (stage L's at [L + j], j < L: w_2L^j forward,
// w_2L^-j inverse, w_2L a primitive 2L-th root of unity) and the factorials up to 2046.
struct Shared {
  Entry fwd[kLarge], inv[kLarge];
  Entry fact[kQ];
  uint64_t fact_n[kQ], inv_fact_n[kQ];

  Shared() {
    const uint64_t g = generator();
    for (uint32_t L = 1; L < kLarge; L <<= 1) {
      const uint64_t root = powmod_p(g, (kP - 1) / (2 * L)), root_inv = invm(root);
      uint64_t f = 1, i = 1;
      for (uint32_t j = 0; j < L; ++j, f = mulm(f, root), i = mulm(i, root_inv)) {
        fwd[L + j] = entry(f);
        inv[L + j] = entry(i);
      }
    }
    fact_n[0] = 1;
    for (uint32_t m = 1; m < kQ; ++m) fact_n[m] = mulm(fact_n[m - 1], m);
    for (uint32_t m = 0; m < kQ; ++m) {
      fact[m] = entry(fact_n[m]);
      inv_fact_n[m] = invm(fact_n[m]);
    }
  }
};

const Shared& shared() {
  static const Shared s;  // thread-safe one-time initialisation
  return s;
}

// A vector of 8 doubles, as one AVX-512 register or as SSE2/NEON pairs. (GCC notes that passing
// one by value changes the ABI without AVX-512; these functions are all inlined into a kernel.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double V8 __attribute__((vector_size(64)));

// The job's tables in tables_, in this order.
struct NttTables {
  Entry shift[kSmall];   // step 1's kernel e^m / m!, transformed, times 1/2048
  Entry lift[kD];        // step 2's input factors a^i (2i)! / i!, i = 1023 - u
  Entry hshift[kLarge];  // step 2's kernel h^m / m!, transformed, times 1/4096
  Entry chirp_in[kQ];    // step 3's input factors w^-C(m,2) / m!, m = 2046 - u
  Entry chirp[kLarge];   // step 3's kernel w^C(n,2), transformed, times 1/4096
  Entry chirp_out[kD];   // w^-C(k,2)
};

// The portable kernel, and the scalar transforms of the job's tables. y * e.w reduced to within
// p/2 + 1 of zero: q = round(y * e.wp) (the sum with kMagic rounds), then y * e.w - q p, each
// product exact for |y * e.w| < 2^52 (poly_ntt.h), so no FMA is needed.
namespace portable {
template <class T>
__attribute__((always_inline)) inline T mulmod(const T& y, const Entry& e) {
  const T q = (y * e.wp + kMagic) - kMagic;
  return y * e.w - q * kPd;
}
#define CFX_NTT_FN __attribute__((always_inline)) inline
#include "poly_ntt_kernel.h"
#undef CFX_NTT_FN
}  // namespace portable

#if CFX_HAVE_AVX512_KERNELS
// The AVX-512 kernel: the same reduction in three FMAs instead of four operations. Q = y * e.wp
// + kMagic is q + kMagic; Q p - kMagic p (one rounding of the exact q p, an integer below 2^53)
// is q p exactly; y * e.w - q p (one rounding of a number within p/2 + 1 of zero) is exact.
namespace avx512 {
CFX_TARGET_AVX512 __attribute__((always_inline)) inline V8 mulmod(V8 y, const Entry& e) {
  const __m512d Q = _mm512_fmadd_pd(__m512d(y), _mm512_set1_pd(e.wp), _mm512_set1_pd(kMagic));
  const __m512d qp = _mm512_fmadd_pd(Q, _mm512_set1_pd(kPd), _mm512_set1_pd(-kMagic * kPd));
  return V8(_mm512_fmsub_pd(__m512d(y), _mm512_set1_pd(e.w), qp));
}
#define CFX_NTT_FN CFX_TARGET_AVX512 __attribute__((always_inline)) inline
#include "poly_ntt_kernel.h"
#undef CFX_NTT_FN
}  // namespace avx512

// The AVX2 kernel, for CPUs with AVX2 and FMA but not AVX-512: the same reduction in three FMAs,
// on 4 warps a group (one ymm register each). With 8 lanes the column passes' 16 vectors would
// need 32 ymm registers of 16 and spill (compiling the portable kernel for AVX2 measured no faster).
namespace avx2 {
typedef double V4 __attribute__((vector_size(32)));
CFX_TARGET_AVX2 __attribute__((always_inline)) inline V4 mulmod(V4 y, const Entry& e) {
  const __m256d Q = _mm256_fmadd_pd(__m256d(y), _mm256_set1_pd(e.wp), _mm256_set1_pd(kMagic));
  const __m256d qp = _mm256_fmadd_pd(Q, _mm256_set1_pd(kPd), _mm256_set1_pd(-kMagic * kPd));
  return V4(_mm256_fmsub_pd(__m256d(y), _mm256_set1_pd(e.w), qp));
}
#define CFX_NTT_FN CFX_TARGET_AVX2 __attribute__((always_inline)) inline
#include "poly_ntt_kernel.h"
#undef CFX_NTT_FN
}  // namespace avx2
#endif

void evaluate_portable(const NttTables& t, double* work, const double* d, size_t d_stride, uint32_t warps,
                       uint32_t* out, size_t row_stride) {
  V8* x = reinterpret_cast<V8*>(work);
  portable::evaluate_group(t, x, x + kLarge, d, d_stride, warps, out, row_stride);  // the scratch block after x
}

#if CFX_HAVE_AVX512_KERNELS
// Up to 8 warps as groups of 4 (the lanes of a ymm register).
CFX_TARGET_AVX2 void evaluate_avx2(const NttTables& t, double* work, const double* d, size_t d_stride, uint32_t warps,
                                   uint32_t* out, size_t row_stride) {
  avx2::V4* x = reinterpret_cast<avx2::V4*>(work);
  constexpr uint32_t kL = sizeof(avx2::V4) / sizeof(double);
  for (uint32_t w = 0; w < warps; w += kL)
    avx2::evaluate_group(t, x, x + kLarge, d + size_t(w) * d_stride, d_stride, std::min(kL, warps - w),
                         out + size_t(w) * kWarp, row_stride);
}

CFX_TARGET_AVX512 void evaluate_avx512(const NttTables& t, double* work, const double* d, size_t d_stride,
                                       uint32_t warps, uint32_t* out, size_t row_stride) {
  V8* x = reinterpret_cast<V8*>(work);
  avx512::evaluate_group(t, x, x + kLarge, d, d_stride, warps, out, row_stride);  // the scratch block after x
}
#endif

// The scalar transform of a job kernel k (n numbers in [0, p)), times 1/n, into `out`.
void kernel_spectrum(double* k, uint32_t n, Entry* out) {
  portable::forward(k, n, shared().fwd);
  const Entry inv_n = entry(invm(n));
  for (uint32_t i = 0; i < n; ++i) {
    int64_t r = static_cast<int64_t>(portable::mulmod(k[i], inv_n));
    r += r < 0 ? int64_t(kP) : 0;
    out[i] = entry(static_cast<uint64_t>(r));
  }
}

}  // namespace

PolyNtt::PolyNtt(const OctopusJob& job, bool use_avx512)
    : avx512_(use_avx512 && CFX_HAVE_AVX512_KERNELS),
      avx2_(!avx512_ && cpu_has_avx2()),
      tables_(alloc_aligned<double>(sizeof(NttTables) / sizeof(double))),
      work_(alloc_aligned<double>(size_t(kLarge + portable::kBlock) * kLanes)) {
  const Shared& s = shared();
  NttTables& t = *reinterpret_cast<NttTables*>(tables_.get());
  const uint64_t a = job.a, b = job.b, c = job.c, w = job.w;
  const uint64_t h = mulm(b, invm(mulm(2, a)));
  const uint64_t e = (c + kP - mulm(mulm(b, b), invm(mulm(4, a)))) % kP;
  std::unique_ptr<double[]> k(new double[kLarge]);
  // Step 1's kernel: e^m / m!, m < 1024.
  std::memset(k.get(), 0, sizeof(double) * kLarge);
  for (uint64_t m = 0, em = 1; m < kD; ++m, em = mulm(em, e)) k[m] = double(mulm(em, s.inv_fact_n[m]));
  kernel_spectrum(k.get(), kSmall, t.shift);
  for (uint64_t i = 0, ai = 1; i < kD; ++i, ai = mulm(ai, a))  // ai = a^i
    t.lift[kD - 1 - i] = entry(mulm(mulm(ai, s.fact_n[2 * i]), s.inv_fact_n[i]));
  // Step 2's kernel: h^m / m!, m < 2047.
  std::memset(k.get(), 0, sizeof(double) * kLarge);
  for (uint64_t m = 0, hm = 1; m < kQ; ++m, hm = mulm(hm, h)) k[m] = double(mulm(hm, s.inv_fact_n[m]));
  kernel_spectrum(k.get(), kLarge, t.hshift);
  // Step 3: w^C(n,2) for n < 3070 (C(n+1,2) = C(n,2) + n), its inverse for the factors.
  const uint64_t w_inv = invm(w);
  std::memset(k.get(), 0, sizeof(double) * kLarge);
  uint64_t wc = 1, wc_inv = 1, wn = 1, wn_inv = 1;  // w^C(n,2), w^-C(n,2), w^n, w^-n
  for (uint32_t n = 0; n < kChirp; ++n) {
    k[n] = double(wc);
    if (n < kQ) t.chirp_in[kQ - 1 - n] = entry(mulm(wc_inv, s.inv_fact_n[n]));
    if (n < kD) t.chirp_out[n] = entry(wc_inv);
    wc = mulm(wc, wn);
    wc_inv = mulm(wc_inv, wn_inv);
    wn = mulm(wn, w);
    wn_inv = mulm(wn_inv, w_inv);
  }
  kernel_spectrum(k.get(), kLarge, t.chirp);
}

void PolyNtt::evaluate(const double* d, size_t d_stride, uint32_t warps, uint32_t* out, size_t row_stride) {
  const NttTables& t = *reinterpret_cast<const NttTables*>(tables_.get());
#if CFX_HAVE_AVX512_KERNELS
  if (avx512_) return evaluate_avx512(t, work_.get(), d, d_stride, warps, out, row_stride);
  if (avx2_) return evaluate_avx2(t, work_.get(), d, d_stride, warps, out, row_stride);
#endif
  evaluate_portable(t, work_.get(), d, d_stride, warps, out, row_stride);
}

}  // namespace cfx
