#include "octopus_batch.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "aligned.h"
#include "cpu.h"
#include "keccak_x8.h"
#include "poly_batch.h"

#include "avx512.h"

// How a block is hashed (OCTOPUS.md step numbers):
//  2-3  PolyBatch: SipHash coefficients of the block's warps, then all values as one exact fp64
//       matrix product (instead of 32 Horner evaluations of degree 1023 per nonce).
//  4    digests, then the 40-byte seed keccaks 8 lanes at a time (keccak_x8).
//  5    the 32 dependent page reads. Full mode: kFullGroup nonces walk together; each nonce's
//       next page is prefetched as soon as it is known and read only after the other nonces'
//       steps, so that many random DRAM reads are in flight instead of one (the walk is bound by
//       memory latency, not by arithmetic). Light mode: the 4 items of every page of kLightGroup
//       nonces are computed together (dag_items_batch: 128 or 64 parent chains interleaved).
//  6-7  compression, then the 96-byte final keccaks 8 lanes at a time.
// Every step gives the same bits as octopus_hash_light/full; native/test/batch_test.cc checks it.

namespace cfx {
namespace {

constexpr uint32_t kFullBlock = 1024;  // nonces per hash() call with a dataset: 32 warps (~2-4 ms)
constexpr uint32_t kFullBlockPortable = 256;  // the portable path is ~4x slower: blocks of similar time
// Without a dataset: 2 warps (~10 ms on one thread). Solutions leave only at the end of a block,
// so a block longer than the node's job period delivers them all under a replaced job (at a job
// every 50 ms, 256 nonces lost 92% of light-mode work that way, 64 lose 12%), and the polynomial
// batch is a small part of a light hash, so the shorter block costs no speed (measured equal).
constexpr uint32_t kLightBlock = 64;
constexpr uint32_t kFullGroup = 32;    // nonces whose dataset walks interleave (16, 32, 64 measured equal; 8 slower)
constexpr uint32_t kLightGroup = 32;   // nonces whose page items are computed together: 128 parent chains
constexpr uint32_t kLightPolySlice = 4;  // accesses evaluated between two abort checks in light mode
constexpr uint32_t kFullPolySlice = 8;   // the same in full mode: ~0.1-0.2 ms of a 1024-nonce block
static_assert(kAccesses % kFullPolySlice == 0, "whole slices");

static_assert(kFullBlock % kFullGroup == 0 && kFullBlockPortable % kFullGroup == 0 && kLightBlock % kLightGroup == 0,
              "whole groups per block");
static_assert(kFullGroup % 8 == 0 && kLightGroup % 8 == 0, "whole 8-lane keccak calls");

// Page of access i (OCTOPUS.md step 5) from the seed's first word, value_i and mix word i.
inline uint32_t page_index(const FastMod32& pages, uint32_t seed0, uint32_t i, uint32_t value, uint32_t mix_word) {
  return pages.mod(fnv(seed0 ^ i ^ value, mix_word));
}

// Step 6 and the final keccak's input: seed (64 bytes) || cmix (32 bytes).
inline void final_input(const Node& seed, const uint32_t mix[64], uint8_t in[96]) {
  std::memcpy(in, seed.bytes, 64);
  uint32_t reduced[16];
  for (int g = 0; g < 16; ++g)
    reduced[g] = fnv(fnv(fnv(mix[4 * g], mix[4 * g + 1]), mix[4 * g + 2]), mix[4 * g + 3]);
  for (int i = 0; i < 8; ++i) {
    const uint32_t c = fnv(reduced[i], reduced[i + 8]);
    std::memcpy(in + 64 + 4 * i, &c, 4);
  }
}

// What the block loops read; the rows come from PolyBatch (row i: value_i of every nonce).
struct BlockView {
  const uint8_t* header;
  const uint32_t* rows[kAccesses];
  Node* seeds;            // [count]
  uint32_t* first_pages;  // [count]: the page of access 0, known as soon as the seed is
  const Node* dataset;    // full mode
  FastMod32 pages;
  bool prefetch_l2;       // cpu_prefetch_to_l2(), read once per batcher
};

// The dataset page `page` (4 nodes, 256 bytes) on its way into the cache: into L2 where the CPU
// gains from it (locality 2: prefetcht1), else into L1 (cpu.h cpu_prefetch_to_l2). Measured
// on the 2-core Xeon (4 GiB dataset, core_bench --real, two runs each): full mode 1.47 M ->
// 1.73-1.76 M H/s, the walk alone 2.18 M -> 2.77-2.85 M; prefetcht2 the same as t1,
// prefetchnta slower (1.35 M). bench/native/probes.cc walks the same way.
inline void prefetch_page(const Node* dataset, uint32_t page, bool l2) {
  const char* p = reinterpret_cast<const char*>(dataset + uint64_t(page) * 4);
  for (int l = 0; l < 4; ++l) prefetch_line(p + 64 * l, l2);
}

// Full mode: the page of access i of nonce n, prefetched as soon as it is known (it is read
// only after the other nonces of the group have taken their step).
inline uint32_t next_page(const BlockView& b, uint32_t n, uint32_t i, uint32_t mix_word) {
  const uint32_t page = page_index(b.pages, b.seeds[n].words[0], i, b.rows[i][n], mix_word);
  prefetch_page(b.dataset, page, b.prefetch_l2);
  return page;
}

// ---- shared by both paths: only the 8-lane keccak differs (a template argument, so each
// path calls its own kernel directly)

using KeccakX8 = void (*)(const uint8_t* const in[8], uint8_t* const out[8]);

// The seeds of nonces n0 .. n0+7 from their digests, then their first pages.
template <KeccakX8 keccak512_40>
void seeds_from_digests(const BlockView& b, uint32_t n0, const uint64_t digest[8]) {
  uint8_t in[8][40];
  const uint8_t* ip[8];
  uint8_t* op[8];
  for (uint32_t s = 0; s < 8; ++s) {
    std::memcpy(in[s], b.header, 32);
    std::memcpy(in[s] + 32, &digest[s], 8);
    ip[s] = in[s];
    op[s] = b.seeds[n0 + s].bytes;
  }
  keccak512_40(ip, op);
  for (uint32_t s = 0; s < 8; ++s) {
    const uint32_t seed0 = b.seeds[n0 + s].words[0];
    b.first_pages[n0 + s] = page_index(b.pages, seed0, 0, b.rows[0][n0 + s], seed0);
  }
}

// The final keccaks of `group` nonces from n0, 8 at a time.
template <KeccakX8 keccak256_96>
void finish_group(const BlockView& b, uint32_t n0, uint32_t (*mix)[64], uint32_t group, uint8_t (*out)[32]) {
  for (uint32_t g0 = 0; g0 < group; g0 += 8) {
    uint8_t in[8][96];
    const uint8_t* ip[8];
    uint8_t* op[8];
    for (uint32_t s = 0; s < 8; ++s) {
      final_input(b.seeds[n0 + g0 + s], mix[g0 + s], in[s]);
      ip[s] = in[s];
      op[s] = out[n0 + g0 + s];
    }
    keccak256_96(ip, op);
  }
}

// ---- portable versions (any CPU)

void seeds_portable(const BlockView& b, uint32_t count) {
  for (uint32_t n0 = 0; n0 < count; n0 += 8) {
    uint64_t digest[8] = {0};
    for (uint32_t s = 0; s < 8; ++s)
      for (uint32_t i = 0; i < kAccesses; ++i) digest[s] = fnv64(digest[s], b.rows[i][n0 + s]);
    seeds_from_digests<keccak512_40_x8_portable>(b, n0, digest);
  }
}

void finish_group_portable(const BlockView& b, uint32_t n0, uint32_t (*mix)[64], uint32_t group, uint8_t (*out)[32]) {
  finish_group<keccak256_96_x8_portable>(b, n0, mix, group, out);
}

void init_mix(const Node& seed, uint32_t mix[64]) {
  for (int n = 0; n < 4; ++n) std::memcpy(mix + 16 * n, seed.words, 64);
}

inline void fnv_page(uint32_t mix[64], const Node* items) {
  for (int n = 0; n < 4; ++n)
    for (int w = 0; w < 16; ++w) mix[n * 16 + w] = fnv(mix[n * 16 + w], items[n].words[w]);
}

// The walk of `count` nonces (a multiple of kFullGroup). Returns how many were hashed: whole
// groups, fewer than `count` when `abort` fired (it is looked at between groups, ~0.1 ms apart).
uint32_t walk_full_portable(const BlockView& b, uint32_t count, uint8_t (*out)[32], const AbortCheck& abort) {
  alignas(64) uint32_t mix[kFullGroup][64];
  uint32_t page[kFullGroup];
  for (uint32_t n0 = 0; n0 < count; n0 += kFullGroup) {
    if (n0 > 0 && abort.now()) return n0;
    for (uint32_t g = 0; g < kFullGroup; ++g) {
      init_mix(b.seeds[n0 + g], mix[g]);
      page[g] = b.first_pages[n0 + g];
    }
    for (uint32_t i = 0; i < kAccesses; ++i) {
      for (uint32_t g = 0; g < kFullGroup; ++g) {
        fnv_page(mix[g], b.dataset + uint64_t(page[g]) * 4);
        if (i + 1 < kAccesses) page[g] = next_page(b, n0 + g, i + 1, mix[g][i + 1]);
      }
    }
    finish_group_portable(b, n0, mix, kFullGroup, out);
  }
  return count;
}

#if CFX_HAVE_AVX512_KERNELS

// Digests of 8 nonces at once (fnv64 in 64-bit lanes), then the seeds, then their first pages.
CFX_TARGET_AVX512 void seeds_avx512(const BlockView& b, uint32_t count) {
  const __m512i prime = _mm512_set1_epi64(0x01000193);
  for (uint32_t n0 = 0; n0 < count; n0 += 8) {
    __m512i digest = _mm512_setzero_si512();
    for (uint32_t i = 0; i < kAccesses; ++i) {
      const __m512i v = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.rows[i] + n0)));
      digest = _mm512_xor_si512(_mm512_mullo_epi64(digest, prime), v);
    }
    alignas(64) uint64_t d[8];
    _mm512_store_si512(d, digest);
    seeds_from_digests<keccak512_40_x8_avx512>(b, n0, d);
  }
}

void finish_group_avx512(const BlockView& b, uint32_t n0, uint32_t (*mix)[64], uint32_t group, uint8_t (*out)[32]) {
  finish_group<keccak256_96_x8_avx512>(b, n0, mix, group, out);
}

// One access of one nonce: the 256-byte page folded into the mix, 16 words per instruction.
CFX_TARGET_AVX512 __attribute__((always_inline)) inline void fnv_page_avx512(uint32_t mix[64], const Node* items) {
  const __m512i prime = _mm512_set1_epi32(0x01000193);
  __m512i* m = reinterpret_cast<__m512i*>(mix);
  const __m512i* it = reinterpret_cast<const __m512i*>(items);
  for (int q = 0; q < 4; ++q)
    _mm512_store_si512(m + q, _mm512_xor_si512(_mm512_mullo_epi32(_mm512_load_si512(m + q), prime),
                                               _mm512_load_si512(it + q)));
}

CFX_TARGET_AVX512 uint32_t walk_full_avx512(const BlockView& b, uint32_t count, uint8_t (*out)[32],
                                            const AbortCheck& abort) {
  alignas(64) uint32_t mix[kFullGroup][64];
  uint32_t page[kFullGroup];
  for (uint32_t g = 0; g < kFullGroup && g < count; ++g) prefetch_page(b.dataset, b.first_pages[g], b.prefetch_l2);
  for (uint32_t n0 = 0; n0 < count; n0 += kFullGroup) {
    if (n0 > 0 && abort.now()) return n0;
    for (uint32_t g = 0; g < kFullGroup; ++g) {
      const __m512i seed = _mm512_load_si512(b.seeds + n0 + g);
      for (int q = 0; q < 4; ++q) _mm512_store_si512(reinterpret_cast<__m512i*>(mix[g]) + q, seed);
      page[g] = b.first_pages[n0 + g];
    }
    const bool more = n0 + kFullGroup < count;
    for (uint32_t i = 0; i < kAccesses; ++i) {
      for (uint32_t g = 0; g < kFullGroup; ++g) {
        fnv_page_avx512(mix[g], b.dataset + uint64_t(page[g]) * 4);
        if (i + 1 < kAccesses) {
          // mix[g][i + 1] was just stored as part of a vector: store-to-load forwarding.
          page[g] = next_page(b, n0 + g, i + 1, mix[g][i + 1]);
        } else if (more) {
          // The next group's first pages, so its walk does not start cold.
          prefetch_page(b.dataset, b.first_pages[n0 + kFullGroup + g], b.prefetch_l2);
        }
      }
    }
    finish_group_avx512(b, n0, mix, kFullGroup, out);
  }
  return count;
}

#endif  // CFX_HAVE_AVX512_KERNELS

}  // namespace

struct OctopusBatcher::Impl {
  Impl(const OctopusJob& j, const Cache* c, const Node* d, uint64_t bytes)
      : job(j),
        cache(c),
        dataset(d),
        dataset_bytes(bytes),
        avx512(cpu_has_avx512()),
        prefetch_l2(cpu_prefetch_to_l2()),
        block(d ? (avx512 ? kFullBlock : kFullBlockPortable) : kLightBlock),
        // AMX in full mode only: its tables cost ~0.2-0.3 ms a job and thread, and light mode's
        // polynomial is ~0.5% of a light hash (the tiles save ~40 us of a 12 ms block): with a
        // job every 25-50 ms the tables would cost more than they save.
        poly(j, block / kWarp, avx512, d != nullptr && cpu_has_amx()),
        pages(static_cast<uint32_t>(bytes / kPageBytes)),
        seeds(alloc_aligned<Node>(block)),
        first_pages(alloc_aligned<uint32_t>(block)) {
    if (!dataset && cache) cache_prefer_huge_pages(*cache);
  }

  BlockView view() const {
    BlockView b;
    b.header = job.header;
    for (uint32_t i = 0; i < kAccesses; ++i) b.rows[i] = poly.values_row(i);
    b.seeds = seeds.get();
    b.first_pages = first_pages.get();
    b.dataset = dataset;
    b.pages = pages;
    b.prefetch_l2 = prefetch_l2;
    return b;
  }

  uint32_t hash_full(uint64_t first, uint32_t count, uint8_t (*out)[32], const AbortCheck& abort);
  uint32_t hash_light(uint64_t first, uint32_t count, uint8_t (*out)[32], const AbortCheck& abort);
  // Steps 2-4 for both modes: the block's polynomial values in slices of `slice` accesses, with a
  // look for a new job before each, then the seeds and first pages; the view of them in *b.
  // False, with nothing to hash, when `abort` fired.
  bool values_and_seeds(uint64_t first, uint32_t count, uint32_t slice, const AbortCheck& abort, BlockView* b);

  const OctopusJob& job;
  const Cache* cache;
  const Node* dataset;
  uint64_t dataset_bytes;
  bool avx512;  // chosen once for this batcher's kernels (every path gives the same bits)
  bool prefetch_l2;
  uint32_t block;
  PolyBatch poly;
  FastMod32 pages;
  AlignedArray<Node> seeds;
  AlignedArray<uint32_t> first_pages;
};

uint32_t OctopusBatcher::Impl::hash_full(uint64_t first, uint32_t count, uint8_t (*out)[32],
                                         const AbortCheck& abort) {
  // A block is 2-5 ms per thread: it looks for a new job between slices of the polynomial step
  // and between the walk's groups of 32 nonces (each ~0.1 ms), so a switch does not wait for the
  // block's end.
  BlockView b;
  if (!values_and_seeds(first, count, kFullPolySlice, abort, &b)) return 0;
#if CFX_HAVE_AVX512_KERNELS
  if (avx512) return walk_full_avx512(b, count, out, abort);
#endif
  return walk_full_portable(b, count, out, abort);
}

bool OctopusBatcher::Impl::values_and_seeds(uint64_t first, uint32_t count, uint32_t slice, const AbortCheck& abort,
                                            BlockView* b) {
  poly.load_warps(first / kWarp, count / kWarp);
  for (uint32_t i = 0; i < kAccesses; i += slice) {
    if (abort.now()) return false;
    poly.evaluate(i, std::min(i + slice, kAccesses));
  }
  *b = view();
#if CFX_HAVE_AVX512_KERNELS
  if (avx512) {
    seeds_avx512(*b, count);
    return true;
  }
#endif
  seeds_portable(*b, count);
  return true;
}

uint32_t OctopusBatcher::Impl::hash_light(uint64_t first, uint32_t count, uint8_t (*out)[32],
                                          const AbortCheck& abort) {
  // A light hash costs hundreds of microseconds even batched: look for a new job between slices
  // of the polynomial step, before every round of item computations and inside them
  // (dag_items_batch watches the generation every 32 parent steps, ~20 us).
  BlockView b;
  if (!values_and_seeds(first, count, kLightPolySlice, abort, &b)) return 0;
  alignas(64) uint32_t mix[kLightGroup][64];
  uint32_t idx[kLightGroup * 4];
  alignas(64) Node items[kLightGroup * 4];
  for (uint32_t n0 = 0; n0 < count; n0 += kLightGroup) {
    for (uint32_t g = 0; g < kLightGroup; ++g) init_mix(b.seeds[n0 + g], mix[g]);
    for (uint32_t i = 0; i < kAccesses; ++i) {
      if (abort.now()) return n0;  // only whole groups count as hashed
      for (uint32_t g = 0; g < kLightGroup; ++g) {
        const uint32_t n = n0 + g;
        const uint32_t page = page_index(pages, b.seeds[n].words[0], i, b.rows[i][n], mix[g][i]);
        for (uint32_t t = 0; t < 4; ++t) idx[4 * g + t] = page * 4 + t;
      }
      if (!dag_items_batch(*cache, idx, kLightGroup * 4, items, abort.generation, abort.mine)) return n0;
      for (uint32_t g = 0; g < kLightGroup; ++g) fnv_page(mix[g], items + 4 * g);
    }
#if CFX_HAVE_AVX512_KERNELS
    if (avx512) {
      finish_group_avx512(b, n0, mix, kLightGroup, out);
      continue;
    }
#endif
    finish_group_portable(b, n0, mix, kLightGroup, out);
  }
  return count;
}

OctopusBatcher::OctopusBatcher(const OctopusJob& job, const Cache* cache, const Node* dataset, uint64_t dataset_bytes)
    : impl_(new Impl(job, cache, dataset, dataset_bytes)) {}

OctopusBatcher::~OctopusBatcher() = default;

uint32_t OctopusBatcher::block_nonces() const { return impl_->block; }

uint32_t OctopusBatcher::hash(uint64_t first, uint32_t count, uint8_t (*out)[32], const AbortCheck& abort) {
  Impl& s = *impl_;
  // The contract (octopus_batch.h): whole warps, at most one block, never across 2^64 (the
  // caller wraps between blocks). Anything else hashes nothing rather than wrong nonces.
  if (first % kWarp != 0 || count % kWarp != 0) return 0;
  count = std::min(count, s.block);
  if (count == 0) return 0;
  if (first + count - 1 < first) count = static_cast<uint32_t>(0 - first);  // clip at 2^64 - 1
  return s.dataset ? s.hash_full(first, count, out, abort) : s.hash_light(first, count, out, abort);
}

}  // namespace cfx
