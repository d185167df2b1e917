// The nonce search on native worker threads (STYLE.md, "The search engine, in one paragraph").
//
// One job slot plus a generation counter. start() publishes a job under a new generation and
// returns at once (xmrig's way: it never waits on the search threads, so a job switch cannot hold
// the caller's event loop); each thread notices the new generation at its next abort check, a
// fraction of a millisecond later, and abandons the batch in hand. Threads reserve nonce blocks
// from one shared counter; solutions are queued with the generation they were found under, and
// take_solutions() hands over only those of the current generation (the rest are counted).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dag.h"
#include "params.h"
#include "u256.h"

namespace cfx {

struct JobState;

enum class Algo { kOctopus, kKeccak };

struct SearchJob {
  Algo algo = Algo::kKeccak;
  uint8_t header[32] = {0};
  U256 boundary;             // a nonce is a solution when hash < boundary (top 128 nonce bits are 0)
  uint64_t start_nonce = 0;  // the first nonce handed out; blocks follow it (wrapping at 2^64)
  std::shared_ptr<const Cache> cache;      // Octopus: always (light mode computes items from it)
  std::shared_ptr<const Dataset> dataset;  // Octopus full mode; null means light mode
  uint64_t dataset_bytes = 0;              // Octopus: the dataset size the hash is defined over
};

struct Solution {
  uint64_t generation;
  uint64_t nonce;
  uint8_t hash[32];
  // The share difficulty (log2) in force when it was found; a solution meets it too.
  uint32_t share_bits;
};

// Internal shares: the search also reports hashes at a difficulty far below the job's (a power
// of two, 2^share_bits), so the miner can re-check its own kernels and count its real work while
// no block is found (README, "Self-checks"). hash < 2^256 / 2^k is exactly "the top 64 bits are
// below 2^(64-k)": one compare of the word the loops already compare with the boundary's.
// The bits run from 0 to kMaxShareBits (params.h).
inline uint64_t share_top_max(uint32_t bits) { return bits == 0 ? UINT64_MAX : (uint64_t(1) << (64 - bits)) - 1; }

class SearchEngine {
 public:
  // `on_solution` is called from a search thread when the solution queue goes from empty to
  // non-empty (one wake-up per burst, never per hash); it must be thread-safe and quick.
  SearchEngine(unsigned threads, std::function<void()> on_solution);
  ~SearchEngine();  // shutdown()
  SearchEngine(const SearchEngine&) = delete;
  SearchEngine& operator=(const SearchEngine&) = delete;

  // Publishes `job` and returns its generation (> 0) without waiting: threads switch at their
  // next abort check. Throws std::invalid_argument for an unusable job.
  uint64_t start(const SearchJob& job);
  // Leaves the threads idle (generation 0 is "no job"), again without waiting.
  void pause();
#ifdef CFX_CORE_TEST_HOOKS
  // The core tests' build only (native/test/Makefile): waits until every thread has switched to
  // the current generation (or `timeout_ms` passed); true when they all have. The product reads
  // switched_at_ns() after the fact instead and never waits.
  bool wait_switched(uint64_t timeout_ms);
#endif
  // When the last thread took generation `gen`, in std::chrono::steady_clock nanoseconds
  // (CLOCK_MONOTONIC on Linux, the clock of libuv's uv_hrtime), or -1 while some thread has not
  // (yet, or ever: a newer job came first). Never waits: a switch's latency, read after the fact.
  int64_t switched_at_ns(uint64_t gen);
  // The oldest generation any thread still works on (every thread is on the current one when
  // this equals generation()).
  uint64_t slowest_generation() const;
  // Stops and joins every thread, and counts what is still queued as dropped (stale solutions,
  // shares). Idempotent.
  void shutdown();

  // The queued solutions of the current generation; older ones are dropped here and counted.
  std::vector<Solution> take_solutions();
  // The queued shares, of any generation (a share of a replaced job is still work done on it).
  std::vector<Solution> take_shares();
  // Shares from now on are hashes below 2^256 / 2^bits (bits <= kMaxShareBits; 0 reports every
  // hash as a share). Threads read it once per block, so it applies within a block.
  void set_share_bits(uint32_t bits);
  uint32_t share_bits() const { return share_bits_.load(std::memory_order_relaxed); }
  // Shares dropped because their queue was full (kMaxQueuedShares).
  uint64_t dropped_shares() const { return dropped_shares_.load(std::memory_order_relaxed); }
  // Solutions of a replaced job dropped by take_solutions(), and solutions dropped because the
  // queue was full (kMaxQueuedSolutions), since the engine started.
  uint64_t dropped_stale() const { return dropped_stale_.load(std::memory_order_relaxed); }
  uint64_t dropped_full() const { return dropped_full_.load(std::memory_order_relaxed); }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  unsigned thread_count() const { return static_cast<unsigned>(workers_.size()); }
  uint64_t total_hashes() const;
  std::vector<uint64_t> thread_hashes() const;

 private:
  struct Worker;
  void run(Worker* self);
  // Under mu_: when the last thread took `gen`, or -1 while one has not (switched_at_ns's answer).
  int64_t last_ack_ns(uint64_t gen) const;
  uint64_t publish(std::shared_ptr<JobState> job);
  bool push_solution(uint64_t generation, uint64_t nonce, const uint8_t hash[32], uint32_t share_bits);
  void push_share(uint64_t generation, uint64_t nonce, const uint8_t hash[32], uint32_t share_bits);
  struct Found {
    uint64_t generation;
    uint64_t nonce;
    const uint8_t* hash;
    uint32_t share_bits;
  };
  // Queues `f` on `queue` (solutions_ or shares_) unless it holds `cap`, else counts it in
  // `dropped`; wakes the consumer when both queues were empty. True when queued.
  bool enqueue(std::vector<Solution>& queue, size_t cap, std::atomic<uint64_t>& dropped, const Found& f);
  // A hash whose top 64 bits (big-endian) are at most `filter` is a share or a solution: classify
  // and queue it. `filter` = max(the boundary's top word, share_top_max(bits)).
  void found(uint64_t generation, uint64_t nonce, const uint8_t hash[32], const U256& boundary, uint32_t bits);

  std::vector<std::unique_ptr<Worker>> workers_;
  std::function<void()> on_solution_;

  std::mutex mu_;                      // guards job_, shutting_down_, each worker's acked_ns; pairs with the condvars
  std::condition_variable job_cv_;     // workers wait here for a job
#ifdef CFX_CORE_TEST_HOOKS
  std::condition_variable ack_cv_;     // wait_switched() waits here for acknowledgements
#endif
  std::shared_ptr<JobState> job_;  // null: no job (paused)
  bool shutting_down_ = false;
  std::atomic<uint64_t> generation_{0};
  uint64_t last_generation_ = 0;       // under mu_: generations are never reused

  std::mutex solutions_mu_;
  std::vector<Solution> solutions_;
  // relaxed: statistics read by JS about once a second; no data is published through them.
  std::atomic<uint64_t> dropped_stale_{0};
  std::atomic<uint64_t> dropped_full_{0};
  std::atomic<size_t> queued_{0};  // solutions_.size(), readable without the lock
  std::vector<Solution> shares_;   // under solutions_mu_
  std::atomic<uint64_t> dropped_shares_{0};
  // relaxed: a setting read once per block; a thread that sees the old value for one more block
  // reports that block's shares at the old difficulty, and each share carries the bits it used.
  std::atomic<uint32_t> share_bits_{kMaxShareBits};
};

// The queue between the search threads and their consumer (JS). A consumer drains all of it at
// every wake-up, and the miner keeps at most a few dozen solutions in its own pipeline (the node
// makes one block per solution), so a longer queue would only hold solutions that are dropped
// later; at difficulty 1 every hash is a solution and the surplus is dropped (and counted) here.
constexpr size_t kMaxQueuedSolutions = 64;
// The share queue. The miner aims at about one share a second and drains at every wake-up; 32
// holds a burst while the share difficulty adapts to a hashrate far above its first guess,
// beyond which shares are dropped and counted (the books of solutions never depend on shares).
constexpr size_t kMaxQueuedShares = 32;

}  // namespace cfx
