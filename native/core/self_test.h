// The self-test (xmrig's selfTest(), before any job): every kernel the CPU selected computes
// known answers, in milliseconds, and a kernel that gets one wrong is replaced by the next path
// (AMX -> AVX-512 fp64 -> portable) before it can mine a single wrong hash.
//
// What each check compares with:
//  - the keccak test PoW, 8 lanes a call: two lines of the reference vectors
//    (test/fixtures/octopus-reference.jsonl, an implementation no one here wrote) and, for the
//    other lanes, the one-lane keccak;
//  - the polynomial kernel: the reference vectors' poly_digest of two nonces (the last nonce
//    below 2^64 among them);
//  - the Octopus batch paths, light and full: a small cache (Cache::build_small, 1021 nodes
//    from stage 0's seed) and a small dataset built from it, so the check takes milliseconds
//    instead of a real cache's second. Their expected hashes are fixed digests below; the core's
//    unit tests pin those digests to the one-hash reference path (octopus_hash_light, which every
//    vector line checks), so they cannot drift.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cfx {

struct KernelCheck {
  std::string name;  // e.g. "keccak-avx512x8", "poly-amx", "light-avx512", "full-avx512-amx"
  bool ok;
  double ms;
};

struct SelfTestReport {
  // The kernels selected now (after any fallback) all gave the known answers.
  bool ok = false;
  // Every check run, failed ones and those of replaced paths included, in order.
  std::vector<KernelCheck> kernels;
  // What was switched off, in order ("amx", "avx512"); empty when the first selection passed.
  std::vector<std::string> disabled;
};

struct SelfTestOptions {
  // Tests only (the core's unit tests inject a broken kernel this way; the product passes
  // nothing): called with a check's name and the bytes its kernel produced, before they are
  // compared, so a test can damage them.
  std::function<void(const std::string& check, uint8_t* bytes, size_t len)> tamper;
};

// Runs the checks for the kernels selected now (cpu_has_avx512(), cpu_has_amx()); when one fails,
// switches the failing path off for the whole process (force_no_amx, then force_portable: objects
// built later choose the next path) and checks again. Never throws for a wrong answer: the
// report says what happened.
SelfTestReport run_self_test(const SelfTestOptions& options = {});

// The fixed digests of the small-cache checks, for the core's unit tests.
struct SelfTestDigests {
  uint8_t light[32];  // keccak256 of the light hashes of kSelfTestLightNonces nonces, concatenated
  uint8_t full[32];   // the same over kSelfTestFullNonces nonces with the small dataset
};
const SelfTestDigests& self_test_digests();
// The inputs of those checks, so a test can recompute them with the one-hash path.
constexpr uint64_t kSelfTestCacheNodes = 1021;
constexpr uint64_t kSelfTestDatasetBytes = 512 * 256;  // 512 pages, 2048 items: built in a few ms
constexpr uint64_t kSelfTestFirstNonce = 0xfedcba9876543000ull;  // a whole number of blocks
constexpr uint32_t kSelfTestLightNonces = 64;
constexpr uint32_t kSelfTestFullNonces = 256;
extern const uint8_t kSelfTestHeader[32];

}  // namespace cfx
