// The polynomial step (OCTOPUS.md steps 2 and 3) for whole warps at once, as exact fp64 matrix
// products. Over one job the 1024 evaluation points x_k are fixed, so the values of a warp are
// its coefficient vector d (1024 numbers) times the job's power matrix x_k^j mod p.
//
// The matrix is kept factored: value(k) = sum_t x_k^(64 t) * G_t(k), t = 0..15, with
// G_t(k) = sum_s d[64 t + s] * x_k^s, s = 0..63. The inner products are a dense product with
// the 64 x 1024 base powers (512 KiB: it stays in L2 instead of streaming an 8 MiB matrix from
// DRAM, which would steal the memory bandwidth the full-mode walk runs on); the 16 outer powers
// (128 KiB) fold the partial sums together. Per access the kernel reads one 16 KiB panel of
// base powers (L1) while the warps' coefficients stream from L2.
//
// Exactness: every d and power is below p < 2^20, so products are below 2^40 and a G_t (64 of
// them) below 2^46: doubles hold every partial sum exactly, FMA or not, in any order. Each G_t
// is brought below 2^21 in absolute value (an exact division step, no full reduction), times an
// outer power stays below 2^41, and 16 of those below 2^45; one exact reduction mod p at the
// end gives the same numbers as Horner's rule (octopus_values).
//
// Use: load_warps(first, n) computes the coefficients of n consecutive warps (SipHash), then
// evaluate(i0, i1) the values value_i, i in [i0, i1), of their n*32 nonces (in slices, so a
// caller can look for an abort in between), read back with values_row(i).
//
// On CPUs with AMX (Sapphire Rapids and later) the inner products run as int8 tile products
// instead, on the numbers cut into bytes: 2-3x faster (full mode only; see poly_batch.cc).
// Without AMX, a batch of 8 warps or more (full mode) uses number-theoretic transforms instead
// of the dense product (poly_ntt.h): ~107 K butterflies a warp instead of ~1 M multiply-adds,
// 1.7x faster on an Intel AVX-512 core and more where adds and multiplies have their own units.
//
// (Measured and dropped: running this arithmetic in small steps inside the full-mode dataset
// walk, to fill its memory stalls, made full mode 2-5% slower than doing it up front. Measured
// again for issue 12 with the next warp's values in ~256-FMA steps after every second read of
// the walk, one warp or two at a time: 20-30% fewer hashes per CPU second, because one- and
// two-warp steps run 1.2-1.8x slower than the 6-warp tiles below and the walk's stalls hid
// less than that; see the commit "experiment: full mode with the polynomial pipelined". Measured
// a third time with the AMX kernel, whose units of one tile and half a panel (~0.35 us) match
// the walk's rounds: the next block's values staged unit by unit between the walk's rounds,
// with the tile configuration held over the walk, gave 0.76-0.93 of the hashes of doing them
// up front, and spreading the units finer, between every 8 or 4 of a round's 32 steps, 0.71-0.73.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "aligned.h"
#include "cpu.h"
#include "octopus.h"
#include "params.h"
#include "poly_ntt.h"

namespace cfx {

class PolyBatch {
 public:
  // Builds the job's power tables (640 KiB, well under a millisecond; 1.6 MiB with AMX).
  // `max_warps` bounds load_warps. `use_avx512` chooses the kernels (pass cpu_has_avx512();
  // tests pass false to cover the portable path); with it, `use_amx` the AMX tile kernels
  // (poly_batch.cc); without AMX and with max_warps >= 8, `use_transforms` the transforms
  // (tests pass false to cover the dense product there too).
  PolyBatch(const OctopusJob& job, uint32_t max_warps, bool use_avx512, bool use_amx = cpu_has_amx(),
            bool use_transforms = true);
  ~PolyBatch();
  PolyBatch(const PolyBatch&) = delete;
  PolyBatch& operator=(const PolyBatch&) = delete;

  // Computes the coefficients of warps first_warp .. first_warp + warps - 1 (1 <= warps <=
  // max_warps; the last nonce must not pass 2^64 - 1).
  void load_warps(uint64_t first_warp, uint32_t warps);

  // Computes value_i for i in [access_begin, access_end) (within 0..32) of every loaded nonce;
  // with the transforms, all 32 values of a share of the warps instead (as many groups of 8 as
  // the slice's share of 32). Either way every value is there once the calls since load_warps
  // have covered [0, 32); a caller looks for an abort between slices.
  void evaluate(uint32_t access_begin, uint32_t access_end);

  // value_i of nonce first_warp*32 + n is values_row(i)[n], n < warps*32, once evaluated.
  const uint32_t* values_row(uint32_t i) const { return values_.get() + size_t(i) * max_warps_ * kWarp; }

  uint32_t max_warps() const { return max_warps_; }
  bool uses_avx512() const { return avx512_; }
  bool uses_amx() const { return amx_; }
  bool uses_transforms() const { return ntt_ != nullptr; }

 private:
  void build_tables(const OctopusJob& job);
  size_t amx_plane_bytes() const;  // one byte plane of the coefficients: whole tiles of warps

  uint64_t sip_[4];  // the SipHash key: the header's four words
  uint32_t max_warps_;
  bool avx512_;
  bool amx_;
  uint32_t warps_ = 0;
  // Panel i holds the 32 points that access i of a warp's 32 nonces uses (nonce r uses the point
  // k = r + 32 i): base_[(i * 64 + s) * 32 + r] = x_k^s and outer_[(i * 16 + t) * 32 + r] =
  // x_k^(64 t), all mod p. The dense product's tables: empty with the transforms or AMX.
  AlignedArray<double> base_;
  AlignedArray<double> outer_;
  AlignedArray<double> coeffs_;    // [warp][j], j = 0..1023, as d[j]
  AlignedArray<uint32_t> values_;  // [i][nonce]
  std::unique_ptr<PolyNtt> ntt_;  // the transforms' tables and work area, when they are used
  // AMX only: the B tiles and O table of every half panel, and the coefficients as bytes
  // [u][warp][j] (poly_batch.cc).
  AlignedArray<uint8_t> btab_;
  AlignedArray<double> otab_;
  AlignedArray<uint8_t> dbytes_;
};

}  // namespace cfx
