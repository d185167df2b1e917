// The core's own tests: every line of the reference vectors, plus properties of the pieces.
// Built without Node (plain g++), also with AddressSanitizer and UBSan (see Makefile).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

#include "../core/cpu.h"
#include "../core/dag.h"
#include "../core/keccak.h"
#include "../core/keccak_x8.h"
#include "../core/octopus.h"
#include "../core/params.h"
#include "../core/poly_batch.h"
#include "../core/u256.h"

using namespace cfx;

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond, ...)                                               \
  do {                                                                 \
    ++g_checks;                                                        \
    if (!(cond)) {                                                     \
      ++g_failures;                                                    \
      std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                               \
      std::fprintf(stderr, "\n");                                      \
    }                                                                  \
  } while (0)

// A field of a flat JSON object: the raw text of a string (without quotes), number or array.
static std::string field(const std::string& line, const std::string& key) {
  const std::string pat = "\"" + key + "\":";
  size_t p = line.find(pat);
  if (p == std::string::npos) return "";
  p += pat.size();
  while (line[p] == ' ') ++p;
  if (line[p] == '"') return line.substr(p + 1, line.find('"', p + 1) - p - 1);
  size_t e = p;
  if (line[p] == '[') return line.substr(p, line.find(']', p) - p + 1);
  while (e < line.size() && line[e] != ',' && line[e] != '}') ++e;
  return line.substr(p, e - p);
}

static std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  size_t i = (s.rfind("0x", 0) == 0) ? 2 : 0;
  for (; i + 1 < s.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

static std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s = "0x";
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

static std::map<uint64_t, std::shared_ptr<Cache>> g_caches;
static const Cache& cache_for(uint64_t stage) {
  auto& c = g_caches[stage];
  if (!c) c = Cache::build(stage);
  return *c;
}

static void test_vector_line(const std::string& line) {
  const std::string kind = field(line, "kind");
  if (kind == "sizes") {
    const uint64_t height = std::stoull(field(line, "height"));
    const uint64_t stage = stage_of(height);
    CHECK(stage == std::stoull(field(line, "stage")), "stage for %llu", (unsigned long long)height);
    CHECK(cache_bytes_for_stage(stage) == std::stoull(field(line, "cache_bytes")), "cache bytes %llu", (unsigned long long)height);
    CHECK(dataset_bytes_for_stage(stage) == std::stoull(field(line, "dataset_bytes")), "dataset bytes %llu", (unsigned long long)height);
    uint8_t seed[32];
    seed_for_stage(stage, seed);
    CHECK(hex(seed, 32) == field(line, "seed"), "seed at %llu", (unsigned long long)height);
  } else if (kind == "dag_item") {
    const Cache& cache = cache_for(stage_of(std::stoull(field(line, "height"))));
    const uint32_t index = static_cast<uint32_t>(std::stoull(field(line, "index")));
    CHECK(hex(cache.nodes()[index % cache.node_count()].bytes, 64) == field(line, "cache_node"), "cache node for %u", index);
    Node item;
    dag_item(cache, index, &item);
    CHECK(hex(item.bytes, 64) == field(line, "item"), "dag item %u", index);
  } else if (kind == "octopus") {
    const auto header = unhex(field(line, "header"));
    const uint64_t height = std::stoull(field(line, "height"));
    const uint64_t nonce = std::stoull(field(line, "nonce"), nullptr, 16);
    OctopusJob job(header.data());
    if (!field(line, "a").empty()) {
      CHECK(job.a == std::stoul(field(line, "a")) && job.b == std::stoul(field(line, "b")) &&
                job.c == std::stoul(field(line, "c")) && job.w == std::stoul(field(line, "w")),
            "a b c w for %s", field(line, "header").c_str());
    }
    const uint64_t stage = stage_of(height);
    uint8_t out[32];
    OctopusTrace trace;
    octopus_hash_light(header.data(), nonce, cache_for(stage), dataset_bytes_for_stage(stage), out, &trace);
    if (!field(line, "poly_digest").empty()) {
      uint8_t be[8];
      for (int i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(trace.digest >> (56 - 8 * i));
      CHECK(hex(be, 8) == field(line, "poly_digest"), "poly digest for %s", field(line, "header").c_str());
      std::string values = "[";
      for (int i = 0; i < 32; ++i) values += (i ? "," : "") + std::to_string(trace.values[i]);
      values += "]";
      std::string expect = field(line, "poly_values");
      expect.erase(std::remove(expect.begin(), expect.end(), ' '), expect.end());
      CHECK(values == expect, "poly values for %s", field(line, "header").c_str());
    }
    CHECK(hex(out, 32) == field(line, "hash"), "light hash for %s: got %s", field(line, "header").c_str(), hex(out, 32).c_str());
    // Every way of computing the values gives the same ones as the light hash above (checked
    // against the vector's hash and, where it has them, its values): the dense product, the
    // transforms and AMX's tiles, on the portable path (its transforms in baseline code, and on
    // AVX2 where the CPU has it) and the AVX-512 path, sized as the full-mode batcher sizes them
    // (32 warps) with the vector's warp loaded.
    static const char* const kPaths[] = {"portable", "portable-avx2", "avx512"};
    for (int path = 0; path < 3; ++path) {
      if ((path == 1 && !cpu_detects_avx2()) || (path == 2 && !cpu_detects_avx512())) continue;
      force_no_avx2(path == 0);
      for (int method = 0; method < 3; ++method) {
        if (method == 2 && !(path == 2 && cpu_has_amx())) continue;
        PolyBatch poly(job, 32, path == 2, method == 2, method == 1);
        poly.load_warps(nonce / kWarp, 1);
        poly.evaluate(0, kAccesses);
        int bad = 0;
        for (uint32_t i = 0; i < kAccesses; ++i) bad += poly.values_row(i)[nonce % kWarp] != trace.values[i];
        CHECK(bad == 0, "%s %s values for %s: %d differ", kPaths[path],
              method == 0 ? "dense" : method == 1 ? "transforms" : "amx", field(line, "header").c_str(), bad);
      }
    }
    force_no_avx2(false);
  } else if (kind == "keccak") {
    const auto header = unhex(field(line, "header"));
    const uint64_t nonce = std::stoull(field(line, "nonce"), nullptr, 16);
    uint8_t nonce_le[32] = {0};
    std::memcpy(nonce_le, &nonce, 8);
    uint8_t out[32];
    keccak_pow_hash(header.data(), nonce_le, out);
    CHECK(hex(out, 32) == field(line, "hash"), "keccak pow for %s", field(line, "header").c_str());
    // The search's 8-lane kernels, with the vector's nonce in lane 3 (or lane 7 near 2^64).
    uint64_t words[4];
    std::memcpy(words, header.data(), 32);
    const unsigned lane = nonce > UINT64_MAX - 4 ? 7 : 3;
    for (int avx = 0; avx < (cpu_detects_avx512() ? 2 : 1); ++avx) {
      uint8_t lanes[8][32];
      const uint32_t mask = avx ? keccak_pow_x8_avx512(words, nonce - lane, UINT64_MAX, lanes)
                                : keccak_pow_x8_portable(words, nonce - lane, UINT64_MAX, lanes);
      CHECK(mask == 0xff && hex(lanes[lane], 32) == field(line, "hash"), "keccak pow x8 (%s) for %s",
            avx ? "avx512" : "portable", field(line, "header").c_str());
    }
  } else {
    CHECK(false, "unknown vector kind %s", kind.c_str());
  }
}

// Full mode over a small dataset built from the real cache equals light mode for the same size.
static void test_small_dataset() {
  const Cache& cache = cache_for(0);
  const uint64_t bytes = 4ull << 20;
  Dataset ds(bytes, 0);
  ds.generate(cache, 2);
  for (uint32_t i : {0u, 1u, 4095u, 65535u}) {
    Node item;
    dag_item(cache, i, &item);
    CHECK(std::memcmp(item.bytes, ds.items()[i].bytes, 64) == 0, "dataset item %u", i);
  }
  uint8_t header[32];
  for (int i = 0; i < 32; ++i) header[i] = static_cast<uint8_t>(i * 7 + 1);
  for (uint64_t nonce : {0ull, 31ull, 32ull, 0xffffffffffffffffull, 0x123456789abcdefull}) {
    uint8_t light[32], full[32];
    octopus_hash_light(header, nonce, cache, bytes, light);
    octopus_hash_full(header, nonce, ds.items(), bytes, full);
    CHECK(std::memcmp(light, full, 32) == 0, "full == light on a small dataset, nonce %llu", (unsigned long long)nonce);
  }
}

// The smaps parser on text this process's kernel wrote, and the fractions it gives.
static void test_huge_pages_fraction() {
  const Cache& cache = cache_for(0);
  const uint64_t bytes = 4ull << 20;
  Dataset plain(bytes, 0, false);
  Dataset huge(bytes, 0, true);
  plain.generate(cache, 1);
  huge.generate(cache, 1);
  CHECK(plain.huge_pages() == Dataset::HugePages::kNone, "no huge pages asked, none given");
  CHECK(plain.huge_pages_fraction() == 0.0, "plain pages (MADV_NOHUGEPAGE): fraction %f", plain.huge_pages_fraction());
  const double f = huge.huge_pages_fraction();
  CHECK(f >= 0.0 && f <= 1.0, "fraction %f in [0, 1]", f);
  if (huge.huge_pages() == Dataset::HugePages::kExplicit || huge.huge_pages() == Dataset::HugePages::kExplicit1G)
    CHECK(f == 1.0, "explicit pages: fraction %f", f);

  std::stringstream text;
  {
    std::ifstream smaps("/proc/self/smaps");
    text << smaps.rdbuf();
  }
  const std::string captured = text.str();
  CHECK(captured.find("AnonHugePages:") != std::string::npos, "smaps has AnonHugePages lines");
  const uintptr_t pb = reinterpret_cast<uintptr_t>(plain.items());
  std::istringstream a(captured);
  const SmapsRange rp = smaps_range(a, pb, pb + bytes);
  CHECK(rp.covered == bytes, "the plain dataset is one mapped range: %llu of %llu", (unsigned long long)rp.covered,
        (unsigned long long)bytes);
  CHECK(rp.anon_huge == 0, "the plain dataset has no huge pages: %llu", (unsigned long long)rp.anon_huge);
  if (huge.huge_pages() == Dataset::HugePages::kTransparent) {
    const uintptr_t hb = reinterpret_cast<uintptr_t>(huge.items());
    std::istringstream b(captured);
    const SmapsRange rh = smaps_range(b, hb, hb + bytes);
    CHECK(rh.covered == bytes, "the THP dataset is one mapped range");
    CHECK(double(rh.anon_huge) / double(bytes) == huge.huge_pages_fraction(), "captured text gives the live fraction");
  }
  std::istringstream none(captured);
  CHECK(smaps_range(none, 0x10, 0x20).covered == 0, "an unmapped range");

  // A mapping merged with a neighbour counts in proportion; the ones before are skipped, and
  // reading stops at the first one past the range (the later bogus line is never parsed).
  const std::string synthetic =
      "00400000-00600000 r-xp 00000000 08:01 123   /usr/lib/x86_64-linux-gnu/libc-2.so\n"
      "Size:               2048 kB\n"
      "AnonHugePages:      2048 kB\n"
      "7f0000000000-7f0000800000 rw-p 00000000 00:00 0 \n"
      "Rss:                8192 kB\n"
      "AnonHugePages:      6144 kB\n"
      "VmFlags: rd wr mr mw me ac hg\n"
      "7f0000800000-7f0000a00000 rw-p 00000000 00:00 0 \n"
      "AnonHugePages:      2048 kB\n"
      "AnonHugePages:    999999 kB\n";
  std::istringstream c(synthetic);
  const SmapsRange rs = smaps_range(c, 0x7f0000400000, 0x7f0000800000);
  CHECK(rs.covered == (4u << 20), "synthetic covered %llu", (unsigned long long)rs.covered);
  CHECK(rs.anon_huge == (3u << 20), "synthetic: half of 6 MiB, %llu", (unsigned long long)rs.anon_huge);
}

static void test_boundary() {
  uint8_t hash[32] = {0};
  hash[31] = 5;  // hash = 5
  U256 b = u256_from_u64(6);
  CHECK(meets_boundary(hash, U256{}, b), "5 < 6");
  b = u256_from_u64(5);
  CHECK(!meets_boundary(hash, U256{}, b), "5 is not < 5");
  U256 all;
  for (auto& l : all.limb) l = ~0ull;
  uint8_t ones[32];
  std::memset(ones, 0xff, 32);
  CHECK(!meets_boundary(ones, U256{}, all), "2^256-1 is not < 2^256-1");
  hash[31] = 0;
  CHECK(meets_boundary(hash, U256{}, all), "0 < 2^256-1");
  // A nonce with high bits set shifts the hash down by its lower bound (bit 255 ignored).
  U256 nonce;
  nonce.limb[2] = 1;
  nonce.limb[3] = 0x8000000000000000ull;
  uint8_t h2[32] = {0};
  h2[15] = 1;   // hash = 2^128
  h2[31] = 3;   // + 3
  CHECK(meets_boundary(h2, nonce, u256_from_u64(4)), "lower bound subtracts 2^128");
  CHECK(!meets_boundary(h2, nonce, u256_from_u64(3)), "strictly less");
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "test/fixtures/octopus-reference.jsonl";
  extern void test_search(int& checks, int& failures, const Cache& cache);
  if (argc > 2 && std::string(argv[2]) == "--search-only") {
    // The ThreadSanitizer build: the threaded part alone (the vectors are single-threaded and
    // would take minutes under TSan's instrumentation).
    test_search(g_checks, g_failures, cache_for(0));
    std::printf("core (search only): %d checks\n", g_checks);
    std::printf("%d passed, %d failed\n", g_checks - g_failures, g_failures);
    return g_failures ? 1 : 0;
  }
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path);
    return 2;
  }
  int lines = 0;
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    test_vector_line(line);
    ++lines;
  }
  // Every line of the reference file is a test: a wrong path or a truncated copy must fail here,
  // not pass on fewer lines. (Grow this with the file; test/vectors.test.ts checks the copy.)
  constexpr int kVectorLines = 50;
  CHECK(lines == kVectorLines, "read %d vector lines, expected %d", lines, kVectorLines);
  test_boundary();
  test_small_dataset();
  test_huge_pages_fraction();
  test_search(g_checks, g_failures, cache_for(0));
  extern void test_batch(int& checks, int& failures, const Cache& cache);
  test_batch(g_checks, g_failures, cache_for(0));
  extern void test_self_test(int& checks, int& failures);
  test_self_test(g_checks, g_failures);
  std::printf("core: %d vector lines, %d checks\n", lines, g_checks);
  std::printf("%d passed, %d failed\n", g_checks - g_failures, g_failures);
  return g_failures ? 1 : 0;
}
