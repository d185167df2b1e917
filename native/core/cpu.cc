#include "cpu.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace cfx {
namespace {

#if CFX_HAVE_AVX512_KERNELS
// The low half of XCR0: which register states the OS saves. Only where cpuid says OSXSAVE.
uint32_t xcr0_low() {
  uint32_t lo, hi;
  // xgetbv by opcode so the file needs no -mxsave.
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo;
}
#endif

bool detect_avx512() {
#if CFX_HAVE_AVX512_KERNELS
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  if (!(ecx & (1u << 27))) return false;  // OSXSAVE: xgetbv is usable
  const uint32_t xcr0_lo = xcr0_low();
  // The OS saves SSE, AVX, the opmask and both zmm halves (bits 1, 2, 5, 6, 7): without that a
  // context switch would corrupt the registers even on a CPU that has them.
  if ((xcr0_lo & 0xe6u) != 0xe6u) return false;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const uint32_t need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F, DQ, BW, VL
  return (ebx & need) == need;
#else
  return false;
#endif
}

bool detect_avx2() {
#if CFX_HAVE_AVX512_KERNELS
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const uint32_t need1 = (1u << 12) | (1u << 27) | (1u << 28);  // FMA, OSXSAVE, AVX
  if ((ecx & need1) != need1) return false;
  if ((xcr0_low() & 0x6u) != 0x6u) return false;  // the OS saves SSE and AVX (ymm) state
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  return (ebx & (1u << 5)) != 0;  // AVX2
#else
  return false;
#endif
}

bool detect_amx() {
#if CFX_HAVE_AMX_KERNELS
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_max(0, nullptr) < 0xd) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  if ((edx & ((1u << 24) | (1u << 25))) != ((1u << 24) | (1u << 25))) return false;  // AMX-TILE, AMX-INT8
  if ((xcr0_low() & (3u << 17)) != (3u << 17)) return false;  // XTILECFG and XTILEDATA enabled
  // The tile data is a dynamically enabled state: without this permission (once per process, for
  // every thread) the first tile instruction raises SIGILL.
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

// "1" (any value but "" and "0") in the environment variable `name`.
bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// Intel x86 (where prefetching the walk into L2 was measured to help), or CFX_MINER_PREFETCH.
bool detect_prefetch_l2() {
  const char* v = std::getenv("CFX_MINER_PREFETCH");
  if (v && std::strcmp(v, "l2") == 0) return true;
  if (v && std::strcmp(v, "l1") == 0) return false;
#if defined(__x86_64__) || defined(__i386__)
  unsigned max_leaf, ebx, ecx, edx;
  if (!__get_cpuid(0, &max_leaf, &ebx, &ecx, &edx)) return false;
  char vendor[13];
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  vendor[12] = 0;
  return std::strcmp(vendor, "GenuineIntel") == 0;
#else
  return false;
#endif
}

// Relaxed: a standalone switch that publishes no data. Both paths compute identical results, so a
// thread that sees a flip late only runs the other (equally correct) code for a while.
std::atomic<bool> g_forced{env_set("CFX_MINER_NO_AVX512")};
std::atomic<bool> g_no_amx{env_set("CFX_MINER_NO_AMX")};  // relaxed, as g_forced
std::atomic<bool> g_no_avx2{env_set("CFX_MINER_NO_AVX2")};  // relaxed, as g_forced

}  // namespace

bool cpu_detects_avx512() {
  static const bool has = detect_avx512();  // thread-safe one-time initialisation
  return has;
}

bool cpu_has_avx512() { return !g_forced.load(std::memory_order_relaxed) && cpu_detects_avx512(); }

void force_portable(bool on) { g_forced.store(on, std::memory_order_relaxed); }

bool portable_forced() { return g_forced.load(std::memory_order_relaxed); }

bool cpu_has_amx() {
  if (g_no_amx.load(std::memory_order_relaxed) || !cpu_has_avx512()) return false;
  static const bool has = detect_amx();  // asks the OS once
  return has;
}

void force_no_amx(bool on) { g_no_amx.store(on, std::memory_order_relaxed); }

bool cpu_detects_avx2() {
  static const bool has = detect_avx2();  // thread-safe one-time initialisation
  return has;
}

bool cpu_has_avx2() { return !g_no_avx2.load(std::memory_order_relaxed) && cpu_detects_avx2(); }

void force_no_avx2(bool on) { g_no_avx2.store(on, std::memory_order_relaxed); }

bool cpu_prefetch_to_l2() {
  static const bool l2 = detect_prefetch_l2();
  return l2;
}

void lower_thread_priority() {
#ifdef __linux__
  // Raising one's own nice value needs no privilege.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
#endif
}

const char* keccak_impl_name() { return cpu_has_avx512() ? "avx512x8" : "scalar"; }

}  // namespace cfx
