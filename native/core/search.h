// The nonce search on native worker threads (STYLE.md, "The search engine, in one paragraph").
//
// One job slot plus a generation counter. start() publishes a job under a new generation and
// returns only once every thread has acknowledged it, so after start() (or pause()) returns no
// thread hashes the old job. Threads reserve nonce blocks from one shared counter; solutions are
// queued with the generation they were found under, and the consumer drops stale ones.
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
};

class SearchEngine {
 public:
  // `on_solution` is called from a search thread when the solution queue goes from empty to
  // non-empty (one wake-up per burst, never per hash); it must be thread-safe and quick.
  SearchEngine(unsigned threads, std::function<void()> on_solution);
  ~SearchEngine();  // shutdown()
  SearchEngine(const SearchEngine&) = delete;
  SearchEngine& operator=(const SearchEngine&) = delete;

  // Switches every thread to `job`; returns its generation (> 0) once no thread works on an
  // older one. Throws std::invalid_argument for an unusable job.
  uint64_t start(const SearchJob& job);
  // Leaves the threads idle (generation 0 is "no job"); returns once none is hashing.
  void pause();
  // Stops and joins every thread. Idempotent.
  void shutdown();

  std::vector<Solution> take_solutions();
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  unsigned thread_count() const { return static_cast<unsigned>(workers_.size()); }
  uint64_t total_hashes() const;
  std::vector<uint64_t> thread_hashes() const;

 private:
  struct Worker;
  void run(Worker* self);
  uint64_t publish(std::shared_ptr<JobState> job);
  bool push_solution(uint64_t generation, uint64_t nonce, const uint8_t hash[32]);

  std::vector<std::unique_ptr<Worker>> workers_;
  std::function<void()> on_solution_;

  std::mutex mu_;                      // guards job_, shutting_down_; pairs with the two condvars
  std::condition_variable job_cv_;     // workers wait here for a job
  std::condition_variable ack_cv_;     // start()/pause() wait here for acknowledgements
  std::shared_ptr<JobState> job_;  // null: no job (paused)
  bool shutting_down_ = false;
  std::atomic<uint64_t> generation_{0};
  uint64_t last_generation_ = 0;       // under mu_: generations are never reused

  std::mutex solutions_mu_;
  std::vector<Solution> solutions_;
};

}  // namespace cfx
