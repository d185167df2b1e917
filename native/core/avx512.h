// The one way the core (and its benchmarks) include the AVX-512 intrinsics. Kernels that use
// them are compiled with target attributes and chosen at run time (cpu.h), so the file builds
// on every x86-64 and elsewhere includes nothing.
#pragma once
#include "cpu.h"

#if CFX_HAVE_AVX512_KERNELS
// GCC 12 warns inside its own AVX-512 headers (the `__Y = __Y` "undefined" idiom, GCC bug
// 105593) when they are used from target-attribute functions; the code is fine. The pragmas
// hold for the rest of each file that includes this one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif
