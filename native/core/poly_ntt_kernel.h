// The transforms and the three steps of poly_ntt.h for one group of 8 warps, written once and
// compiled twice by poly_ntt.cc: in namespace `portable` (plain vector code: SSE2 on baseline
// x86-64, NEON on arm64) and in namespace `avx512` (AVX-512 with its FMA product), each with its
// own `mulmod` and with CFX_NTT_FN giving every function that namespace's target. Not a header
// to include anywhere else (no include guard on purpose).

constexpr uint32_t kBlock = 256;  // transform stages with L < kBlock run block by block (16 KiB, in L1)

// Decimation in frequency (forward) and in time (inverse) over x[0, n), one or two stages per
// pass, stage L pairing x[s + j] with x[s + j + L] (blocks s of 2L, j < L) with twiddle tw[L + j].
// The twiddle at j = 0 is 1: those products are skipped, which leaves the numbers unreduced but
// within the bounds of poly_ntt.h (a stage at most doubles them). Loops run j outside, so a
// twiddle is loaded once for every block.

template <class T>
CFX_NTT_FN void dif2(T* x, uint32_t n, uint32_t L, const Entry* tw) {
  for (uint32_t s = 0; s < n; s += 2 * L) {
    const T u = x[s], v = x[s + L];
    x[s] = u + v;
    x[s + L] = u - v;
  }
  for (uint32_t j = 1; j < L; ++j)
    for (uint32_t s = j; s < n; s += 2 * L) {
      const T u = x[s], v = x[s + L];
      x[s] = u + v;
      x[s + L] = mulmod(u - v, tw[L + j]);
    }
}

// Stages L and L / 2 (L >= 2) in one pass: x0..x3 = x[s + j + {0, 1, 2, 3} L / 2], j < L / 2.
template <class T, bool kFirst>
CFX_NTT_FN void dif4_at(T* x, uint32_t n, uint32_t L, uint32_t j, const Entry* tw) {
  const uint32_t h = L / 2;
  for (uint32_t s = j; s < n; s += 2 * L) {
    const T x0 = x[s], x1 = x[s + h], x2 = x[s + L], x3 = x[s + L + h];
    const T a0 = x0 + x2, a1 = x1 + x3;
    const T a2 = kFirst ? x0 - x2 : mulmod(x0 - x2, tw[L + j]);
    const T a3 = mulmod(x1 - x3, tw[L + j + h]);
    x[s] = a0 + a1;
    x[s + L] = a2 + a3;
    x[s + h] = kFirst ? a0 - a1 : mulmod(a0 - a1, tw[h + j]);
    x[s + L + h] = kFirst ? a2 - a3 : mulmod(a2 - a3, tw[h + j]);
  }
}

template <class T>
CFX_NTT_FN void dif4(T* x, uint32_t n, uint32_t L, const Entry* tw) {
  dif4_at<T, true>(x, n, L, 0, tw);
  for (uint32_t j = 1; j < L / 2; ++j) dif4_at<T, false>(x, n, L, j, tw);
}

// Stages L down to `last` (powers of two, last >= 1) over x[0, n).
template <class T>
CFX_NTT_FN void dif_stages(T* x, uint32_t n, uint32_t L, uint32_t last, const Entry* tw) {
  for (; L >= last; L /= 4) {
    if (L / 2 >= last) {
      dif4(x, n, L, tw);
    } else {
      dif2(x, n, L, tw);
      break;
    }
  }
}

// Stages L / 2 and L (L >= 2) in one pass.
template <class T, bool kFirst>
CFX_NTT_FN void dit4_at(T* x, uint32_t n, uint32_t L, uint32_t j, const Entry* tw) {
  const uint32_t h = L / 2;
  for (uint32_t s = j; s < n; s += 2 * L) {
    const T x0 = x[s], x2 = x[s + L];
    const T b1 = kFirst ? x[s + h] : mulmod(x[s + h], tw[h + j]);
    const T b3 = kFirst ? x[s + L + h] : mulmod(x[s + L + h], tw[h + j]);
    const T a0 = x0 + b1, a1 = x0 - b1, a2 = x2 + b3, a3 = x2 - b3;
    const T c2 = kFirst ? a2 : mulmod(a2, tw[L + j]);
    const T c3 = mulmod(a3, tw[L + j + h]);
    x[s] = a0 + c2;
    x[s + L] = a0 - c2;
    x[s + h] = a1 + c3;
    x[s + L + h] = a1 - c3;
  }
}

template <class T>
CFX_NTT_FN void dit4(T* x, uint32_t n, uint32_t L, const Entry* tw) {
  dit4_at<T, true>(x, n, L, 0, tw);
  for (uint32_t j = 1; j < L / 2; ++j) dit4_at<T, false>(x, n, L, j, tw);
}

// The plain forward transform (the job tables' kernels, scalars).
template <class T>
CFX_NTT_FN void forward(T* x, uint32_t n, const Entry* tw) {
  dif_stages(x, n, n / 2, 1, tw);
}


// Stages L >= kBlock run on columns: c[t] = x[j + kBlock t], t < M (M = n / kBlock), j < kBlock.
// Forward, stages L = kBlock M / 2 down to kBlock; with kHalfZero the column's upper half is taken
// as zero (every forward transform here has such an input), so the first stage only multiplies.
template <class T, uint32_t M, bool kHalfZero>
CFX_NTT_FN void dif_column(T* c, uint32_t j, const Entry* tw) {
#pragma GCC unroll 16
  for (uint32_t half = M / 2; half >= 1; half /= 2) {
    const uint32_t L = kBlock * half;
#pragma GCC unroll 16
    for (uint32_t t0 = 0; t0 < M; t0 += 2 * half)
#pragma GCC unroll 16
      for (uint32_t t = t0; t < t0 + half; ++t) {
        const Entry& w = tw[L + j + kBlock * (t - t0)];
        if (kHalfZero && half == M / 2) {
          c[t + half] = mulmod(c[t], w);
          continue;
        }
        const T u = c[t], v = c[t + half];
        c[t] = u + v;
        c[t + half] = mulmod(u - v, w);
      }
  }
}

// Inverse, stages L = kBlock up to kBlock M / 2; with kLowOnly only c[0, M/2) is computed.
template <class T, uint32_t M, bool kLowOnly>
CFX_NTT_FN void dit_column(T* c, uint32_t j, const Entry* tw) {
#pragma GCC unroll 16
  for (uint32_t half = 1; half < M; half *= 2) {
    const uint32_t L = kBlock * half;
#pragma GCC unroll 16
    for (uint32_t t0 = 0; t0 < M; t0 += 2 * half)
#pragma GCC unroll 16
      for (uint32_t t = t0; t < t0 + half; ++t) {
        const T u = c[t], v = mulmod(c[t + half], tw[L + j + kBlock * (t - t0)]);
        c[t] = u + v;
        if (!kLowOnly || half < M / 2) c[t + half] = u - v;
      }
  }
}

// Stages L < kBlock of a block of kBlock positions (16 KiB: it stays in L1 for all of them).
template <class T>
CFX_NTT_FN void dif_block(T* x, const Entry* tw) {
  dif_stages(x, kBlock, kBlock / 2, 1, tw);
}
// The inverse's stages 1 .. kBlock / 2 in pairs (1, 2), (4, 8), ...: kBlock is a power of 4.
static_assert((kBlock & (kBlock - 1)) == 0 && (kBlock & 0x55555555u) != 0, "kBlock a power of 4");
template <class T>
CFX_NTT_FN void dit_block(T* x, const Entry* tw) {
  for (uint32_t L = 2; L < kBlock; L *= 4) dit4(x, kBlock, L, tw);
}

// A block pass: the last stages of a forward transform of x[0, n), the product with the kernel's
// spectrum, the first stages of the inverse.
template <class T>
CFX_NTT_FN void kernel_blocks(T* x, uint32_t n, const Entry* spectrum, const Shared& s) {
  for (uint32_t b = 0; b < n; b += kBlock) {
    dif_block(x + b, s.fwd);
    for (uint32_t i = 0; i < kBlock; ++i) x[b + i] = mulmod(x[b + i], spectrum[b + i]);
    dit_block(x + b, s.inv);
  }
}

// A column pass between two steps: the last stages of the inverse transform (its lower half),
// times the next step's factors (zero from position `used` on), the first stages of the next
// forward transform, whose upper half is zero.
template <class T, uint32_t M>
CFX_NTT_FN void between_steps(T* x, const Entry* factors, uint32_t used, const Shared& s) {
  for (uint32_t j = 0; j < kBlock; ++j) {
    T c[M];
    for (uint32_t q = 0; q < M; ++q) c[q] = x[j + kBlock * q];
    dit_column<T, M, true>(c, j, s.inv);
    for (uint32_t q = 0; q < M / 2; ++q) {
      const uint32_t u = j + kBlock * q;
      c[q] = u < used ? mulmod(c[q], factors[u]) : c[q] - c[q];
    }
    dif_column<T, M, true>(c, j, s.fwd);
    for (uint32_t q = 0; q < M; ++q) x[j + kBlock * q] = c[q];
  }
}

// One group of up to 8 warps through the three steps (poly_ntt.h) in seven passes over the 256 KiB
// work area: column passes (an inverse transform's last stages, the factors between two steps, the
// next forward transform's first stages, all in registers) alternate with block passes (a forward
// transform's last stages, the product with the kernel, the inverse's first stages, in L1).
// `scratch` holds one block.
template <class T>
CFX_NTT_FN void evaluate_group(const NttTables& t, T* x, T* scratch, const double* d, size_t d_stride,
                               uint32_t warps, uint32_t* out, size_t row_stride) {
  const Shared& s = shared();
  constexpr uint32_t kL = sizeof(T) / sizeof(double);
  constexpr uint32_t kS = kSmall / kBlock, kB = kLarge / kBlock;  // column lengths: 8 and 16
  // 1. (j! d_j) at position 1023 - j, the shift's forward transform (2048), the product with its
  // kernel, the inverse (positions < 1024 only).
  for (uint32_t j = 0; j < kBlock; ++j) {
    T c[kS];
    for (uint32_t q = 0; q < kS / 2; ++q) {
      const uint32_t jj = kD - 1 - (j + kBlock * q);
      T dj;
      for (uint32_t m = 0; m < kL; ++m) dj[m] = m < warps ? d[m * d_stride + jj] : 0.0;
      c[q] = mulmod(dj, s.fact[jj]);
    }
    dif_column<T, kS, true>(c, j, s.fwd);
    for (uint32_t q = 0; q < kS; ++q) x[j + kBlock * q] = c[q];
  }
  kernel_blocks(x, kSmall, t.shift, s);
  // 2. (2i)! t_i at even positions 2u (u = 1023 - i): its transform (4096) is that of the 1024
  // numbers at u (2048), read twice: position pos of 4096 is position pos >> 1 of 2048.
  between_steps<T, kS>(x, t.lift, kD, s);
  // Blocks from the last: block b of 2048 becomes positions [2b, 2b + 2 kBlock) of 4096, which
  // only overlap blocks already done (b = 0 itself goes through the scratch block).
  for (uint32_t b = kSmall; b > 0;) {
    b -= kBlock;
    dif_block(x + b, s.fwd);
    std::memcpy(static_cast<void*>(scratch), x + b, sizeof(T) * kBlock);
    T* y = x + 2 * b;
    for (uint32_t i = 0; i < 2 * kBlock; ++i) y[i] = mulmod(scratch[i >> 1], t.hshift[2 * b + i]);
    dit_block(y, s.inv);
    dit_block(y + kBlock, s.inv);
  }
  // 3. Bluestein: E'[u] = m! q_m w^-C(m,2) / m!, m = 2046 - u (u < 2047, zero above); the
  // values are at 2046 + k.
  between_steps<T, kB>(x, t.chirp_in, kQ, s);
  kernel_blocks(x, kLarge, t.chirp, s);
  for (uint32_t j = 0; j < kBlock; ++j) {
    T c[kB];
    for (uint32_t q = 0; q < kB; ++q) c[q] = x[j + kBlock * q];
    dit_column<T, kB, false>(c, j, s.inv);
    for (uint32_t q = 0; q < kB; ++q) {
      const uint32_t pos = j + kBlock * q;
      if (pos < kQ - 1 || pos >= kQ - 1 + kD) continue;
      const uint32_t k = pos - (kQ - 1);
      const T v = mulmod(c[q], t.chirp_out[k]);  // within p/2 + 1 of zero
      uint32_t* o = out + size_t(k / kWarp) * row_stride + k % kWarp;
      for (uint32_t m = 0; m < warps; ++m) {
        int64_t r = static_cast<int64_t>(v[m]);
        r += r < 0 ? int64_t(kP) : 0;
        o[m * kWarp] = static_cast<uint32_t>(r);
      }
    }
  }
}
