#include "dag.h"

#include <sys/mman.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "keccak.h"
#include "params.h"

namespace cfx {
namespace {

constexpr uint64_t kProgressStep = 1 << 16;

void xor_nodes(const Node& a, const Node& b, Node* out) {
  for (int i = 0; i < 8; ++i) out->dwords[i] = a.dwords[i] ^ b.dwords[i];
}

// N DAG items computed with their parent chains interleaved (each chain is serial, the N
// chains are independent), so up to N cache misses are outstanding at a time.
template <int N>
void dag_items(const Cache& cache, const uint32_t* indices, Node* out) {
  const Node* nodes = cache.nodes();
  const uint32_t n = static_cast<uint32_t>(cache.node_count());
  Node mix[N];
  for (int m = 0; m < N; ++m) {
    mix[m] = nodes[indices[m] % n];
    mix[m].words[0] ^= indices[m];
    keccak512_64(mix[m].bytes, mix[m].bytes);
  }
  for (uint32_t k = 0; k < kDagParents; ++k) {
    for (int m = 0; m < N; ++m) {
      const uint32_t parent = fnv(indices[m] ^ k, mix[m].words[k % 16]) % n;
      const Node& p = nodes[parent];
      for (int w = 0; w < 16; ++w) mix[m].words[w] = fnv(mix[m].words[w], p.words[w]);
    }
  }
  for (int m = 0; m < N; ++m) {
    keccak512_64(mix[m].bytes, mix[m].bytes);
    out[m] = mix[m];
  }
}

std::string read_thp_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  std::getline(f, s);
  return s;
}

}  // namespace

std::shared_ptr<Cache> Cache::build(uint64_t stage, const ProgressFn& progress, const CancelFlag* cancel) {
  auto cache = std::make_shared<Cache>();
  cache->stage_ = stage;
  const uint64_t n = cache_bytes_for_stage(stage) / sizeof(Node);
  cache->count_ = n;
  cache->nodes_.reset(new Node[n]);  // throws std::bad_alloc when memory is short
  Node* nodes = cache->nodes_.get();
  seed_for_stage(stage, cache->seed_);

  const uint64_t total = n * (1 + kCacheRounds);
  uint64_t done = 0;
  auto tick = [&]() {
    if (++done % kProgressStep == 0) {
      if (cancel && cancel->is_set()) throw std::runtime_error("cancelled");
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

Dataset::Dataset(uint64_t bytes, uint64_t stage, bool try_huge_pages) : bytes_(bytes), stage_(stage) {
  if (bytes == 0 || bytes % kPageBytes != 0) throw std::invalid_argument("dataset size must be a positive multiple of 256");
  constexpr uint64_t kHuge = 2ULL << 20;
  map_bytes_ = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = MAP_FAILED;
#ifdef MAP_HUGETLB
  if (try_huge_pages) {
    p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) huge_ = HugePages::kExplicit;
  }
#endif
  if (p == MAP_FAILED) {
    p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (try_huge_pages && madvise(p, map_bytes_, MADV_HUGEPAGE) == 0) {
      const std::string mode = read_thp_mode();
      if (mode.find("[always]") != std::string::npos || mode.find("[madvise]") != std::string::npos)
        huge_ = HugePages::kTransparent;
    }
#endif
  }
  items_ = static_cast<Node*>(p);
}

Dataset::~Dataset() {
  if (items_) munmap(items_, map_bytes_);
}

void Dataset::generate_range(const Cache& cache, uint64_t first, uint64_t count) {
  uint64_t i = first;
  const uint64_t end = first + count;
  for (; i + 4 <= end; i += 4) {
    const uint32_t idx[4] = {uint32_t(i), uint32_t(i + 1), uint32_t(i + 2), uint32_t(i + 3)};
    dag_items<4>(cache, idx, items_ + i);
  }
  for (; i < end; ++i) dag_item(cache, static_cast<uint32_t>(i), items_ + i);
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
  if (cancel && cancel->is_set() && done.load() < total) throw std::runtime_error("cancelled");
  if (progress) progress(total, total);
}

}  // namespace cfx
