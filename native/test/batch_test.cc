// The batched engine against the one-shot reference: keccak x8, the fast remainder, the
// independent baseline (test/baseline/baseline.cc, linked in by the Makefile), PolyBatch, dag_items_batch and
// Dataset::generate_range, and OctopusBatcher in light and full mode, on the AVX-512 path where
// the CPU has it and always on the portable path (force_portable). Sizes stay small so the
// sanitizer builds finish quickly.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "../core/cpu.h"
#include "../core/dag.h"
#include "../core/keccak.h"
#include "../core/keccak_x8.h"
#include "../core/octopus.h"
#include "../core/octopus_batch.h"
#include "../core/params.h"
#include "../core/poly_batch.h"
#include "../core/u256.h"
#include "../../test/baseline/baseline.h"

using namespace cfx;

namespace {

int* g_checks_p = nullptr;
int* g_failures_p = nullptr;

#define BCHECK(cond, ...)                                                   \
  do {                                                                      \
    ++*g_checks_p;                                                          \
    if (!(cond)) {                                                          \
      ++*g_failures_p;                                                      \
      std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                    \
      std::fprintf(stderr, "\n");                                           \
    }                                                                       \
  } while (0)

std::vector<uint8_t> from_hex(const char* s) {
  std::vector<uint8_t> out;
  if (s[0] == '0' && s[1] == 'x') s += 2;
  for (; s[0] && s[1]; s += 2) {
    auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; };
    out.push_back(static_cast<uint8_t>(nib(s[0]) * 16 + nib(s[1])));
  }
  return out;
}

// The stage-0 octopus lines of test/fixtures/octopus-reference.jsonl (height 0).
struct Vector {
  const char* header;
  uint64_t nonce;
  const char* hash;
};
const Vector kVectors[] = {
    {"ee725ccb663ae62466ba18ca8d5e2d18ac8ec6e8284f6c355f208991f71bb25d", 0x0,
     "e5b2825e911fc4dde3b3b199191f6f83763b117e8f4c2f455138ee45d7c4f9c5"},
    {"9410ac7c4dbef31f36de0ca1e32c53d1598dbfb9f1c2678ce49207eb965f0609", 0x1f,
     "fe2e8be6f027074db5f4a403b9a4ef8b7a33146a0109bc2a591f2a8cddc03319"},
    {"f486839e90a804040889f8edb6053b0359a15b615fcbd315a190db61c7938616", 0x20,
     "7fd7ffe5ba4d528a248e39760ed802a0dd344c930b9aef8affeba24831579984"},
    {"7adea0ee650e69e301a7d3085c017b15b41c222d8ed90baf1d6dd8c87943ea11", 0xffffffffffffffffull,
     "ffbf3319f54ae54db05c1009f0d924a98a2115421146b7175c3771d0a8f95244"},
    {"5cd8e5240e2673e45553f0340fa18710ac357cacaed4bc7f75340c2aac10eb01", 0xfc27ed12b10877a9ull,
     "a994ea953cc6ffbde55ea1e9d41c7555c7d63943d203ea887dade3c3d95fb2fd"},
};

// Runs `body` on the AVX-512 path (when the CPU has it) and on the portable path.
template <class F>
void on_both_paths(F body) {
  const bool was_forced = portable_forced();
  if (cpu_detects_avx512()) {
    force_portable(false);
    body("avx512");
  }
  force_portable(true);
  body("portable");
  force_portable(was_forced);
}

// on_both_paths, and where the CPU has AVX2 the portable path once more without it: the portable
// batcher's transforms run on AVX2 when they can (poly_ntt.h), so the baseline kernel needs its
// own pass.
template <class F>
void on_poly_paths(F body) {
  on_both_paths(body);
  if (!cpu_detects_avx2()) return;
  const bool was_forced = portable_forced();
  force_portable(true);
  force_no_avx2(true);
  body("portable-no-avx2");
  force_no_avx2(false);
  force_portable(was_forced);
}

void test_fastmod(std::mt19937_64& rng) {
  int bad = 0;
  for (uint32_t d : {1u, 2u, 3u, 7u, 262139u, 16777213u, 0x80000000u, 0xffffffffu}) {
    const FastMod32 fm(d);
    for (uint32_t x : {0u, 1u, d - 1, d, d + 1, 0xffffffffu}) bad += fm.mod(x) != x % d;
    for (int i = 0; i < 2000; ++i) {
      const uint32_t x = static_cast<uint32_t>(rng());
      bad += fm.mod(x) != x % d;
    }
  }
  for (int i = 0; i < 2000; ++i) {
    const uint32_t d = static_cast<uint32_t>(rng()) | 1, x = static_cast<uint32_t>(rng());
    bad += FastMod32(d).mod(x) != x % d;
  }
  BCHECK(bad == 0, "FastMod32: %d wrong remainders", bad);
}

void test_keccak_x8(std::mt19937_64& rng) {
  for (int t = 0; t < 8; ++t) {
    uint64_t lanes[25][8], ref[8][25];
    for (int s = 0; s < 8; ++s)
      for (int i = 0; i < 25; ++i) lanes[i][s] = ref[s][i] = rng();
    for (int s = 0; s < 8; ++s) keccak_f1600(ref[s]);
    on_both_paths([&](const char* path) {
      uint64_t l[25][8];
      std::memcpy(l, lanes, sizeof(l));
      keccak_f1600_x8(l);
      int bad = 0;
      for (int s = 0; s < 8; ++s)
        for (int i = 0; i < 25; ++i) bad += l[i][s] != ref[s][i];
      BCHECK(bad == 0, "keccak_f1600_x8 (%s)", path);
    });
  }
  using Fn = void (*)(const uint8_t* const*, uint8_t* const*);
  struct Shape {
    const char* name;
    size_t in_len, out_len;
    Fn dispatch, portable;
    bool k512;
  };
  const Shape shapes[] = {
      {"keccak512_64_x8", 64, 64, keccak512_64_x8, keccak512_64_x8_portable, true},
      {"keccak512_40_x8", 40, 64, keccak512_40_x8, keccak512_40_x8_portable, true},
      {"keccak256_96_x8", 96, 32, keccak256_96_x8, keccak256_96_x8_portable, false},
  };
  for (const Shape& sh : shapes) {
    for (int t = 0; t < 16; ++t) {
      // Inputs at odd offsets and exactly at the end of their buffers: masked loads must not read
      // past them (AddressSanitizer would see it).
      std::vector<std::vector<uint8_t>> in(8), out(8);
      const uint8_t* ip[8];
      uint8_t* op[8];
      uint8_t expect[8][64];
      for (int s = 0; s < 8; ++s) {
        in[s].resize(sh.in_len + (s & 3));
        for (auto& b : in[s]) b = static_cast<uint8_t>(rng());
        ip[s] = in[s].data() + (s & 3);
        out[s].resize(sh.out_len);
        op[s] = out[s].data();
        if (sh.k512) keccak512(ip[s], sh.in_len, expect[s]);
        else keccak256(ip[s], sh.in_len, expect[s]);
      }
      on_both_paths([&](const char* path) {
        for (int s = 0; s < 8; ++s) std::memset(op[s], 0, sh.out_len);
        sh.dispatch(ip, op);
        int bad = 0;
        for (int s = 0; s < 8; ++s) bad += std::memcmp(op[s], expect[s], sh.out_len) != 0;
        BCHECK(bad == 0, "%s (%s)", sh.name, path);
      });
      for (int s = 0; s < 8; ++s) std::memset(op[s], 0, sh.out_len);
      sh.portable(ip, op);
      int bad = 0;
      for (int s = 0; s < 8; ++s) bad += std::memcmp(op[s], expect[s], sh.out_len) != 0;
      BCHECK(bad == 0, "%s_portable", sh.name);
    }
  }
  // In place: each output over its own input.
  uint8_t buf[8][64], expect[8][64];
  const uint8_t* ip[8];
  uint8_t* op[8];
  for (int s = 0; s < 8; ++s) {
    for (auto& b : buf[s]) b = static_cast<uint8_t>(rng());
    keccak512(buf[s], 64, expect[s]);
    ip[s] = op[s] = buf[s];
  }
  keccak512_64_x8(ip, op);
  BCHECK(std::memcmp(buf, expect, sizeof(buf)) == 0, "keccak512_64_x8 in place");
}

// The keccak test PoW on 8 lanes against keccak_pow_hash, and its top-word filter.
void test_keccak_pow_x8(std::mt19937_64& rng) {
  for (int t = 0; t < 16; ++t) {
    uint8_t header[32];
    for (auto& b : header) b = static_cast<uint8_t>(rng());
    uint64_t words[4];
    std::memcpy(words, header, 32);
    const uint64_t first = t == 0 ? 0 : t == 1 ? UINT64_MAX - 7 : rng();
    uint8_t ref[8][32];
    for (int s = 0; s < 8; ++s) {
      uint8_t nonce_le[32] = {0};
      const uint64_t nonce = first + static_cast<uint64_t>(s);
      std::memcpy(nonce_le, &nonce, 8);
      keccak_pow_hash(header, nonce_le, ref[s]);
    }
    // A limit equal to one lane's top word selects exactly the lanes at or below it.
    const uint64_t limit = u256_from_be(ref[t % 8]).limb[3];
    uint32_t expect = 0;
    for (int s = 0; s < 8; ++s) expect |= (u256_from_be(ref[s]).limb[3] <= limit ? 1u : 0u) << s;
    on_both_paths([&](const char* path) {
      uint8_t got[8][32];
      const uint32_t all = keccak_pow_x8(words, first, UINT64_MAX, got);
      BCHECK(all == 0xff && std::memcmp(got, ref, sizeof(ref)) == 0, "keccak_pow_x8 (%s), first %llx", path,
             (unsigned long long)first);
      uint8_t some[8][32];
      const uint32_t mask = keccak_pow_x8(words, first, limit, some);
      bool same = true;
      for (int s = 0; s < 8; ++s)
        if (mask & (1u << s)) same &= std::memcmp(some[s], ref[s], 32) == 0;
      BCHECK(mask == expect && same, "keccak_pow_x8 filter (%s): mask %x, expected %x", path, mask, expect);
    });
  }
}

void test_baseline(const Cache& cache, std::mt19937_64& rng) {
  const uint64_t bytes = dataset_bytes_for_stage(0);
  for (const Vector& v : kVectors) {
    const auto header = from_hex(v.header);
    uint8_t out[32];
    baseline::baseline_hash_light(header.data(), v.nonce, cache.nodes()->words, cache.node_count(), bytes, out);
    BCHECK(std::memcmp(out, from_hex(v.hash).data(), 32) == 0, "baseline vs vector, nonce %llx",
           (unsigned long long)v.nonce);
  }
  uint8_t header[32];
  for (auto& b : header) b = static_cast<uint8_t>(rng());
  const uint64_t nonce = rng();
  uint8_t a[32], b[32];
  baseline::baseline_hash_light(header, nonce, cache.nodes()->words, cache.node_count(), 1 << 20, a);
  octopus_hash_light(header, nonce, cache, 1 << 20, b);
  BCHECK(std::memcmp(a, b, 32) == 0, "baseline vs core on a 1 MiB dataset size");
  uint32_t values[32], ref[32];
  baseline::baseline_values(header, nonce, values);
  OctopusJob job(header);
  uint32_t d[kPolyDegree];
  octopus_coefficients(job, nonce / kWarp, d);
  octopus_values(job, d, nonce % kWarp, ref);
  BCHECK(std::memcmp(values, ref, sizeof(ref)) == 0, "baseline values");
  for (uint64_t stage : {0ull, 1ull, 267ull, 4095ull, 2097151ull}) {
    BCHECK(baseline::baseline_cache_bytes(stage) == cache_bytes_for_stage(stage), "baseline cache size, stage %llu",
           (unsigned long long)stage);
    BCHECK(baseline::baseline_dataset_bytes(stage) == dataset_bytes_for_stage(stage), "baseline dataset size, stage %llu",
           (unsigned long long)stage);
  }
}

// How many of `out[0..count)` differ from dag_item one at a time for the same indices.
int items_differ(const Cache& cache, const uint32_t* idx, const Node* out, size_t count) {
  int bad = 0;
  for (size_t i = 0; i < count; ++i) {
    Node ref;
    dag_item(cache, idx[i], &ref);
    bad += std::memcmp(ref.bytes, out[i].bytes, 64) != 0;
  }
  return bad;
}

void test_poly(std::mt19937_64& rng) {
  // Every method on both paths: the dense fp64 product (fewer than 8 warps, or transforms off),
  // the transforms (8 warps or more without AMX), and the AMX tiles where the CPU has them.
  enum Method { kDense, kTransforms, kAmx };
  on_poly_paths([&](const char* path) {
    for (int method = kDense; method <= kAmx; ++method) {
      if (method == kAmx && !cpu_has_amx()) continue;
      static const char* const names[] = {"dense", "transforms", "amx"};
      for (int t = 0; t < 4; ++t) {
        uint8_t header[32];
        for (auto& b : header) b = static_cast<uint8_t>(rng());
        OctopusJob job(header);
        // Case 3: 20 of 32 warps (two whole groups of 8 and a partial one, in four slices).
        const uint32_t max_warps = t == 3 ? 32 : 8;
        PolyBatch poly(job, max_warps, cpu_has_avx512(), method == kAmx, method == kTransforms);
        BCHECK(poly.uses_avx512() == cpu_has_avx512(), "PolyBatch path (%s)", path);
        BCHECK(poly.uses_amx() == (method == kAmx), "PolyBatch AMX (%s)", path);
        BCHECK(poly.uses_transforms() == (method == kTransforms), "PolyBatch transforms (%s)", path);
        // 7 warps (a partial register block or group), 1 warp, the last warps below 2^64, 20.
        const uint64_t first = t == 2 ? (~0ull / kWarp) - 6 : rng() >> 6;
        const uint32_t warps = t == 1 ? 1 : t == 3 ? 20 : 7;
        poly.load_warps(first, warps);
        for (uint32_t i = 0; i < kAccesses; i += 8) poly.evaluate(i, i + 8);  // in slices, as the batcher does
        int bad = 0;
        for (uint32_t w = 0; w < warps; ++w) {
          uint32_t d[kPolyDegree];
          octopus_coefficients(job, first + w, d);
          for (uint32_t r = 0; r < kWarp; r += (t == 0 ? 1 : 5)) {
            uint32_t v[kAccesses];
            octopus_values(job, d, r, v);
            for (uint32_t i = 0; i < kAccesses; ++i) bad += v[i] != poly.values_row(i)[w * kWarp + r];
          }
        }
        BCHECK(bad == 0, "PolyBatch == octopus_values (%s %s, case %d): %d differ", path, names[method], t, bad);
      }
    }
  });
  // A transform's numbers stay exact at their extremes: coefficients all p - 1 and all 0.
  on_poly_paths([&](const char* path) {
    uint8_t header[32];
    for (auto& b : header) b = static_cast<uint8_t>(rng());
    OctopusJob job(header);
    PolyNtt ntt(job, cpu_has_avx512());
    for (double fill : {double(kPrime - 1), 0.0}) {
      std::vector<double> d(size_t(8) * kPolyDegree, fill);
      std::vector<uint32_t> out(size_t(kAccesses) * 8 * kWarp);
      ntt.evaluate(d.data(), kPolyDegree, 8, out.data(), 8 * kWarp);
      uint32_t dd[kPolyDegree], v[kAccesses];
      std::fill(dd, dd + kPolyDegree, static_cast<uint32_t>(fill));
      int bad = 0;
      for (uint32_t r = 0; r < kWarp; ++r) {
        octopus_values(job, dd, r, v);
        for (uint32_t i = 0; i < kAccesses; ++i)
          for (uint32_t m = 0; m < 8; ++m) bad += v[i] != out[i * 8 * kWarp + m * kWarp + r];
      }
      BCHECK(bad == 0, "PolyNtt with every coefficient %.0f (%s): %d differ", fill, path, bad);
    }
  });
}

void test_dag_items(const Cache& cache, std::mt19937_64& rng) {
  const uint32_t n = static_cast<uint32_t>(cache.node_count());
  on_both_paths([&](const char* path) {
    for (size_t count : {size_t(1), size_t(7), size_t(16), size_t(17), size_t(37)}) {
      std::vector<uint32_t> idx(count);
      for (auto& i : idx) i = static_cast<uint32_t>(rng());
      idx[0] = 0xffffffffu;
      if (count > 1) idx[1] = n;  // wraps to cache node 0
      std::vector<Node> out(count);
      dag_items_batch(cache, idx.data(), count, out.data());
      const int bad = items_differ(cache, idx.data(), out.data(), count);
      BCHECK(bad == 0, "dag_items_batch (%s, %zu items): %d differ", path, count, bad);
    }
    // The early exit: a watched generation that moved stops the pass; one that did not changes nothing.
    {
      std::vector<uint32_t> idx(40);
      for (auto& i : idx) i = static_cast<uint32_t>(rng());
      std::vector<Node> out(40);
      std::atomic<uint64_t> generation{3};
      BCHECK(!dag_items_batch(cache, idx.data(), idx.size(), out.data(), &generation, 2),
             "dag_items_batch gives up when the generation moved (%s)", path);
      BCHECK(dag_items_batch(cache, idx.data(), idx.size(), out.data(), &generation, 3),
             "dag_items_batch runs to the end when it did not (%s)", path);
      Node ref;
      dag_item(cache, idx[39], &ref);
      BCHECK(std::memcmp(ref.bytes, out[39].bytes, 64) == 0, "dag_items_batch with a watch (%s)", path);
    }
    // generate_range over ranges that are not multiples of 8 or 16, in any order.
    Dataset ds(64 * 1024, 0, false);
    const uint64_t cuts[] = {0, 5, 21, 100, 517, 1024};
    for (int c = 4; c >= 0; --c) ds.generate_range(cache, cuts[c], cuts[c + 1] - cuts[c]);
    int bad = 0;
    for (uint32_t i = 0; i < 1024; i += (i < 40 || i > 500 ? 1 : 13)) {
      Node ref;
      dag_item(cache, i, &ref);
      bad += std::memcmp(ref.bytes, ds.items()[i].bytes, 64) != 0;
    }
    BCHECK(bad == 0, "generate_range (%s): %d items differ", path, bad);
  });
}

// The build's interleaved passes (128 or 32 chains with AVX-512, 64 or 8 portable, the last pass
// padded) give every item dag_item gives one at a time: the last items of the mainnet-height
// dataset (stage 289) in one call of a count no pass size divides, and a whole dataset built
// by Dataset::generate whose item count is no multiple of a pass or of a thread's chunk.
void test_dag_build(const Cache& cache) {
  const uint64_t mainnet_items = dataset_bytes_for_stage(152000000 / kStageLength) / kNodeBytes;
  on_both_paths([&](const char* path) {
    constexpr size_t kCount = 300;  // 2 x 128 + 32 + 12, 4 x 64 + 5 x 8 + 4
    std::vector<uint32_t> idx(kCount);
    for (size_t i = 0; i < kCount; ++i) idx[i] = static_cast<uint32_t>(mainnet_items - kCount + i);
    std::vector<Node> out(kCount);
    BCHECK(dag_items_batch(cache, idx.data(), kCount, out.data()), "dag_items_batch completes (%s)", path);
    int bad = items_differ(cache, idx.data(), out.data(), kCount);
    BCHECK(bad == 0, "the last %zu items of the mainnet dataset (%s): %d differ", kCount, path, bad);

    const uint64_t pages = 1237;  // 4948 items: one 4096-item chunk and 852 = 6 x 128 + 2 x 32 + 20
    Dataset ds(pages * kPageBytes, 0, false);
    ds.generate(cache, 2);
    bad = 0;
    for (uint32_t i = 0; i < ds.item_count(); ++i) {
      Node ref;
      dag_item(cache, i, &ref);
      bad += std::memcmp(ref.bytes, ds.items()[i].bytes, 64) != 0;
    }
    BCHECK(bad == 0, "generate over %llu items (%s): %d differ", (unsigned long long)ds.item_count(), path, bad);
  });
}

struct Header {
  uint8_t bytes[32];
};

// Light mode: the vectors themselves (each nonce's warp as one call) and a whole block with
// random nonces checked against octopus_hash_light.
void test_light(const Cache& cache, std::mt19937_64& rng) {
  const uint64_t bytes = dataset_bytes_for_stage(0);
  const AbortCheck never;
  on_both_paths([&](const char* path) {
    for (const Vector& v : kVectors) {
      const auto header = from_hex(v.header);
      OctopusJob job(header.data());
      OctopusBatcher batcher(job, &cache, nullptr, bytes);
      uint8_t out[kWarp][32];
      const uint64_t first = v.nonce / kWarp * kWarp;
      const uint32_t got = batcher.hash(first, kWarp, out, never);
      BCHECK(got == kWarp, "light batch size (%s)", path);
      BCHECK(std::memcmp(out[v.nonce % kWarp], from_hex(v.hash).data(), 32) == 0,
             "light batch vs vector (%s), nonce %llx", path, (unsigned long long)v.nonce);
    }
    Header h;
    for (auto& b : h.bytes) b = static_cast<uint8_t>(rng());
    OctopusJob job(h.bytes);
    OctopusBatcher batcher(job, &cache, nullptr, bytes);
    const uint32_t block = batcher.block_nonces();
    BCHECK(block % kWarp == 0 && block >= kWarp, "light block %u", block);
    std::vector<uint8_t> out(size_t(block) * 32);
    auto* o = reinterpret_cast<uint8_t(*)[32]>(out.data());
    const uint64_t first = (rng() >> 8) / kWarp * kWarp;
    BCHECK(batcher.hash(first, block, o, never) == block, "light block hashed (%s)", path);
    int bad = 0;
    for (uint32_t k = 0; k < block; k += 29) {  // a sample: one-shot light hashes are slow
      uint8_t ref[32];
      octopus_hash_light(h.bytes, first + k, cache, bytes, ref);
      bad += std::memcmp(ref, o[k], 32) != 0;
    }
    BCHECK(bad == 0, "light block vs one-shot (%s): %d differ", path, bad);
    // A job already replaced: nothing is hashed.
    std::atomic<uint64_t> generation{2};
    const AbortCheck stale{&generation, 1};
    BCHECK(batcher.hash(first, block, o, stale) == 0, "light abort before start (%s)", path);
  });
}

// An abort midway: the call returns early, and what it reports as hashed is correct. The abort
// lands at a chosen look (AbortCheck::looks_left), not wherever a timer thread happens to land it:
// on a busy machine a 2 ms timer fired after the whole block (the search tests cover the
// generation seen from another thread).
void test_light_abort(const Cache& cache) {
  const uint64_t bytes = dataset_bytes_for_stage(0);
  Header h;
  for (int i = 0; i < 32; ++i) h.bytes[i] = static_cast<uint8_t>(3 * i + 1);
  OctopusJob job(h.bytes);
  OctopusBatcher batcher(job, &cache, nullptr, bytes);
  const uint32_t block = batcher.block_nonces();
  std::vector<uint8_t> out(size_t(block) * 32);
  auto* o = reinterpret_cast<uint8_t(*)[32]>(out.data());
  std::atomic<uint64_t> generation{1};
  // The light path looks once per polynomial slice (8), then once per access of each group of 32
  // nonces (32 a group): the 45th look is in the second group's walk.
  uint32_t looks = 8 + 32 + 5;
  AbortCheck check{&generation, 1};
  check.looks_left = &looks;
  const uint32_t got = batcher.hash(0, block, o, check);
  BCHECK(got > 0 && got < block, "light abort midway returns early (%u of %u)", got, block);
  int bad = 0;
  for (uint32_t k = 0; k < got; k += 7) {
    uint8_t ref[32];
    octopus_hash_light(h.bytes, k, cache, bytes, ref);
    bad += std::memcmp(ref, o[k], 32) != 0;
  }
  BCHECK(bad == 0, "light hashes before the abort are right: %d differ", bad);
}

// Full mode over a small dataset: whole blocks, every nonce checked, including the top of the
// nonce range and a block clipped at 2^64 - 1.
void test_full(const Cache& cache, std::mt19937_64& rng) {
  const uint64_t bytes = (1ull << 20) + 256 * 3;  // an odd page count
  Dataset ds(bytes, 0, false);
  ds.generate(cache, 2);
  const AbortCheck never;
  on_both_paths([&](const char* path) {
    Header h;
    for (auto& b : h.bytes) b = static_cast<uint8_t>(rng());
    OctopusJob job(h.bytes);
    OctopusBatcher batcher(job, &cache, ds.items(), bytes);
    const uint32_t block = batcher.block_nonces();
    BCHECK(block % kWarp == 0 && block >= kWarp, "full block %u", block);
    std::vector<uint8_t> out(size_t(block) * 32);
    auto* o = reinterpret_cast<uint8_t(*)[32]>(out.data());
    const uint64_t top = 0ull - block;  // the last whole block below 2^64
    struct Case {
      uint64_t first;
      uint32_t count, expect;
    };
    const Case cases[] = {{0, block, block},
                          {(rng() >> 4) / kWarp * kWarp, block, block},
                          {(rng() >> 4) / kWarp * kWarp, kWarp * 3, kWarp * 3},
                          {top, block, block},
                          {0ull - 2 * kWarp, block, 2 * kWarp}};  // clipped at 2^64 - 1
    for (const Case& c : cases) {
      const uint32_t got = batcher.hash(c.first, c.count, o, never);
      BCHECK(got == c.expect, "full hashed %u, expected %u (%s)", got, c.expect, path);
      int bad = 0;
      for (uint32_t k = 0; k < got; ++k) {
        uint8_t ref[32];
        octopus_hash_full(h.bytes, c.first + k, ds.items(), bytes, ref);
        bad += std::memcmp(ref, o[k], 32) != 0;
      }
      BCHECK(bad == 0, "full batch vs one-shot (%s, first %llx): %d differ", path, (unsigned long long)c.first, bad);
    }
    uint8_t light[32];
    octopus_hash_light(h.bytes, top + block - 1, cache, bytes, light);
    BCHECK(std::memcmp(light, o[block - 1], 32) == 0, "full batch == light for nonce 2^64-1 (%s)", path);
    std::atomic<uint64_t> generation{5};
    const AbortCheck stale{&generation, 4};
    BCHECK(batcher.hash(0, block, o, stale) == 0, "full abort before start (%s)", path);
    // An abort midway, at every look in turn: during the polynomial step nothing counts as
    // hashed; during the walk the whole groups before it do, and their hashes are right.
    const uint32_t poly_looks = kAccesses / 8, groups = block / 32;
    int wrong_count = 0, wrong_hash = 0;
    for (uint32_t look = 1; look <= poly_looks + groups; ++look) {
      uint32_t left = look;
      const AbortCheck at{nullptr, 0, &left};
      const uint64_t first = (rng() >> 8) / kWarp * kWarp;
      const uint32_t got = batcher.hash(first, block, o, at);
      const uint32_t expect = look <= poly_looks ? 0 : (look - poly_looks) * 32;
      wrong_count += got != expect;
      for (uint32_t k = got > 0 ? got - 1 : 0; k < got; ++k) {  // the last group's last hash
        uint8_t ref[32];
        octopus_hash_full(h.bytes, first + k, ds.items(), bytes, ref);
        wrong_hash += std::memcmp(ref, o[k], 32) != 0;
      }
    }
    BCHECK(wrong_count == 0 && wrong_hash == 0, "full abort midway (%s): %d wrong counts, %d wrong hashes", path,
           wrong_count, wrong_hash);
  });
}

}  // namespace

void test_batch(int& checks, int& failures, const Cache& cache) {
  g_checks_p = &checks;
  g_failures_p = &failures;
  std::mt19937_64 rng(0x0c70b05);
  test_fastmod(rng);
  test_keccak_x8(rng);
  test_keccak_pow_x8(rng);
  test_baseline(cache, rng);
  test_poly(rng);
  test_dag_items(cache, rng);
  test_dag_build(cache);
  test_light(cache, rng);
  test_light_abort(cache);
  test_full(cache, rng);
  if (cpu_has_amx()) {
    // Once more with AMX off: the AVX-512 batcher then runs the polynomial as transforms
    // (poly_ntt.h), as it does on an AVX-512 CPU without AMX.
    force_no_amx(true);
    test_full(cache, rng);
    force_no_amx(false);
  }
  std::printf("batch: keccak %s, cpu avx512 %s\n", keccak_impl_name(), cpu_detects_avx512() ? "yes" : "no");
}
