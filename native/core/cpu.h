// Run-time CPU feature selection. The addon is built for baseline x86-64 (no -march flag), so
// the AVX-512 kernels are compiled function by function with a target attribute and chosen here
// at run time: one binary runs on any x86-64 and the same sources build on arm64, where the
// AVX-512 code compiles out.
#pragma once

// -DCFX_HAVE_AVX512_KERNELS=0 builds the portable code alone, as on arm64 (a way to check that
// build on x86-64: the core tests pass with it).
#ifndef CFX_HAVE_AVX512_KERNELS
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CFX_HAVE_AVX512_KERNELS 1
#else
#define CFX_HAVE_AVX512_KERNELS 0
#endif
#endif

#if CFX_HAVE_AVX512_KERNELS
// Every function that uses AVX-512 intrinsics carries this; helpers it inlines carry it too
// (GCC refuses to inline a function into one with a different target).
#define CFX_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))
// The same for the AVX2 kernels of CPUs without AVX-512 (x86-64 as well, so under the same switch).
#define CFX_TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif

// AMX (tile) kernels need GCC 11 or Clang 12 for the intrinsics; older compilers build without.
#ifndef CFX_HAVE_AMX_KERNELS
#if CFX_HAVE_AVX512_KERNELS && defined(__linux__) && \
    ((defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && __GNUC__ >= 11))
#define CFX_HAVE_AMX_KERNELS 1
#else
#define CFX_HAVE_AMX_KERNELS 0
#endif
#endif

#if CFX_HAVE_AMX_KERNELS
#define CFX_TARGET_AMX __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,amx-tile,amx-int8")))
#endif

namespace cfx {

// The CPU and the OS (the XSAVE state of the zmm and mask registers) support AVX-512 F, VL, BW
// and DQ, and the portable path is not forced. Cheap: detection runs once.
bool cpu_has_avx512();

// The same question without the override: what the hardware offers.
bool cpu_detects_avx512();

// Forces the portable path (true) or returns to detection (false), so tests cover the portable
// code on an AVX-512 machine. CFX_MINER_NO_AVX512=1 (any value but "" and "0") in the
// environment forces it from the start. Objects that chose a path at construction keep it.
void force_portable(bool on);
bool portable_forced();

// The CPU and the OS (the XSAVE state of the ymm registers) support AVX2 and FMA, and neither
// CFX_MINER_NO_AVX2 nor force_no_avx2 says otherwise. The portable path's polynomial transforms
// use it (poly_ntt.h); everything else on that path stays baseline code.
bool cpu_has_avx2();

// The same question without the override: what the hardware and the OS offer.
bool cpu_detects_avx2();

// Forces the baseline transforms on an AVX2 machine (true) or returns to detection, so tests cover
// both. CFX_MINER_NO_AVX2=1 in the environment forces it from the start. Objects that chose a
// path at construction keep it.
void force_no_avx2(bool on);

// The AVX-512 path is on (cpu_has_avx512) and the CPU has AMX tiles with int8 products, which the
// OS enables for this process (Linux asks for permission once, arch_prctl ARCH_REQ_XCOMP_PERM; a
// refusal, e.g. for a too small signal stack, means no AMX). Used by the polynomial step.
bool cpu_has_amx();

// Forces the AVX-512 fp64 polynomial kernels on an AMX machine (true) or returns to detection, so
// tests cover both. CFX_MINER_NO_AMX=1 in the environment forces it from the start (a CPU without
// AMX, measured on one with it). Objects that chose a path at construction keep it.
void force_no_amx(bool on);

// Whether full mode's walk prefetches its next pages, and the dataset items' parent chains
// (dataset build, light mode) their parent nodes, into L2 (true) or into L1. Both are bound by
// the reads in flight: on Intel (measured on a Sapphire Rapids Xeon) a prefetch into L1 holds one
// of the core's 16 L1 fill buffers until its line arrives, one into L2 waits in L2's larger
// queue; full mode gained 16-20%, light mode 6-8%, the dataset build ~5%. Elsewhere it is not
// measured, and on AMD Zen 4 prefetches into L2 have been reported to be dropped at times, so
// they stay in L1.
// CFX_MINER_PREFETCH=l1 or l2 in the environment chooses (to measure it on another CPU).
bool cpu_prefetch_to_l2();

// One 64-byte line on its way into L2 (l2: prefetcht1 on x86-64) or into L1 (prefetcht0), as
// cpu_prefetch_to_l2() chose: the one place both kinds are written.
inline void prefetch_line(const void* p, bool l2) {
  if (l2) {
    __builtin_prefetch(p, 0, 2);
  } else {
    __builtin_prefetch(p, 0, 3);
  }
}

// Puts the calling thread at nice 10 (a search thread, or a probe that must share the cores as
// one): the event loop, a dataset build and the rest of the machine come first. Needs no
// privilege; where the OS refuses or has no per-thread nice, the thread stays as it is.
// (SCHED_IDLE, measured: the event loop wakes sooner, but a displaced search thread then waits
// for every normal thread of the process, and the switch p99 went from 0.8-0.9 to 3.7-4.1 ms.)
void lower_thread_priority();

// "avx512x8" or "scalar": the keccak the 8-lane functions use now.
const char* keccak_impl_name();

}  // namespace cfx
