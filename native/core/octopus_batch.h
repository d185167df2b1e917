// Octopus over many nonces at once: the search engine's hot loop. One batcher per thread and
// job; it shares the per-warp coefficients among the warp's 32 nonces and hashes in blocks.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>

#include "dag.h"
#include "octopus.h"

namespace cfx {

// Lets a long computation notice that its job was replaced. Reading the generation with acquire
// pairs with the release in SearchEngine::publish: whoever sees the new number also sees the job.
struct AbortCheck {
  const std::atomic<uint64_t>* generation = nullptr;
  uint64_t mine = 0;
#ifdef CFX_CORE_TEST_HOOKS
  // Only in the core tests' build (native/test/Makefile defines CFX_CORE_TEST_HOOKS): when set,
  // now() also fires from its (*looks_left)-th call on (counting down), so an abort lands at a
  // chosen point of a computation instead of wherever a timer thread lands it.
  uint32_t* looks_left = nullptr;
#endif
  bool now() const {
#ifdef CFX_CORE_TEST_HOOKS
    if (looks_left && (*looks_left == 0 || --*looks_left == 0)) return true;
#endif
    return generation && generation->load(std::memory_order_acquire) != mine;
  }
};

class OctopusBatcher {
 public:
  // `dataset` null means light mode (items computed from `cache`). The pointers must outlive the batcher.
  OctopusBatcher(const OctopusJob& job, const Cache* cache, const Node* dataset, uint64_t dataset_bytes);
  ~OctopusBatcher();

  // The nonces a call to hash() takes at once: a multiple of 32 that divides 1024 (with a
  // dataset 1024, or 256 on the portable path; 64 without).
  uint32_t block_nonces() const;

  // Hashes nonces first .. first+count-1 (first % 32 == 0, count a multiple of 32 and at most
  // block_nonces()) into out[i]. Returns how many were hashed: fewer when `abort` fired midway.
  // A block never wraps past 2^64 - 1: wrapping is the caller's job (the engine's 1024-aligned
  // start and block sizes dividing 1024 guarantee it); a block that would is cut at 2^64 - 1.
  uint32_t hash(uint64_t first, uint32_t count, uint8_t (*out)[32], const AbortCheck& abort);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cfx
