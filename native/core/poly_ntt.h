// The polynomial step (OCTOPUS.md step 3) of whole warps by number-theoretic transforms, for CPUs
// without AMX: ~107 K butterflies per warp instead of the dense product's ~1 M multiply-adds.
//
// The 1024 points of a job are x_k = a v^2 + b v + c with v = w^k, and a v^2 + b v + c =
// a (v + h)^2 + e with h = b / 2a and e = c - b^2 / 4a (mod p). So a warp's values P(x_k),
// P(x) = sum_j d[j] x^j, come from three convolutions over F_p, each a transform of the warp's
// numbers, a product with a transform fixed per job, and the inverse transform:
//   1. T(u) = P(a u + e): a Taylor shift by e (size 2048), then a scaling by a^i;
//   2. Q(v) = T((v + h)^2): T's coefficients on the even powers, shifted by h (size 4096; the
//      input is supported on even indices, so its transform is one of size 2048, read twice);
//   3. value_k = Q(w^k), k = 0..1023: Bluestein's chirp with mk = C(m+k,2) - C(m,2) - C(k,2)
//      (size 4096).
// p - 1 = 2^14 * 63, so F_p has the 4096th roots of unity the transforms need, and p > 2046 makes
// every factorial the shifts divide by invertible.
//
// Exactness: the numbers are doubles holding integers. A product with a table entry W is
// reduced at once: q = round(y * (W / p)), r = y * W - q p, exact while |y * W| < 2^52; r lies
// within p/2 + 1 of zero. The sums and differences of a butterfly are not reduced, and a twiddle
// of 1 (j = 0) is not multiplied: a stage at most doubles the largest number, so the 12 stages
// of a transform take inputs within p of zero to below 2^12 p < 2^32, and |y * W| < 2^52.
// Every step's input is a fresh product (within p/2 + 1). One final reduction gives each value
// in [0, p), the same numbers as Horner's rule (octopus_values); the core tests compare every
// vector line on every path.
//
// The lanes of a vector are 8 warps, so no butterfly shuffles lanes, and the same code is the
// AVX-512 kernel (8 doubles a register, the reduction in three FMAs), the AVX2 one (4 warps a
// group, the same FMAs on ymm registers) and the portable one (GCC vector extensions, as SSE2 or
// NEON). Per group of 8 warps the work area is 4096 x 8 doubles
// (256 KiB, in L2), visited in seven passes (poly_ntt_kernel.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "aligned.h"
#include "octopus.h"
#include "params.h"

namespace cfx {

class PolyNtt {
 public:
  static constexpr uint32_t kLanes = 8;  // warps a call evaluates together

  // Builds the job's tables (three transforms of 2048 and 4096 numbers, ~0.15 ms). `use_avx512`
  // chooses the kernel (both give the same bits).
  PolyNtt(const OctopusJob& job, bool use_avx512);
  PolyNtt(const PolyNtt&) = delete;
  PolyNtt& operator=(const PolyNtt&) = delete;

  // The values of `warps` (1..8) warps: warp m's coefficients d[j] (integral doubles in [0, p))
  // at d[m * d_stride + j]; value_k of its nonce r = k % 32 goes to
  // out[(k / 32) * row_stride + m * 32 + k % 32] (the layout of PolyBatch's rows).
  void evaluate(const double* d, size_t d_stride, uint32_t warps, uint32_t* out, size_t row_stride);

  bool uses_avx512() const { return avx512_; }
  // Without AVX-512: the AVX2 kernel (cpu_has_avx2() when built), else the portable one.
  bool uses_avx2() const { return avx2_; }

 private:
  bool avx512_;
  bool avx2_;
  // The job's tables, each a value and the value / p (the quotient estimate's factor):
  // shift_ = step 1's kernel spectrum (2048, bit-reversed, times 1/2048); lift_ = step 2's
  // factors a^i (2i)! / i!; hshift_ = step 2's kernel spectrum (4096); chirp_in_, chirp_ =
  // step 3's input factors w^-C(m,2) / m! and kernel spectrum; chirp_out_ = w^-C(k,2).
  AlignedArray<double> tables_;
  AlignedArray<double> work_;  // 4096 x 8 doubles
};

}  // namespace cfx
