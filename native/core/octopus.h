// Octopus proof of work and the keccak test PoW (OCTOPUS.md, "Hash of (pow_hash, height, nonce)").
#pragma once
#include <cstdint>

#include "dag.h"
#include "params.h"

namespace cfx {

// base^e mod p (the remap's powers, and the tables of poly_ntt.cc).
uint32_t powmod_p(uint64_t base, uint64_t e);

// remap(h) = 11^e mod p, e = h % (p-2) + 1 with every factor shared with p-1 divided out.
uint32_t octopus_remap(uint64_t h);

// Everything that depends on the header alone: computed once per job.
struct OctopusJob {
  explicit OctopusJob(const uint8_t header[32]);

  uint8_t header[32];
  uint64_t v[4];
  uint32_t a, b, c, w;
  uint32_t points[kPolyDegree];  // x_k = a*w^(2k) + b*w^k + c mod p, k = 0..1023
};

// The 1024 coefficients shared by the 32 nonces of `warp` (= nonce / 32), in the order d[i*32 + lane].
void octopus_coefficients(const OctopusJob& job, uint64_t warp, uint32_t d[kPolyDegree]);

// The 32 polynomial values of a nonce with r = nonce % 32, by Horner's rule.
void octopus_values(const OctopusJob& job, const uint32_t d[kPolyDegree], uint32_t r, uint32_t values[kAccesses]);

uint64_t octopus_digest(const uint32_t values[kAccesses]);

// Step 4 to 7, given the polynomial values: items computed from the cache (light) or read
// from the dataset (full). `pages` = dataset bytes / 256.
void octopus_finish_light(const OctopusJob& job, const uint32_t values[kAccesses], const Cache& cache,
                          uint64_t dataset_bytes, uint8_t out[32]);
void octopus_finish_full(const OctopusJob& job, const uint32_t values[kAccesses], const Node* items,
                         uint64_t dataset_bytes, uint8_t out[32]);

// Everything one hash shows along the way, for debugging and tests.
struct OctopusTrace {
  uint32_t values[kAccesses];
  uint64_t digest;
  uint32_t pages[kAccesses];  // the page read by each access
};

// One-shot hashes (the search engine uses the pieces above to share work across nonces).
void octopus_hash_light(const uint8_t header[32], uint64_t nonce, const Cache& cache, uint64_t dataset_bytes,
                        uint8_t out[32], OctopusTrace* trace = nullptr);
void octopus_hash_full(const uint8_t header[32], uint64_t nonce, const Node* items, uint64_t dataset_bytes,
                       uint8_t out[32]);

// keccak256(keccak256(header || nonce as 32 bytes LE) XOR header).
void keccak_pow_hash(const uint8_t header[32], const uint8_t nonce_le[32], uint8_t out[32]);

}  // namespace cfx
