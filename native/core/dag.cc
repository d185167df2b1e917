#include "dag.h"

#include <sys/mman.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu.h"
#include "keccak.h"
#include "keccak_x8.h"
#include "params.h"

#include "avx512.h"

namespace cfx {
namespace {

constexpr uint64_t kProgressStep = 1 << 16;

void xor_nodes(const Node& a, const Node& b, Node* out) {
  for (int i = 0; i < 8; ++i) out->dwords[i] = a.dwords[i] ^ b.dwords[i];
}

// dag_items_batch's early exit. Acquire, the pairing AbortCheck uses with the engine's release;
// nothing is read on the strength of it, so a late sighting only costs a few microseconds.
inline bool moved(const std::atomic<uint64_t>* watch, uint64_t expect) {
  return watch && watch->load(std::memory_order_acquire) != expect;
}

// keccak512 of 64 bytes over n nodes in place, 8 lanes at a time where whole groups allow.
void keccak_nodes_portable(Node* nodes, int n, Node* out) {
  int m = 0;
  for (; m + 8 <= n; m += 8) {
    const uint8_t* in[8];
    uint8_t* o[8];
    for (int l = 0; l < 8; ++l) {
      in[l] = nodes[m + l].bytes;
      o[l] = out[m + l].bytes;
    }
    keccak512_64_x8_portable(in, o);
  }
  for (; m < n; ++m) keccak512_64(nodes[m].bytes, out[m].bytes);
}

// The parent chains below prefetch each parent node into L2 where the CPU gains from it, else into
// L1 (cpu.h cpu_prefetch_to_l2; the same choice as full mode's walk). The N prefetches of a parent
// step are more than the core's L1 fill buffers; into L2 they wait in L2's larger queue.
// Measured on the 2-core Xeon: the dataset build ~5% faster (farm-bench, 8 pairs of core_bench
// --build-only --height 152000000 --build-gib 0.5: median wall ratio 0.966 for the whole run,
// cache build included), light mode 6-8% (core_bench light_hs 25.3-26.3 K against 23.5-24.1 K).

// N DAG items computed with their parent chains interleaved (each chain is serial, the N
// chains are independent), so up to N cache misses are outstanding at a time. The portable
// path: dag_item, dag_page and dag_items_batch without AVX-512.
//
// Every parent step runs in two phases: first all N parent indices (prefetching each), then all
// N mix updates. Interleaved per chain instead, each chain's 16 dependent multiply-xors waiting
// on its load filled the out-of-order window after ~10 chains and capped the reads in flight:
// measured 4x slower with 16 or 32 chains.
template <int N>
bool dag_items(const Cache& cache, const uint32_t* indices, Node* out, const std::atomic<uint64_t>* watch = nullptr,
               uint64_t expect = 0) {
  const bool l2 = cpu_prefetch_to_l2();
  const Node* nodes = cache.nodes();
  const FastMod32 fm(static_cast<uint32_t>(cache.node_count()));
  Node mix[N];
  for (int m = 0; m < N; ++m) {
    mix[m] = nodes[fm.mod(indices[m])];
    mix[m].words[0] ^= indices[m];
  }
  keccak_nodes_portable(mix, N, mix);
  for (uint32_t k = 0; k < kDagParents; ++k) {
    if (k % 32 == 31 && moved(watch, expect)) return false;
    uint32_t parent[N];
    for (int m = 0; m < N; ++m) {
      parent[m] = fm.mod(fnv(indices[m] ^ k, mix[m].words[k % 16]));
      prefetch_line(nodes + parent[m], l2);
    }
    for (int m = 0; m < N; ++m) {
      const Node& p = nodes[parent[m]];
      for (int w = 0; w < 16; ++w) mix[m].words[w] = fnv(mix[m].words[w], p.words[w]);
    }
  }
  keccak_nodes_portable(mix, N, out);
  return true;
}

#if CFX_HAVE_AVX512_KERNELS

// Word Q of a vector of 16 words, Q a constant so the extraction is two instructions.
template <int Q>
CFX_TARGET_AVX512 __attribute__((always_inline)) inline uint32_t word_of(__m512i v) {
  return static_cast<uint32_t>(_mm_extract_epi32(_mm512_extracti32x4_epi32(v, Q / 4), Q % 4));
}

// Parent step k = k0 + Q for every chain: a short scalar chain for each parent's index (and a
// prefetch), then one 64-byte load, one multiply and one xor per item (all 16 words at once).
// Two phases, as in the portable dag_items: measured ~1.5x faster than chain by chain.
template <int Q, int N>
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void parent_step(__m512i* mix, const uint32_t* idx,
                                                                          uint32_t k0, const Node* nodes,
                                                                          const FastMod32& fm, bool l2) {
  const __m512i prime = _mm512_set1_epi32(0x01000193);
  uint32_t parent[N];
  for (int m = 0; m < N; ++m) {
    parent[m] = fm.mod(fnv(idx[m] ^ (k0 + Q), word_of<Q>(mix[m])));
    prefetch_line(nodes + parent[m], l2);
  }
  for (int m = 0; m < N; ++m)
    mix[m] = _mm512_xor_si512(_mm512_mullo_epi32(mix[m], prime), _mm512_load_si512(nodes + parent[m]));
}

// N (a multiple of 8) items: the AVX-512 path. out[0..N) receives the items.
template <int N>
CFX_TARGET_AVX512 bool dag_items_avx512(const Node* nodes, const FastMod32& fm, const uint32_t* idx, Node* out,
                                        const std::atomic<uint64_t>* watch, uint64_t expect) {
  static_assert(N % 8 == 0, "whole 8-lane keccak calls");
  const bool l2 = cpu_prefetch_to_l2();
  alignas(64) Node seed[N];
  for (int m = 0; m < N; ++m) {
    seed[m] = nodes[fm.mod(idx[m])];
    seed[m].words[0] ^= idx[m];
  }
  for (int g = 0; g < N; g += 8) {
    const uint8_t* in[8];
    uint8_t* io[8];
    for (int m = 0; m < 8; ++m) in[m] = io[m] = seed[g + m].bytes;
    keccak512_64_x8_avx512(in, io);
  }
  __m512i mix[N];
  for (int m = 0; m < N; ++m) mix[m] = _mm512_load_si512(seed + m);
  for (uint32_t k0 = 0; k0 < kDagParents; k0 += 16) {
    parent_step<0, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<1, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<2, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<3, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<4, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<5, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<6, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<7, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<8, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<9, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<10, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<11, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<12, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<13, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<14, N>(mix, idx, k0, nodes, fm, l2);
    parent_step<15, N>(mix, idx, k0, nodes, fm, l2);
    if (k0 % 32 == 16 && moved(watch, expect)) return false;
  }
  for (int m = 0; m < N; ++m) _mm512_store_si512(seed + m, mix[m]);
  for (int g = 0; g < N; g += 8) {
    const uint8_t* in[8];
    uint8_t* o[8];
    for (int m = 0; m < 8; ++m) {
      in[m] = seed[g + m].bytes;
      o[m] = out[g + m].bytes;
    }
    keccak512_64_x8_avx512(in, o);
  }
  return true;
}

#endif  // CFX_HAVE_AVX512_KERNELS

// How many items one pass computes: enough chains in flight to cover the latency of random
// reads from the 16 MiB cache (which rarely stays in a shared L3). With the two-phase steps the
// prefetches of all chains go out together; measured per parent on this Zen 5 VM (AVX-512):
// 32 chains 8-9 ns, 64 ~5.8 ns, 128 ~4.4 ns, 256 ~4.3 ns; portable: 32 ~16 ns, 64 ~13.5 ns.
// On a 2-core Xeon VM with AVX-512 and a 300 MiB L3 (one thread, core_bench --build-only): with
// the 34 MiB mainnet cache (in L3) 32 to 256 chains all ~2.6 ns; with a made-up 512 MiB cache
// (every read from DRAM) 32 chains 6.5 ns, 64 5.6 ns, 128 4.95 ns, 256 4.95 ns. More chains than
// 128 buy nothing on either CPU.
// Smaller passes take what is left, so a short request (a light-mode round) is not padded.
#if CFX_HAVE_AVX512_KERNELS
constexpr size_t kAvx512Chains = 128;
constexpr size_t kAvx512TailChains = 32;
#endif
constexpr size_t kPortableChains = 64;
constexpr size_t kPortableTailChains = 8;

// `count` items for indices, any count: passes of the Big-item kernel, then of the Small one,
// the last Small pass padded. False as soon as a pass gives up.
template <size_t Big, size_t Small, class BigKernel, class SmallKernel>
bool items_in_passes(const uint32_t* indices, size_t count, Node* out, BigKernel big, SmallKernel small) {
  size_t i = 0;
  for (; i + Big <= count; i += Big)
    if (!big(indices + i, out + i)) return false;
  for (; i + Small <= count; i += Small)
    if (!small(indices + i, out + i)) return false;
  if (i < count) {
    uint32_t idx[Small];
    alignas(64) Node tmp[Small];
    for (size_t m = 0; m < Small; ++m) idx[m] = indices[i + (m < count - i ? m : 0)];
    if (!small(idx, tmp)) return false;
    std::memcpy(out + i, tmp, (count - i) * sizeof(Node));
  }
  return true;
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1 (older kernels answer EINVAL, which is fine)
#endif

// A plain anonymous mapping of `len` bytes (a multiple of 4 KiB) starting on a 2 MiB boundary,
// so every whole 2 MiB of it can be one transparent huge page (recent kernels align large
// anonymous mappings themselves; older ones leave a partial huge page at each end): a mapping
// 2 MiB larger, with its head and tail given back. MAP_FAILED on failure.
constexpr uint64_t k2M = 2ULL << 20;

void* map_aligned_2m(uint64_t len) {
  void* raw = mmap(nullptr, len + k2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return raw;
  // Keep [a, a + len); a < r + k2M, so the tail is never empty.
  const uintptr_t r = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t a = (r + k2M - 1) & ~uintptr_t(k2M - 1);
  if (a > r) munmap(raw, a - r);
  munmap(reinterpret_cast<void*>(a + len), r + k2M - a);
  return reinterpret_cast<void*>(a);
}

// The cache's mapping: `bytes` starting on a 2 MiB boundary and, where it spans a whole 2 MiB,
// marked MADV_HUGEPAGE before anything is written, so the build's first touches fault in 2 MiB
// pages (THP in "madvise" mode; "always" needs no mark). Without the mark the cache was written
// on 4 KiB pages and only cache_prefer_huge_pages' MADV_COLLAPSE (Linux >= 6.1) moved it to 2 MiB
// ones: on older kernels it stayed on 4 KiB pages through the dataset build (khugepaged collapses
// it later, at its own pace), and there the 34 MiB cache of a mainnet stage overflows the TLB
// where the 16 MiB one nearly fits: measured per item (Xeon, AVX-512), 16 -> 34 MiB cache on
// 4 KiB pages 1.26x slower, on 2 MiB pages 1.04x. MAP_FAILED when the mapping fails; the caller
// unmaps (p, bytes).
void* map_cache_nodes(uint64_t bytes) {
  if (bytes < k2M) return mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const uint64_t len = (bytes + 4095) & ~uint64_t(4095);
  void* p = map_aligned_2m(len);
#ifdef MADV_HUGEPAGE
  if (p != MAP_FAILED) madvise(p, len, MADV_HUGEPAGE);  // a hint: failure (THP "never", no THP) only costs speed
#endif
  return p;
}

std::string read_thp_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  std::getline(f, s);
  return s;
}

}  // namespace

void NodeUnmap::operator()(Node* p) const {
  if (p) munmap(p, bytes);
}

std::shared_ptr<Cache> Cache::build(uint64_t stage, const ProgressFn& progress, const CancelFlag* cancel) {
  return build_nodes(stage, cache_bytes_for_stage(stage) / sizeof(Node), progress, cancel);
}

std::shared_ptr<Cache> Cache::build_small(uint64_t stage, uint64_t node_count) {
  if (node_count == 0) throw std::invalid_argument("a cache needs at least one node");
  return build_nodes(stage, node_count, {}, nullptr);
}

std::shared_ptr<Cache> Cache::build_nodes(uint64_t stage, uint64_t n, const ProgressFn& progress,
                                          const CancelFlag* cancel) {
  auto cache = std::make_shared<Cache>();
  cache->stage_ = stage;
  cache->count_ = n;
  void* mem = map_cache_nodes(n * sizeof(Node));
  if (mem == MAP_FAILED) throw std::bad_alloc();  // memory is short
  cache->nodes_ = std::unique_ptr<Node[], NodeUnmap>(static_cast<Node*>(mem), NodeUnmap{n * sizeof(Node)});
  Node* nodes = cache->nodes_.get();
  seed_for_stage(stage, cache->seed_);

  const uint64_t total = n * (1 + kCacheRounds);
  uint64_t done = 0;
  auto tick = [&]() {
    if (++done % kProgressStep == 0) {
      if (cancel && cancel->is_set()) throw Cancelled();
      if (progress) progress(done, total);
    }
  };

  keccak512(cache->seed_, 32, nodes[0].bytes);
  tick();
  for (uint64_t i = 1; i < n; ++i) {
    keccak512_64(nodes[i - 1].bytes, nodes[i].bytes);
    tick();
  }
  for (uint32_t round = 0; round < kCacheRounds; ++round) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t j = nodes[i].words[0] % n;
      Node t;
      xor_nodes(nodes[(i + n - 1) % n], nodes[j], &t);
      keccak512_64(t.bytes, nodes[i].bytes);
      tick();
    }
  }
  if (progress) progress(total, total);
  return cache;
}

void dag_item(const Cache& cache, uint32_t index, Node* out) { dag_items<1>(cache, &index, out); }

void dag_page(const Cache& cache, uint32_t first_index, Node out[4]) {
  const uint32_t idx[4] = {first_index, first_index + 1, first_index + 2, first_index + 3};
  dag_items<4>(cache, idx, out);
}

namespace {

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif

constexpr uint64_t k1G = 1ULL << 30;

// Parses "<hex>-<hex> ..." (a mapping's header line in smaps); false for a field line.
bool smaps_header(const std::string& line, uintptr_t* lo, uintptr_t* hi) {
  const size_t dash = line.find('-');
  const size_t space = line.find(' ');
  if (dash == std::string::npos || dash == 0 || space == std::string::npos || dash > space) return false;
  for (size_t k = 0; k < space; ++k)
    if (k != dash && !std::isxdigit(static_cast<unsigned char>(line[k]))) return false;
  *lo = std::stoull(line.substr(0, dash), nullptr, 16);
  *hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
  return true;
}

}  // namespace

SmapsRange smaps_range(std::istream& smaps, uintptr_t begin, uintptr_t end) {
  SmapsRange r;
  std::string line;
  bool in = false;
  double share = 0;  // of the current mapping's pages that lie in [begin, end)
  static const std::string kAnonHuge = "AnonHugePages:";
  while (std::getline(smaps, line)) {
    uintptr_t lo, hi;
    if (smaps_header(line, &lo, &hi)) {
      if (lo >= end) break;
      in = hi > begin && hi > lo;
      if (in) {
        const uint64_t overlap = std::min(hi, end) - std::max(lo, begin);
        r.covered += overlap;
        share = double(overlap) / double(hi - lo);
      }
    } else if (in && line.compare(0, kAnonHuge.size(), kAnonHuge) == 0) {
      const uint64_t kb = std::strtoull(line.c_str() + kAnonHuge.size(), nullptr, 10);
      r.anon_huge += static_cast<uint64_t>(double(kb) * 1024 * share + 0.5);
    }
  }
  return r;
}

Dataset::Dataset(uint64_t bytes, uint64_t stage, bool try_huge_pages) : bytes_(bytes), stage_(stage) {
  if (bytes == 0 || bytes % kPageBytes != 0) throw std::invalid_argument("dataset size must be a positive multiple of 256");
  map_bytes_ = (bytes + k2M - 1) / k2M * k2M;
  void* p = MAP_FAILED;
#ifdef MAP_HUGETLB
  if (try_huge_pages) {
    // 1 GiB pages where reserved (the kernel refuses at once otherwise): whole pages, so up to
    // 1 GiB of the reservation beyond the dataset stays unused.
    const uint64_t len_1g = (bytes + k1G - 1) / k1G * k1G;
    p = mmap(nullptr, len_1g, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
    if (p != MAP_FAILED) {
      map_bytes_ = len_1g;
      huge_ = HugePages::kExplicit1G;
    } else {
      p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
      if (p != MAP_FAILED) huge_ = HugePages::kExplicit;
    }
  }
#endif
  if (p == MAP_FAILED) {
    p = map_aligned_2m(map_bytes_);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (try_huge_pages && madvise(p, map_bytes_, MADV_HUGEPAGE) == 0) {
      const std::string mode = read_thp_mode();
      if (mode.find("[always]") != std::string::npos || mode.find("[madvise]") != std::string::npos)
        huge_ = HugePages::kTransparent;
    }
    if (!try_huge_pages) madvise(p, map_bytes_, MADV_NOHUGEPAGE);  // "no" means none, THP "always" too
#endif
  }
  items_ = static_cast<Node*>(p);
}

const char* huge_pages_name(Dataset::HugePages kind) {
  switch (kind) {
    case Dataset::HugePages::kExplicit1G: return "explicit-1g";
    case Dataset::HugePages::kExplicit: return "explicit";
    case Dataset::HugePages::kTransparent: return "transparent";
    case Dataset::HugePages::kNone: break;
  }
  return "none";
}

double Dataset::huge_pages_fraction() const {
  if (huge_ == HugePages::kExplicit || huge_ == HugePages::kExplicit1G) return 1.0;
  std::ifstream f("/proc/self/smaps");
  if (!f) return 0.0;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(items_);
  const SmapsRange r = smaps_range(f, begin, begin + map_bytes_);
  return std::min(1.0, double(r.anon_huge) / double(map_bytes_));
}

Dataset::~Dataset() {
  if (items_) munmap(items_, map_bytes_);
}

bool dag_items_batch(const Cache& cache, const uint32_t* indices, size_t count, Node* out,
                     const std::atomic<uint64_t>* watch, uint64_t expect) {
#if CFX_HAVE_AVX512_KERNELS
  if (cpu_has_avx512()) {
    const FastMod32 fm(static_cast<uint32_t>(cache.node_count()));
    const Node* nodes = cache.nodes();
    return items_in_passes<kAvx512Chains, kAvx512TailChains>(
        indices, count, out,
        [&](const uint32_t* idx, Node* o) { return dag_items_avx512<kAvx512Chains>(nodes, fm, idx, o, watch, expect); },
        [&](const uint32_t* idx, Node* o) {
          return dag_items_avx512<kAvx512TailChains>(nodes, fm, idx, o, watch, expect);
        });
  }
#endif
  return items_in_passes<kPortableChains, kPortableTailChains>(
      indices, count, out,
      [&](const uint32_t* idx, Node* o) { return dag_items<kPortableChains>(cache, idx, o, watch, expect); },
      [&](const uint32_t* idx, Node* o) { return dag_items<kPortableTailChains>(cache, idx, o, watch, expect); });
}

void cache_prefer_huge_pages(const Cache& cache) {
  // Caches already advised, by address and stage. A mutex: one short critical section per call,
  // and the first caller holds it through the madvise so others do not collapse the same range.
  static std::mutex mu;
  static std::vector<std::pair<const void*, uint64_t>> done;
  std::lock_guard<std::mutex> lock(mu);
  const std::pair<const void*, uint64_t> key(cache.nodes(), cache.stage());
  for (const auto& d : done)
    if (d == key) return;
  if (done.size() >= 16) done.erase(done.begin());
  done.push_back(key);
  // Whole 2 MiB ranges of the node array (map_cache_nodes starts it on a 2 MiB boundary and has
  // marked it MADV_HUGEPAGE already): what faulted in as 4 KiB pages is collapsed now.
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(cache.nodes()) + k2M - 1) & ~uintptr_t(k2M - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(cache.nodes()) + cache.bytes()) & ~uintptr_t(k2M - 1);
  if (end <= begin) return;
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_COLLAPSE);  // failures only cost speed
}

void Dataset::generate_range(const Cache& cache, uint64_t first, uint64_t count) {
  cache_prefer_huge_pages(cache);
  // Consecutive indices in groups; every item is written exactly once, straight into place.
  constexpr size_t kGroup = 256;
  uint32_t idx[kGroup];
  for (uint64_t done = 0; done < count;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kGroup, count - done));
    for (size_t m = 0; m < n; ++m) idx[m] = static_cast<uint32_t>(first + done + m);
    dag_items_batch(cache, idx, n, items_ + first + done);
    done += n;
  }
}

void Dataset::generate(const Cache& cache, unsigned threads, const ProgressFn& progress, const CancelFlag* cancel) {
  if (threads == 0) threads = 1;
  const uint64_t total = item_count();
  constexpr uint64_t kChunk = 4096;
  std::atomic<uint64_t> next{0};  // relaxed: only hands out disjoint chunk numbers
  std::atomic<uint64_t> done{0};  // relaxed: a progress figure, no data depends on it
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex error_mu;

  auto worker = [&]() {
    try {
      for (;;) {
        if (stop.load(std::memory_order_relaxed) || (cancel && cancel->is_set())) return;
        const uint64_t first = next.fetch_add(kChunk, std::memory_order_relaxed);
        if (first >= total) return;
        const uint64_t count = std::min(kChunk, total - first);
        generate_range(cache, first, count);
        done.fetch_add(count, std::memory_order_relaxed);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
      stop.store(true, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  try {
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  } catch (...) {
    stop.store(true);
    for (auto& th : pool) th.join();
    throw;
  }
  // The caller's thread reports progress, so the callback never runs on two threads at once.
  for (;;) {
    const uint64_t d = done.load(std::memory_order_relaxed);
    if (d >= total || stop.load(std::memory_order_relaxed) || (cancel && cancel->is_set())) break;
    if (progress) progress(d, total);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& th : pool) th.join();  // join() makes every worker's writes visible here
  if (error) std::rethrow_exception(error);
  if (cancel && cancel->is_set() && done.load() < total) throw Cancelled();
  if (progress) progress(total, total);
}

}  // namespace cfx
