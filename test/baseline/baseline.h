// The independent baseline: a careful, single-nonce, scalar Octopus written from OCTOPUS.md alone
// (its own sizes, seed, cache, keccak, SipHash, remap and Horner; DAG items one by one, no
// interleaving, no SIMD). Nothing here calls native/core, so it checks the core independently:
// native/test/batch_test.cc compares the two, the test node verifies every Octopus submit with it
// (test/baseline/addon.cc, test/support/baseline.ts), and the benchmark measures the miner against
// it. Test and bench code: the product addon never includes it.
#pragma once
#include <cstdint>

namespace cfx {
namespace baseline {

// keccak256 / keccak512 (original Keccak padding) of `len` bytes.
void baseline_keccak256(const uint8_t* in, uint64_t len, uint8_t out[32]);
void baseline_keccak512(const uint8_t* in, uint64_t len, uint8_t out[64]);

// The stage's cache and dataset sizes in bytes (OCTOPUS.md, Parameters).
uint64_t baseline_cache_bytes(uint64_t stage);
uint64_t baseline_dataset_bytes(uint64_t stage);

// The stage's cache: `cache_bytes / 4` little-endian 32-bit words written to `words` (seed,
// sequential keccak512 fill, 3 rounds of RandMemoHash).
void baseline_cache(uint64_t stage, uint64_t cache_bytes, uint32_t* words);

// The 32 polynomial values of `nonce` (OCTOPUS.md steps 1 to 3), by Horner's rule.
void baseline_values(const uint8_t header[32], uint64_t nonce, uint32_t values[32]);

// The light hash of (header, nonce). `cache_words` holds `cache_nodes` nodes of 16 little-endian
// 32-bit words (the stage's cache, e.g. cfx::Cache::nodes()); `dataset_bytes` is the dataset
// size the hash is defined over.
void baseline_hash_light(const uint8_t header[32], uint64_t nonce, const uint32_t* cache_words,
                         uint64_t cache_nodes, uint64_t dataset_bytes, uint8_t out[32]);

}  // namespace baseline
}  // namespace cfx
