#include "search.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu.h"
#include "keccak_x8.h"
#include "octopus.h"
#include "octopus_batch.h"

namespace cfx {
namespace {

// Every block size below divides this, and job start nonces are aligned to it, so no block
// ever crosses 2^64 and Octopus blocks always start on a warp boundary.
constexpr uint64_t kNonceAlign = 1024;
// Keccak blocks: ~0.15-0.2 ms per thread either way (8-lane AVX-512 ~7 M/s, the portable 8 x
// scalar ~1.5 M/s): the block bounds how long a thread keeps hashing a replaced job.
constexpr uint32_t kKeccakBlockAvx512 = 1024;
constexpr uint32_t kKeccakBlockPortable = 256;

// The hash's top 64 bits, read big-endian: the word every filter below compares.
inline uint64_t top_word(const uint8_t hash[32]) {
  uint64_t top = 0;
  for (int i = 0; i < 8; ++i) top = (top << 8) | hash[i];
  return top;
}

// hash < boundary with the hash read big-endian; the top word decides almost always.
inline bool below_boundary(const uint8_t hash[32], const U256& boundary) {
  const uint64_t top = top_word(hash);
  if (top != boundary.limb[3]) return top < boundary.limb[3];
  return u256_less(u256_from_be(hash), boundary);
}

// The loops' one compare per hash: a hash whose top word passes this is a solution or a share.
// The share difficulty never exceeds the job's (the miner caps it), so this is usually the share
// limit; taking the larger keeps every solution whatever the caller set.
inline uint64_t hit_filter(const U256& boundary, uint32_t share_bits) {
  return std::max(boundary.limb[3], share_top_max(share_bits));
}

// The keccak test PoW kernel (8 nonces a call) and its block size, chosen at run time.
struct KeccakSearchPath {
  uint32_t (*hash8)(const uint64_t header_words[4], uint64_t first, uint64_t top_limit, uint8_t out[8][32]);
  uint32_t block;
};

KeccakSearchPath keccak_search_path() {
  if (cpu_has_avx512()) return {keccak_pow_x8_avx512, kKeccakBlockAvx512};
  return {keccak_pow_x8_portable, kKeccakBlockPortable};
}

static_assert(kNonceAlign % kKeccakBlockAvx512 == 0 && kNonceAlign % kKeccakBlockPortable == 0,
              "keccak blocks never cross 2^64");
static_assert(kKeccakBlockAvx512 % 8 == 0 && kKeccakBlockPortable % 8 == 0, "whole 8-lane calls");

}  // namespace

struct SearchEngine::Worker {
  std::thread thread;
  std::atomic<uint64_t> hashes{0};  // relaxed: a statistic; readers want a recent value, not an ordering
  // Written under mu_ (so wait_switched's predicate sees it); atomic so slowest_generation() can
  // read it without the lock, where a slightly old value is fine.
  std::atomic<uint64_t> acked{0};
  int64_t acked_ns = 0;  // under mu_: when `acked` last changed (steady_clock)
};

// One published job and its shared nonce counter.
struct JobState {
  SearchJob job;
  std::atomic<uint64_t> next_nonce{0};  // relaxed fetch_add: the RMW order alone makes the blocks disjoint
  // The per-header precomputation, shared read-only by all threads. The first thread to take the
  // job builds it (call_once also publishes it to the others), so start() on the caller's event
  // loop does not.
  const OctopusJob& octopus() {
    std::call_once(octopus_once, [this] { octopus_job.reset(new OctopusJob(job.header)); });
    return *octopus_job;
  }

 private:
  std::once_flag octopus_once;
  std::unique_ptr<OctopusJob> octopus_job;
};

SearchEngine::SearchEngine(unsigned threads, std::function<void()> on_solution) : on_solution_(std::move(on_solution)) {
  if (threads == 0 || threads > kMaxThreads)
    throw std::invalid_argument("threads must be 1 to " + std::to_string(kMaxThreads));
  workers_.reserve(threads);
  try {
    for (unsigned i = 0; i < threads; ++i) {
      workers_.emplace_back(new Worker());
      Worker* w = workers_.back().get();
      w->thread = std::thread([this, w] { run(w); });
    }
  } catch (...) {
    shutdown();
    throw;
  }
}

SearchEngine::~SearchEngine() { shutdown(); }

uint64_t SearchEngine::start(const SearchJob& spec) {
  if (u256_is_zero(spec.boundary)) throw std::invalid_argument("boundary must not be 0");
  auto state = std::make_shared<JobState>();
  state->job = spec;
  state->next_nonce.store(spec.start_nonce / kNonceAlign * kNonceAlign, std::memory_order_relaxed);
  if (spec.algo == Algo::kOctopus) {
    if (!spec.cache) throw std::invalid_argument("octopus needs a cache");
    const uint64_t bytes = spec.dataset ? spec.dataset->bytes() : spec.dataset_bytes;
    if (bytes == 0 || bytes % kPageBytes != 0 || bytes / kPageBytes > 0xffffffffULL)
      throw std::invalid_argument("dataset size must be a positive multiple of 256 below 1 TiB");
    state->job.dataset_bytes = bytes;
  }
  // The job is fully built before publish() makes it reachable, so workers only ever read it.
  return publish(std::move(state));
}

void SearchEngine::pause() { publish(nullptr); }

uint64_t SearchEngine::publish(std::shared_ptr<JobState> job) {
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) throw std::logic_error("search engine is shut down");
    gen = job ? ++last_generation_ : 0;
    job_ = std::move(job);
    // release: a thread that acquires this number in its hot loop (AbortCheck::now) stops the
    // batch in hand; it then takes job_ under mu_, so the job itself needs no ordering of its own.
    generation_.store(gen, std::memory_order_release);
  }
  job_cv_.notify_all();
  return gen;
}

int64_t SearchEngine::last_ack_ns(uint64_t gen) const {
  int64_t last = -1;
  for (const auto& w : workers_) {
    if (w->acked.load(std::memory_order_relaxed) != gen) return -1;
    last = std::max(last, w->acked_ns);
  }
  return last;
}

#ifdef CFX_CORE_TEST_HOOKS
bool SearchEngine::wait_switched(uint64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return ack_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                          [&] { return last_ack_ns(generation_.load(std::memory_order_relaxed)) >= 0; });
}
#endif

int64_t SearchEngine::switched_at_ns(uint64_t gen) {
  std::lock_guard<std::mutex> lock(mu_);
  return last_ack_ns(gen);
}

uint64_t SearchEngine::slowest_generation() const {
  uint64_t slowest = UINT64_MAX;
  for (const auto& w : workers_) {
    const uint64_t a = w->acked.load(std::memory_order_relaxed);
    // generation 0 (paused) counts as the newest: a paused thread works on nothing old
    if (a != 0) slowest = std::min(slowest, a);
  }
  return slowest == UINT64_MAX ? generation() : slowest;
}

void SearchEngine::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    job_.reset();
    generation_.store(0, std::memory_order_release);  // hot loops see a change and stop
  }
  job_cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  // Nothing takes solutions or shares after a stop: what is still queued was found under a job
  // that generation 0 replaced, and is counted so (as take_solutions() would have), so every
  // solution found ends up handed over or counted. Without this, a difficulty-1 run's books
  // missed up to kMaxQueuedSolutions at every stop.
  std::lock_guard<std::mutex> lock(solutions_mu_);
  dropped_stale_.fetch_add(solutions_.size(), std::memory_order_relaxed);
  dropped_shares_.fetch_add(shares_.size(), std::memory_order_relaxed);
  solutions_.clear();
  shares_.clear();
  queued_.store(0, std::memory_order_relaxed);
}

std::vector<Solution> SearchEngine::take_solutions() {
  std::vector<Solution> queued;
  {
    std::lock_guard<std::mutex> lock(solutions_mu_);
    queued.swap(solutions_);
    queued_.store(0, std::memory_order_relaxed);
  }
  // acquire: pairs with publish(); a solution of the generation read here was found under it.
  const uint64_t current = generation_.load(std::memory_order_acquire);
  std::vector<Solution> out;
  out.reserve(queued.size());
  for (const auto& s : queued) {
    if (s.generation == current) out.push_back(s);
  }
  dropped_stale_.fetch_add(queued.size() - out.size(), std::memory_order_relaxed);
  return out;
}

uint64_t SearchEngine::total_hashes() const {
  uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->hashes.load(std::memory_order_relaxed);
  return sum;
}

std::vector<uint64_t> SearchEngine::thread_hashes() const {
  std::vector<uint64_t> out;
  for (const auto& w : workers_) out.push_back(w->hashes.load(std::memory_order_relaxed));
  return out;
}

void SearchEngine::set_share_bits(uint32_t bits) {
  share_bits_.store(std::min(bits, kMaxShareBits), std::memory_order_relaxed);
}

std::vector<Solution> SearchEngine::take_shares() {
  std::vector<Solution> out;
  std::lock_guard<std::mutex> lock(solutions_mu_);
  out.swap(shares_);
  return out;
}

void SearchEngine::found(uint64_t generation, uint64_t nonce, const uint8_t hash[32], const U256& boundary,
                         uint32_t bits) {
  if (below_boundary(hash, boundary)) {
    push_solution(generation, nonce, hash, bits);  // a solution is a share too: the consumer counts it as one
  } else if (top_word(hash) <= share_top_max(bits)) {
    push_share(generation, nonce, hash, bits);
  }
}

void SearchEngine::push_share(uint64_t generation, uint64_t nonce, const uint8_t hash[32], uint32_t share_bits) {
  enqueue(shares_, kMaxQueuedShares, dropped_shares_, {generation, nonce, hash, share_bits});
}

bool SearchEngine::enqueue(std::vector<Solution>& queue, size_t cap, std::atomic<uint64_t>& dropped, const Found& f) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(solutions_mu_);
    if (queue.size() >= cap) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // One wake-up per burst: the consumer drains both queues, everything queued, at every wake-up.
    wake = solutions_.empty() && shares_.empty();
    Solution s;
    s.generation = f.generation;
    s.nonce = f.nonce;
    std::memcpy(s.hash, f.hash, 32);
    s.share_bits = f.share_bits;
    queue.push_back(s);
    queued_.store(solutions_.size(), std::memory_order_relaxed);
  }
  if (wake && on_solution_) on_solution_();
  return true;
}

bool SearchEngine::push_solution(uint64_t generation, uint64_t nonce, const uint8_t hash[32], uint32_t share_bits) {
  // A full queue is the usual state at difficulty 1 (every hash a solution): decide that without
  // the lock, so the threads keep hashing instead of queueing on the mutex. relaxed: a stale
  // read only moves one solution between "queued" and "dropped", both counted.
  if (queued_.load(std::memory_order_relaxed) >= kMaxQueuedSolutions) {
    dropped_full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return enqueue(solutions_, kMaxQueuedSolutions, dropped_full_, {generation, nonce, hash, share_bits});
}

void SearchEngine::run(Worker* self) {
  // Search threads run below normal priority: the event loop that switches jobs and submits
  // solutions, a dataset build, and the rest of the machine come first; on an otherwise idle
  // machine this costs no hashes.
  lower_thread_priority();
  uint64_t adopted = 0;
  // The batcher of the job just left is freed after the acknowledgement: its tables go back to
  // the OS (munmap, a TLB shootdown on the other cores), which the switch need not wait for.
  std::unique_ptr<OctopusBatcher> left;
  for (;;) {
    std::shared_ptr<JobState> state;
    {
      std::unique_lock<std::mutex> lock(mu_);
      job_cv_.wait(lock, [&] { return shutting_down_ || generation_.load(std::memory_order_relaxed) != adopted; });
      if (shutting_down_) return;
      adopted = generation_.load(std::memory_order_relaxed);  // written under mu_, so relaxed is enough here
      state = job_;
      self->acked.store(adopted, std::memory_order_relaxed);  // under mu_: switched_at_ns reads it there
      self->acked_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch()).count();
    }
#ifdef CFX_CORE_TEST_HOOKS
    ack_cv_.notify_all();
#endif
    left.reset();
    if (!state) continue;  // paused: wait for the next job

    const SearchJob* job = &state->job;
    std::atomic<uint64_t>& next = state->next_nonce;
    const AbortCheck abort{&generation_, adopted};

    if (job->algo == Algo::kKeccak) {
      // 8 nonces per kernel call; the path is chosen once per job, like OctopusBatcher's.
      const KeccakSearchPath path = keccak_search_path();
      uint64_t header_words[4];
      std::memcpy(header_words, job->header, 32);  // the inner block's fixed lanes 0-3
      uint8_t hashes[8][32];
      while (!abort.now()) {
        // A hash whose top 64 bits exceed this can be neither a solution nor a share: only the
        // lanes that pass it leave the vector registers and get the full comparison.
        const uint32_t bits = share_bits_.load(std::memory_order_relaxed);
        const uint64_t top_limit = hit_filter(job->boundary, bits);
        const uint64_t first = next.fetch_add(path.block, std::memory_order_relaxed);
        // Counted before any of the block's solutions is queued (as below): whoever takes a
        // solution (under solutions_mu_) then sees its hash counted.
        self->hashes.fetch_add(path.block, std::memory_order_relaxed);
        for (uint32_t i = 0; i < path.block; i += 8) {
          for (uint32_t mask = path.hash8(header_words, first + i, top_limit, hashes); mask; mask &= mask - 1) {
            const unsigned lane = static_cast<unsigned>(__builtin_ctz(mask));
            found(adopted, first + i + lane, hashes[lane], job->boundary, bits);
          }
        }
      }
    } else {
      std::unique_ptr<OctopusBatcher> batcher(new OctopusBatcher(
          state->octopus(), job->cache.get(), job->dataset ? job->dataset->items() : nullptr, job->dataset_bytes));
      const uint32_t block = batcher->block_nonces();
      std::vector<uint8_t> hashes(size_t(block) * 32);
      auto* out = reinterpret_cast<uint8_t(*)[32]>(hashes.data());
      while (!abort.now()) {
        const uint64_t first = next.fetch_add(block, std::memory_order_relaxed);
        const uint32_t done = batcher->hash(first, block, out, abort);
        self->hashes.fetch_add(done, std::memory_order_relaxed);
        const uint32_t bits = share_bits_.load(std::memory_order_relaxed);
        const uint64_t filter = hit_filter(job->boundary, bits);
        for (uint32_t i = 0; i < done; ++i)
          if (top_word(out[i]) <= filter) found(adopted, first + i, out[i], job->boundary, bits);
      }
      left = std::move(batcher);
    }
  }
}

}  // namespace cfx
