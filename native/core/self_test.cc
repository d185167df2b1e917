#include "self_test.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>

#include "cpu.h"
#include "dag.h"
#include "keccak.h"
#include "keccak_x8.h"
#include "octopus.h"
#include "octopus_batch.h"
#include "poly_batch.h"

namespace cfx {
namespace {

uint8_t hex_digit(char c) {
  if (c >= '0' && c <= '9') return uint8_t(c - '0');
  if (c >= 'a' && c <= 'f') return uint8_t(c - 'a' + 10);
  return uint8_t(c - 'A' + 10);
}

// `hex` is 2*n digits, no prefix (the constants below, never input).
void from_hex(const char* hex, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = uint8_t(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
}

// Lines of test/fixtures/octopus-reference.jsonl (kind "keccak"), copied as they are.
struct KeccakVector {
  const char* header;
  uint64_t nonce;
  const char* hash;
};
constexpr KeccakVector kKeccakVectors[] = {
    {"f3e194217bfd03971093cc12ca0d8b2968506cd7b5f27d50a17efcca537b5ead", 0x135d63cf1293924cull,
     "64e55018f47cdb24a488953d1bf780bb06a4bbbf039a2349b0eed5a3d2e3a6fe"},
    {"30c597fc6f2d50bc027f47b6903f7275527629bcbae099689487277269abea90", 0x410915b0875b0b21ull,
     "0bc6e7e398b19da101caad7089a4704afdf1e87ff8b052861e3afccc5003a5d4"},
};

// Lines of the same file (kind "octopus"): a header, a nonce and the digest of its 32
// polynomial values (poly_digest), which depend on the header alone, not on the height.
struct PolyVector {
  const char* header;
  uint64_t nonce;
  uint64_t poly_digest;
};
constexpr PolyVector kPolyVectors[] = {
    {"5cd8e5240e2673e45553f0340fa18710ac357cacaed4bc7f75340c2aac10eb01", 0xfc27ed12b10877a9ull, 0xbca37c2d3d41850bull},
    {"7adea0ee650e69e301a7d3085c017b15b41c222d8ed90baf1d6dd8c87943ea11", 0xffffffffffffffffull, 0xde490262cb9679cdull},
};

// The small-cache digests (see self_test.h): written once from octopus_hash_light, and pinned to
// it by native/test/core_test.cc (test_self_test), which recomputes both on every run.
constexpr const char* kLightDigest = "adb5c5daa75c410de16c3900ab0317f0c481e7d741a6d415572586d3f22dde31";
constexpr const char* kFullDigest = "cfa2dca43a68e258be3605ab86e6389cb1764f91dff731944e8ed506b6630ffe";

struct Clock {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
};

void digest_of(const uint8_t (*hashes)[32], uint32_t count, uint8_t out[32]) {
  keccak256(&hashes[0][0], size_t(count) * 32, out);
}

class Checks {
 public:
  explicit Checks(const SelfTestOptions& o) : opts_(o) {}

  // Runs every check of the selection in force now; true when all passed. `*only` names the
  // full-mode polynomial kernel ("amx" or "avx2") when every failed check used it and no other
  // failed, else stays empty.
  bool run(std::vector<KernelCheck>* out, std::string* only) {
    const bool avx512 = cpu_has_avx512();
    const bool amx = cpu_has_amx();
    // Without AVX-512, full mode's polynomial (transforms) runs on AVX2 where the CPU has it.
    const bool avx2 = !avx512 && cpu_has_avx2();
    const std::string simd = avx512 ? "avx512" : "portable";
    const std::string poly_kernel = amx ? "amx" : avx2 ? "avx2" : "";
    bool all = true, other_failed = false, poly_kernel_failed = false;
    // Each check gets the name it is reported under (and that tests tamper by), and is timed.
    auto check = [&](const std::string& name, bool uses_poly_kernel, auto&& fn) {
      const Clock c;
      const bool ok = fn(name);
      out->push_back({name, ok, c.ms()});
      if (ok) return;
      all = false;
      (uses_poly_kernel ? poly_kernel_failed : other_failed) = true;
    };
    const bool special = !poly_kernel.empty();
    check(std::string("keccak-") + (avx512 ? "avx512x8" : "portable"), false,
          [&](const std::string& name) { return keccak(name); });
    check("poly-" + (special ? poly_kernel : simd), special, [&](const std::string& name) { return poly(name, avx512, amx); });
    check("light-" + simd, false, [&](const std::string& name) { return octopus(name, false); });
    check("full-" + simd + (special ? "-" + poly_kernel : ""), special, [&](const std::string& name) { return octopus(name, true); });
    if (poly_kernel_failed && !other_failed) *only = poly_kernel;
    return all;
  }

 private:
  void tamper(const std::string& name, uint8_t* bytes, size_t len) const {
    if (opts_.tamper) opts_.tamper(name, bytes, len);
  }

  bool keccak(const std::string& name) const {
    for (const auto& v : kKeccakVectors) {
      uint8_t header[32], want[32], got[8][32];
      from_hex(v.header, header, 32);
      from_hex(v.hash, want, 32);
      uint64_t words[4];
      std::memcpy(words, header, 32);
      if (keccak_pow_x8(words, v.nonce, UINT64_MAX, got) != 0xffu) return false;
      tamper(name, &got[0][0], sizeof got);
      if (std::memcmp(got[0], want, 32) != 0) return false;
      for (int lane = 1; lane < 8; ++lane) {
        uint8_t nonce_le[32] = {0}, one[32];
        const uint64_t n = v.nonce + uint64_t(lane);
        std::memcpy(nonce_le, &n, 8);
        keccak_pow_hash(header, nonce_le, one);
        if (std::memcmp(got[lane], one, 32) != 0) return false;
      }
    }
    return true;
  }

  bool poly(const std::string& name, bool avx512, bool amx) const {
    for (const auto& v : kPolyVectors) {
      uint8_t header[32];
      from_hex(v.header, header, 32);
      const OctopusJob job(header);
      // As the full-mode batcher sizes it (32 warps), with one warp loaded.
      PolyBatch batch(job, 32, avx512, amx);
      batch.load_warps(v.nonce / kWarp, 1);
      batch.evaluate(0, kAccesses);
      uint32_t values[kAccesses];
      for (uint32_t i = 0; i < kAccesses; ++i) values[i] = batch.values_row(i)[v.nonce % kWarp];
      tamper(name, reinterpret_cast<uint8_t*>(values), sizeof values);
      if (octopus_digest(values) != v.poly_digest) return false;
    }
    return true;
  }

  bool octopus(const std::string& name, bool full) {
    small();
    uint8_t header[32];
    std::memcpy(header, kSelfTestHeader, 32);
    const OctopusJob job(header);
    OctopusBatcher batcher(job, cache_.get(), full ? dataset_->items() : nullptr, kSelfTestDatasetBytes);
    const uint32_t count = full ? kSelfTestFullNonces : kSelfTestLightNonces;
    std::vector<uint8_t> hashes(size_t(count) * 32);
    auto* out = reinterpret_cast<uint8_t(*)[32]>(hashes.data());
    const AbortCheck never{};
    for (uint32_t done = 0; done < count;) {
      const uint32_t step = std::min(batcher.block_nonces(), count - done);
      if (batcher.hash(kSelfTestFirstNonce + done, step, out + done, never) != step) return false;
      done += step;
    }
    tamper(name, hashes.data(), hashes.size());
    const SelfTestDigests& want = self_test_digests();
    uint8_t got[32];
    digest_of(out, kSelfTestLightNonces, got);
    if (std::memcmp(got, want.light, 32) != 0) return false;
    if (!full) return true;
    digest_of(out, kSelfTestFullNonces, got);
    return std::memcmp(got, want.full, 32) == 0;
  }

  // The small cache and dataset, built once per run (a few milliseconds).
  void small() {
    if (cache_) return;
    cache_ = Cache::build_small(0, kSelfTestCacheNodes);
    dataset_.reset(new Dataset(kSelfTestDatasetBytes, 0, false));
    dataset_->generate_range(*cache_, 0, dataset_->item_count());
  }

  const SelfTestOptions& opts_;
  std::shared_ptr<Cache> cache_;
  std::unique_ptr<Dataset> dataset_;
};

}  // namespace

const uint8_t kSelfTestHeader[32] = {0x53, 0x65, 0x6c, 0x66, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x20, 0x6f, 0x66,
                                     0x20, 0x63, 0x66, 0x78, 0x2d, 0x6d, 0x69, 0x6e, 0x65, 0x72, 0x27, 0x73,
                                     0x20, 0x6b, 0x65, 0x72, 0x6e, 0x65, 0x6c, 0x73};  // "Self-test of cfx-miner's kernels"

const SelfTestDigests& self_test_digests() {
  static const SelfTestDigests d = [] {
    SelfTestDigests r;
    from_hex(kLightDigest, r.light, 32);
    from_hex(kFullDigest, r.full, 32);
    return r;
  }();
  return d;
}

SelfTestReport run_self_test(const SelfTestOptions& options) {
  SelfTestReport report;
  Checks checks(options);
  // At most four selections: as detected, without AMX, portable (AVX2 transforms where the CPU
  // has AVX2), portable without AVX2.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::string only;
    bool passed = false;
    try {
      passed = checks.run(&report.kernels, &only);
    } catch (const std::exception& e) {
      // Out of memory for a few hundred KiB, or a kernel that threw: not a selection that works.
      report.kernels.push_back({std::string("error: ") + e.what(), false, 0});
    }
    if (passed) {
      report.ok = true;
      return report;
    }
    if (only == "amx" && cpu_has_amx()) {
      force_no_amx(true);
      report.disabled.push_back("amx");
    } else if (cpu_has_avx512()) {
      force_portable(true);
      report.disabled.push_back("avx512");
    } else if (only == "avx2" && cpu_has_avx2()) {
      force_no_avx2(true);
      report.disabled.push_back("avx2");
    } else {
      return report;  // the portable path itself is wrong: nothing left to fall back to
    }
  }
  return report;
}

}  // namespace cfx
