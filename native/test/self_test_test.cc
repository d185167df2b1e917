// The self-test: its fixed digests equal the one-hash reference path (so they cannot drift from
// the algorithm every vector line checks), it passes on every path this CPU has, and a kernel
// broken on purpose (through SelfTestOptions::tamper, which only tests set) is caught and
// replaced by the next path, or fails the whole test when no path is left.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../core/cpu.h"
#include "../core/dag.h"
#include "../core/keccak.h"
#include "../core/octopus.h"
#include "../core/self_test.h"

using namespace cfx;

namespace {

int* g_checks_p = nullptr;
int* g_failures_p = nullptr;

void check(bool ok, const std::string& what) {
  ++*g_checks_p;
  if (!ok) {
    ++*g_failures_p;
    std::fprintf(stderr, "FAIL self-test: %s\n", what.c_str());
  }
}

std::string hex(const uint8_t* b, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[b[i] >> 4];
    s += d[b[i] & 15];
  }
  return s;
}

std::string names(const SelfTestReport& r) {
  std::string s;
  for (const auto& k : r.kernels) s += k.name + (k.ok ? ":ok " : ":FAILED ");
  return s;
}

bool has(const SelfTestReport& r, const std::string& name, bool ok) {
  for (const auto& k : r.kernels)
    if (k.name == name && k.ok == ok) return true;
  return false;
}

void restore() {
  force_portable(false);
  force_no_amx(false);
  force_no_avx2(false);
}

// The fixed digests against octopus_hash_light (the path every vector line checks) and
// octopus_hash_full on the small dataset, one nonce at a time.
void test_digests() {
  auto cache = Cache::build_small(0, kSelfTestCacheNodes);
  Dataset dataset(kSelfTestDatasetBytes, 0, false);
  dataset.generate_range(*cache, 0, dataset.item_count());
  std::vector<uint8_t> hashes(size_t(kSelfTestFullNonces) * 32);
  for (uint32_t i = 0; i < kSelfTestFullNonces; ++i) {
    octopus_hash_light(kSelfTestHeader, kSelfTestFirstNonce + i, *cache, kSelfTestDatasetBytes, &hashes[size_t(i) * 32]);
    if (i % 37 == 0) {
      uint8_t full[32];
      octopus_hash_full(kSelfTestHeader, kSelfTestFirstNonce + i, dataset.items(), kSelfTestDatasetBytes, full);
      check(std::memcmp(full, &hashes[size_t(i) * 32], 32) == 0, "full and light agree on the small dataset");
    }
  }
  uint8_t light[32], full[32];
  keccak256(hashes.data(), size_t(kSelfTestLightNonces) * 32, light);
  keccak256(hashes.data(), hashes.size(), full);
  const SelfTestDigests& want = self_test_digests();
  check(std::memcmp(light, want.light, 32) == 0, "light digest is " + hex(light, 32) + ", self_test.cc has " + hex(want.light, 32));
  check(std::memcmp(full, want.full, 32) == 0, "full digest is " + hex(full, 32) + ", self_test.cc has " + hex(want.full, 32));
}

void test_every_path_passes() {
  SelfTestReport r = run_self_test();
  check(r.ok && r.disabled.empty(), "the detected selection passes: " + names(r));
  check(r.kernels.size() == 4, "four checks: " + names(r));
  if (cpu_has_amx()) {
    force_no_amx(true);
    r = run_self_test();
    check(r.ok && r.disabled.empty() && has(r, "poly-avx512", true), "without AMX: " + names(r));
  }
  force_portable(true);
  r = run_self_test();
  const std::string full_portable = cpu_has_avx2() ? "full-portable-avx2" : "full-portable";
  check(r.ok && r.disabled.empty() && has(r, "keccak-portable", true) && has(r, full_portable, true),
        "portable: " + names(r));
  if (cpu_has_avx2()) {
    force_no_avx2(true);
    r = run_self_test();
    check(r.ok && r.disabled.empty() && has(r, "poly-portable", true) && has(r, "full-portable", true),
          "portable without AVX2: " + names(r));
  }
  restore();
}

// A broken kernel: the named checks see one flipped bit in what their kernel produced.
SelfTestReport run_broken(const std::vector<std::string>& broken) {
  SelfTestOptions o;
  o.tamper = [broken](const std::string& name, uint8_t* bytes, size_t len) {
    for (const auto& b : broken)
      if (name.find(b) != std::string::npos && len > 0) bytes[len / 2] ^= 0x10;
  };
  return run_self_test(o);
}

void test_broken_kernels() {
  const bool avx512 = cpu_has_avx512();
  const bool amx = cpu_has_amx();
  if (amx) {
    // A wrong AMX polynomial: both checks that use it fail, AMX goes, AVX-512 stays.
    SelfTestReport r = run_broken({"amx"});
    check(r.ok, "a broken AMX kernel falls back: " + names(r));
    check(r.disabled == std::vector<std::string>{"amx"}, "only AMX is switched off: " + names(r));
    check(has(r, "poly-amx", false) && has(r, "full-avx512-amx", false) && has(r, "poly-avx512", true) &&
              has(r, "full-avx512", true),
          "the failed and the replacing kernels are reported: " + names(r));
    check(!cpu_has_amx() && cpu_has_avx512(), "AMX is off for the process, AVX-512 on");
    restore();
  }
  if (avx512) {
    // A wrong 8-lane AVX-512 keccak: everything AVX-512 goes, the portable path mines.
    SelfTestReport r = run_broken({"keccak-avx512x8"});
    check(r.ok, "a broken AVX-512 keccak falls back: " + names(r));
    check(!r.disabled.empty() && r.disabled.back() == "avx512", "AVX-512 is switched off: " + names(r));
    check(has(r, "keccak-avx512x8", false) && has(r, "keccak-portable", true), "reported: " + names(r));
    check(!cpu_has_avx512(), "the portable path is forced for the process");
    restore();
    // A light-mode batch kernel that is wrong (a damaged finish, say).
    r = run_broken({"light-avx512"});
    check(r.ok && has(r, "light-avx512", false) && has(r, "light-portable", true), "broken light path: " + names(r));
    restore();
  }
  if (cpu_detects_avx2()) {
    // A wrong AVX2 polynomial on the portable path: both checks that use it fail, AVX2 goes.
    force_portable(true);
    SelfTestReport r = run_broken({"avx2"});
    check(r.ok, "a broken AVX2 kernel falls back: " + names(r));
    check(r.disabled == std::vector<std::string>{"avx2"}, "only AVX2 is switched off: " + names(r));
    check(has(r, "poly-avx2", false) && has(r, "full-portable-avx2", false) && has(r, "poly-portable", true) &&
              has(r, "full-portable", true),
          "the failed and the replacing kernels are reported: " + names(r));
    check(!cpu_has_avx2(), "AVX2 is off for the process");
    restore();
  }
  // Every path wrong: no selection is right, and the report says so.
  SelfTestReport r = run_broken({"keccak", "poly", "light", "full"});
  check(!r.ok, "nothing right: not ok: " + names(r));
  check(has(r, "keccak-portable", false), "the portable path was tried too: " + names(r));
  restore();
}

}  // namespace

void test_self_test(int& checks, int& failures) {
  g_checks_p = &checks;
  g_failures_p = &failures;
  test_digests();
  test_every_path_passes();
  test_broken_kernels();
}
