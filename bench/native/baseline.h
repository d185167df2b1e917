// The benchmark's baseline: a careful, single-nonce, scalar Octopus light hash written from
// OCTOPUS.md alone (its own keccak, SipHash, remap and Horner; DAG items one by one, no
// interleaving, no SIMD). Nothing here calls native/core hashing code, so it also checks the
// core independently (native/test/batch_test.cc compares the two).
#pragma once
#include <cstdint>

namespace cfx {
namespace baseline {

// keccak256 / keccak512 (original Keccak padding) of `len` bytes.
void baseline_keccak256(const uint8_t* in, uint64_t len, uint8_t out[32]);
void baseline_keccak512(const uint8_t* in, uint64_t len, uint8_t out[64]);

// The 32 polynomial values of `nonce` (OCTOPUS.md steps 1 to 3), by Horner's rule.
void baseline_values(const uint8_t header[32], uint64_t nonce, uint32_t values[32]);

// The light hash of (header, nonce). `cache_words` holds `cache_nodes` nodes of 16 little-endian
// 32-bit words (the stage's cache, e.g. cfx::Cache::nodes()); `dataset_bytes` is the dataset
// size the hash is defined over.
void baseline_hash_light(const uint8_t header[32], uint64_t nonce, const uint32_t* cache_words,
                         uint64_t cache_nodes, uint64_t dataset_bytes, uint8_t out[32]);

}  // namespace baseline
}  // namespace cfx
