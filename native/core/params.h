// Octopus parameters: stages, seeds, cache and dataset sizes (OCTOPUS.md, "Parameters").
#pragma once
#include <cstdint>

namespace cfx {

constexpr uint64_t kStageLength = 524288;  // blocks per stage (epoch)
constexpr uint64_t kNodeBytes = 64;        // one cache node or DAG item
constexpr uint64_t kPageBytes = 256;       // one mix page = 4 DAG items
constexpr uint32_t kCacheRounds = 3;
constexpr uint32_t kDagParents = 256;
constexpr uint32_t kAccesses = 32;
constexpr uint32_t kPrime = 1032193;  // p; p - 1 = 2^14 * 63
constexpr uint32_t kPolyDegree = 1024;
constexpr uint32_t kWarp = 32;

// The limits every layer checks against, written here once: the addon exports them as `limits`
// (native/binding/addon.cc), and the config schema, the stratum messages and the JS wrappers
// read them from there.
//
// Heights above this are refused: 2^40 blocks is millennia of Conflux at two blocks a second,
// sizes stay far from overflow, and the seed (one keccak per stage) takes under a second.
constexpr uint64_t kMaxHeight = 1ULL << 40;
// The largest dataset a hash is defined over, in bytes: the real size near kMaxHeight is far
// below it, and a test's small size far above 256. Sizes are whole pages of kPageBytes.
constexpr uint64_t kMaxDatasetBytes = 1ULL << 40;
// Search and build threads: more than any machine we run on has cores, and few enough that a
// typo (10000) is refused instead of starting ten thousand threads.
constexpr unsigned kMaxThreads = 1024;
// Internal shares: hashes below 2^256 / 2^bits, bits 0 to this (search.h).
constexpr uint32_t kMaxShareBits = 63;

inline uint64_t stage_of(uint64_t height) { return height / kStageLength; }

// Deterministic primality for any 64-bit value (Miller-Rabin with a proven base set).
bool is_prime_u64(uint64_t n);

uint64_t cache_bytes_for_stage(uint64_t stage);
uint64_t dataset_bytes_for_stage(uint64_t stage);

// keccak256 applied `stage` times to 32 zero bytes.
void seed_for_stage(uint64_t stage, uint8_t out[32]);

inline uint32_t fnv(uint32_t x, uint32_t y) { return (x * 0x01000193u) ^ y; }
inline uint64_t fnv64(uint64_t x, uint64_t y) { return (x * 0x01000193ull) ^ y; }

}  // namespace cfx
