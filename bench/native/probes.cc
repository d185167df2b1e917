#include "probes.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "../../native/core/avx512.h"
#include "../../native/core/cpu.h"
#include "../../native/core/octopus.h"
#include "../../native/core/params.h"

namespace cfx {
namespace probes {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kGroup = 32;    // walks interleaved, as octopus_batch.cc's kFullGroup
constexpr uint32_t kBlock = 1024;  // nonces per round, as its kFullBlock

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A stand-in seed per nonce: pseudo-random like keccak512's output, a few cycles instead of one
// permutation, so the walk's cost is all that is left.
void fake_seeds(uint64_t first, uint32_t count, Node* seeds) {
  for (uint32_t n = 0; n < count; ++n)
    for (int w = 0; w < 8; ++w) seeds[n].dwords[w] = splitmix64((first + n) * 8 + w);
}

// Into L2 or L1 as full mode's walk does (native/core/octopus_batch.cc prefetch_page).
inline void prefetch_page(const Node* items, uint32_t page) {
  static const bool l2 = cfx::cpu_prefetch_to_l2();
  const char* p = reinterpret_cast<const char*>(items + uint64_t(page) * 4);
  for (int l = 0; l < 4; ++l) cfx::prefetch_line(p + 64 * l, l2);
}

// The page of access 0: fnv(seed0 ^ 0 ^ value_0, mix[0]) with value_0 = 0 and mix[0] = seed0.
inline uint32_t first_page(const FastMod32& pages, const Node& seed) {
  return pages.mod(fnv(seed.words[0], seed.words[0]));
}

// After access i of walk g of the group at n0: the page of access i + 1, prefetched at once; after
// the last access, the next group's first page is prefetched instead (its walk starts warm).
inline void next_page(const Node* items, const FastMod32& pages, const Node* seeds, uint32_t count, uint32_t n0,
                      uint32_t g, uint32_t i, const uint32_t mix[64], uint32_t& page) {
  if (i + 1 < kAccesses) {
    page = pages.mod(fnv(seeds[n0 + g].words[0] ^ (i + 1), mix[i + 1]));
    prefetch_page(items, page);
  } else if (n0 + kGroup < count) {
    prefetch_page(items, first_page(pages, seeds[n0 + kGroup + g]));
  }
}

// The walk of OctopusBatcher's full mode (octopus_batch.cc walk_full_*): access i reads page
// fnv(seed0 ^ i ^ value_i, mix[i]) % pages with value_i = 0 (no polynomial); the next page is
// prefetched as soon as it is known; the next group's first pages during the last access.
// Returns a fold of the mixes so the work cannot be optimised away.
uint32_t walk_portable(const Node* items, const FastMod32& pages, const Node* seeds, uint32_t count) {
  alignas(64) uint32_t mix[kGroup][64];
  uint32_t page[kGroup];
  uint32_t fold = 0;
  for (uint32_t g = 0; g < kGroup; ++g) prefetch_page(items, first_page(pages, seeds[g]));
  for (uint32_t n0 = 0; n0 < count; n0 += kGroup) {
    for (uint32_t g = 0; g < kGroup; ++g) {
      for (int q = 0; q < 4; ++q) std::memcpy(mix[g] + 16 * q, seeds[n0 + g].words, 64);
      page[g] = first_page(pages, seeds[n0 + g]);
    }
    for (uint32_t i = 0; i < kAccesses; ++i) {
      for (uint32_t g = 0; g < kGroup; ++g) {
        const Node* it = items + uint64_t(page[g]) * 4;
        for (int n = 0; n < 4; ++n)
          for (int w = 0; w < 16; ++w) mix[g][n * 16 + w] = fnv(mix[g][n * 16 + w], it[n].words[w]);
        next_page(items, pages, seeds, count, n0, g, i, mix[g], page[g]);
      }
    }
    for (uint32_t g = 0; g < kGroup; ++g) fold ^= mix[g][0] ^ mix[g][63];
  }
  return fold;
}

#if CFX_HAVE_AVX512_KERNELS
CFX_TARGET_AVX512 uint32_t walk_avx512(const Node* items, const FastMod32& pages, const Node* seeds, uint32_t count) {
  alignas(64) uint32_t mix[kGroup][64];
  uint32_t page[kGroup];
  uint32_t fold = 0;
  const __m512i prime = _mm512_set1_epi32(0x01000193);
  for (uint32_t g = 0; g < kGroup; ++g) prefetch_page(items, first_page(pages, seeds[g]));
  for (uint32_t n0 = 0; n0 < count; n0 += kGroup) {
    for (uint32_t g = 0; g < kGroup; ++g) {
      const __m512i seed = _mm512_load_si512(seeds + n0 + g);
      for (int q = 0; q < 4; ++q) _mm512_store_si512(reinterpret_cast<__m512i*>(mix[g]) + q, seed);
      page[g] = first_page(pages, seeds[n0 + g]);
    }
    for (uint32_t i = 0; i < kAccesses; ++i) {
      for (uint32_t g = 0; g < kGroup; ++g) {
        __m512i* m = reinterpret_cast<__m512i*>(mix[g]);
        const __m512i* it = reinterpret_cast<const __m512i*>(items + uint64_t(page[g]) * 4);
        for (int q = 0; q < 4; ++q)
          _mm512_store_si512(m + q, _mm512_xor_si512(_mm512_mullo_epi32(_mm512_load_si512(m + q), prime),
                                                     _mm512_load_si512(it + q)));
        next_page(items, pages, seeds, count, n0, g, i, mix[g], page[g]);
      }
    }
    for (uint32_t g = 0; g < kGroup; ++g) fold ^= mix[g][0] ^ mix[g][63];
  }
  return fold;
}
#endif

}  // namespace

double keccak_scalar_hps(unsigned threads, double seconds) {
  // `threads` independent plain loops at once, each on its own thread at the search threads'
  // priority, so that they share the cores (with each other and with whatever else runs) as the
  // search threads they are compared with do; the result is the mean per thread.
  std::vector<double> rates(threads, 0);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      lower_thread_priority();  // as a search thread
      uint8_t header[32], nonce_le[32] = {0}, out[32];
      for (int i = 0; i < 32; ++i) header[i] = static_cast<uint8_t>(i * 13 + 7 + t);
      uint64_t n = 0;
      uint8_t fold = 0;
      const auto t0 = Clock::now();
      double elapsed = 0;
      do {
        for (int i = 0; i < 4096; ++i, ++n) {
          std::memcpy(nonce_le, &n, 8);
          keccak_pow_hash(header, nonce_le, out);
          fold ^= out[0];
        }
      } while ((elapsed = seconds_since(t0)) < seconds);
      volatile uint8_t sink = fold;  // keeps the loop
      (void)sink;
      rates[t] = double(n) / elapsed;
    });
  for (auto& th : pool) th.join();  // join makes rates[] visible
  double sum = 0;
  for (double r : rates) sum += r;
  return sum / threads;
}

std::unique_ptr<Dataset> walk_memory(uint64_t bytes, unsigned threads, bool huge_pages) {
  auto memory = std::make_unique<Dataset>(bytes, 0, huge_pages);
  uint64_t* words = reinterpret_cast<uint64_t*>(memory->mutable_items());
  const uint64_t count = bytes / 8, share = (count + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([=] {
      for (uint64_t i = uint64_t(t) * share; i < count && i < uint64_t(t + 1) * share; ++i) words[i] = splitmix64(i);
    });
  for (auto& th : pool) th.join();
  return memory;
}

double memory_walk_hps(const Dataset& memory, unsigned threads, double seconds) {
  const Node* items = memory.items();
  const FastMod32 pages(static_cast<uint32_t>(memory.bytes() / kPageBytes));
  const bool avx512 = cpu_has_avx512();
  std::atomic<bool> stop{false};  // relaxed: a "stop soon" hint, no data rides on it
  std::vector<uint64_t> done(threads, 0);
  std::vector<uint32_t> folds(threads, 0);
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      // At the search threads' priority, or on a shared machine the ceiling would get a bigger
      // share of the cores than full mode does.
      lower_thread_priority();
      std::vector<Node> seeds(kBlock);
      uint64_t first = uint64_t(t) << 48, n = 0;
      uint32_t fold = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        fake_seeds(first, kBlock, seeds.data());
#if CFX_HAVE_AVX512_KERNELS
        fold ^= avx512 ? walk_avx512(items, pages, seeds.data(), kBlock) : walk_portable(items, pages, seeds.data(), kBlock);
#else
        fold ^= walk_portable(items, pages, seeds.data(), kBlock);
#endif
        first += kBlock;
        n += kBlock;
      }
      done[t] = n;
      folds[t] = fold;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true, std::memory_order_relaxed);
  for (auto& th : pool) th.join();  // join makes done[] visible
  const double elapsed = seconds_since(t0);
  uint64_t total = 0;
  uint32_t fold = 0;
  for (unsigned t = 0; t < threads; ++t) {
    total += done[t];
    fold ^= folds[t];
  }
  volatile uint32_t sink = fold;
  (void)sink;
  return double(total) / elapsed;
}

}  // namespace probes
}  // namespace cfx
