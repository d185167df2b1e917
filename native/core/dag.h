// The per-stage cache and the dataset (DAG) built from it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <stdexcept>

namespace cfx {

union alignas(64) Node {
  uint8_t bytes[64];
  uint32_t words[16];
  uint64_t dwords[8];
};
static_assert(sizeof(Node) == 64, "a node is 64 bytes");

// Called with (done, total) from the building thread(s); may be empty.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// Anything that can ask a long computation to give up. Builds poll it between chunks.
struct CancelFlag {
  std::atomic<bool> cancelled{false};
  bool is_set() const { return cancelled.load(std::memory_order_relaxed); }  // a hint; no data rides on it
};

// What a build throws when its CancelFlag was set: its own type, so the binding tells a
// cancellation from a failure without reading the message.
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

// Frees a node array that was mapped with mmap.
struct NodeUnmap {
  uint64_t bytes = 0;
  void operator()(Node* p) const;
};

class Cache {
 public:
  // Builds the cache for `stage`. Throws std::bad_alloc when memory is short and
  // Cancelled when `cancel` is set during the build.
  static std::shared_ptr<Cache> build(uint64_t stage, const ProgressFn& progress = {},
                                      const CancelFlag* cancel = nullptr);
  // A cache of `node_count` nodes (>= 1) made by the same algorithm from `stage`'s seed: not
  // any stage's real cache, but a small one that builds in microseconds, for the self-test.
  static std::shared_ptr<Cache> build_small(uint64_t stage, uint64_t node_count);

  uint64_t stage() const { return stage_; }
  uint64_t node_count() const { return count_; }
  uint64_t bytes() const { return count_ * sizeof(Node); }
  const Node* nodes() const { return nodes_.get(); }
  const uint8_t* seed() const { return seed_; }

 private:
  static std::shared_ptr<Cache> build_nodes(uint64_t stage, uint64_t node_count, const ProgressFn& progress,
                                            const CancelFlag* cancel);
  uint64_t stage_ = 0;
  uint64_t count_ = 0;
  uint8_t seed_[32] = {0};
  // The nodes live in a mapping of their own, given back to the OS when the cache goes: from
  // the heap, caches of a node that changed stage every second kept ~10 MiB of RSS each after
  // they were freed (malloc's mmap threshold rises to the size of a freed block, so the next
  // cache came from an arena that kept the pages).
  std::unique_ptr<Node[], NodeUnmap> nodes_;
};

// DAG item `index` computed from the cache (OCTOPUS.md, "DAG item i").
void dag_item(const Cache& cache, uint32_t index, Node* out);

// Four consecutive DAG items (one mix page) computed together; their parent reads are
// independent, so interleaving them keeps four cache misses in flight instead of one.
void dag_page(const Cache& cache, uint32_t first_index, Node out[4]);

// x % d for 32-bit x and a fixed divisor d >= 1, by two multiplications instead of a division
// (Lemire, Kaser, Kurz, "Faster remainder by direct computation", 2019: exact for all 32-bit x
// and d). The parent and page reductions sit on the dependent chain of every access.
struct FastMod32 {
  uint64_t m = 0;
  uint32_t d = 1;
  FastMod32() = default;
  explicit FastMod32(uint32_t divisor) : m(~uint64_t(0) / divisor + 1), d(divisor) {}
  uint32_t mod(uint32_t x) const {
    return static_cast<uint32_t>((static_cast<unsigned __int128>(m * x) * d) >> 64);
  }
};

// DAG items for `count` arbitrary indices (out[i] = dag_item(indices[i])), many parent chains
// interleaved (up to 128 with AVX-512, 64 otherwise) and the keccaks 8 lanes at a time.
// The light hash and Dataset::generate_range use it. With `watch` set it gives up early,
// every 32 parent steps (~20 us for a pass of 128 items), once *watch != expect (the search
// engine's job generation, read with acquire like AbortCheck): it then returns false and `out`
// is unspecified.
bool dag_items_batch(const Cache& cache, const uint32_t* indices, size_t count, Node* out,
                     const std::atomic<uint64_t>* watch = nullptr, uint64_t expect = 0);

// Asks the kernel to move the cache's nodes that still sit on 4 KiB pages to 2 MiB pages
// (MADV_COLLAPSE, Linux >= 6.1; the mapping is already marked MADV_HUGEPAGE when it is made). Parent reads land at random over 16 MiB: in 4 KiB pages
// nearly every one also misses the TLB (measured: DAG items ~2.5x faster on 2 MiB pages).
// Changes no byte and is safe while other threads read the cache; does the work once per cache
// (later calls return at once) and nothing where unsupported. Dataset::generate_range and the
// light-mode batcher call it.
void cache_prefer_huge_pages(const Cache& cache);

// What /proc/self/smaps says of the address range [begin, end): `covered` bytes of it lie in
// mappings, `anon_huge` bytes of those are on transparent huge pages (AnonHugePages). A mapping
// that reaches past the range (the kernel merges neighbours with the same flags) counts in
// proportion to its overlap. Reads up to the first mapping at or past `end` (the file is sorted
// by address) and no further; parses text only, so tests give it captured smaps.
struct SmapsRange {
  uint64_t covered = 0;
  uint64_t anon_huge = 0;
};
SmapsRange smaps_range(std::istream& smaps, uintptr_t begin, uintptr_t end);

// Dataset memory: one anonymous mapping, huge pages where the system gives them.
class Dataset {
 public:
  // kExplicit1G: 1 GiB hugetlb pages; kExplicit: 2 MiB hugetlb pages (both reserved by the admin).
  enum class HugePages { kNone, kTransparent, kExplicit, kExplicit1G };

  // Reserves `bytes` (a multiple of 256); pages stay untouched until written (tests fill only
  // some items). `try_huge_pages` asks for explicit 1 GiB pages (the size rounded up to whole
  // ones), then explicit 2 MiB pages, then transparent huge pages (MADV_HUGEPAGE on a 2 MiB
  // aligned mapping); false maps plain pages and asks for no transparent ones either
  // (MADV_NOHUGEPAGE). Throws std::bad_alloc when the mapping fails.
  explicit Dataset(uint64_t bytes, uint64_t stage, bool try_huge_pages = true);
  ~Dataset();
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;

  // Computes every item from `cache` on `threads` threads. Throws Cancelled.
  void generate(const Cache& cache, unsigned threads, const ProgressFn& progress = {},
                const CancelFlag* cancel = nullptr);
  // Computes items [first, first + count) on the calling thread (also used by tests).
  void generate_range(const Cache& cache, uint64_t first, uint64_t count);

  uint64_t bytes() const { return bytes_; }
  uint64_t item_count() const { return bytes_ / sizeof(Node); }
  uint64_t stage() const { return stage_; }
  HugePages huge_pages() const { return huge_; }
  // The share of the mapping the kernel backs with huge pages: 1 for explicit pages; otherwise
  // AnonHugePages / mapping size from /proc/self/smaps (after a build every page is touched, so
  // this is the share on 2 MiB pages; a partly written test dataset reads lower), 0 where smaps
  // cannot be read. Costs one pass over smaps up to the mapping: call it once after the build
  // and then seldom (khugepaged may collapse pages later), not per scrape.
  double huge_pages_fraction() const;
  const Node* items() const { return items_; }
  Node* mutable_items() { return items_; }

 private:
  uint64_t bytes_;
  uint64_t map_bytes_;
  uint64_t stage_;
  HugePages huge_ = HugePages::kNone;
  Node* items_ = nullptr;
};

// The kind's name as the addon and the bench report it: "explicit-1g", "explicit", "transparent"
// or "none" (tools parse these: add, never rename).
const char* huge_pages_name(Dataset::HugePages kind);

}  // namespace cfx
