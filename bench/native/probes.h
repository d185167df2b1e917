// Reference figures the benchmark measures beside the miner, in the same run: what a plain
// scalar loop does (the keccak test PoW) and what the memory alone allows (the full-mode page
// walk without the polynomial and the keccaks). Bench code, built into its own addon
// (bench/native/binding.gyp) and into core_bench: nothing in the product calls it.
#pragma once
#include <cstdint>
#include <memory>

#include "../../native/core/dag.h"

namespace cfx {
namespace probes {

// Keccak test PoW hashes per second of a plain loop over the core's scalar keccak_pow_hash, one
// nonce at a time, for about `seconds`: `threads` such loops run at once (as many as the search
// it is compared with) and the mean per loop is returned.
double keccak_scalar_hps(unsigned threads, double seconds);

// Memory for the walk below, laid out as a dataset is (one mapping of `bytes`, huge pages where
// the system gives them and `huge_pages` allows) and filled with pseudo-random words on
// `threads` threads. The walk's page choices depend on the items only through their
// randomness, so the ceiling needs no real dataset and shares nothing with the miner's.
std::unique_ptr<Dataset> walk_memory(uint64_t bytes, unsigned threads, bool huge_pages);

// The full-mode page walk alone on `threads` threads for about `seconds`: per hash 32 dependent
// 256-byte reads of `memory` chosen as the miner chooses them (page from the seed word, the
// access number and the mix), 32 walks interleaved with the same prefetches as OctopusBatcher's
// full mode, but seeds from a cheap integer mix instead of the polynomial and keccak512, and no
// final keccak. Returns walks per second over all threads: the memory ceiling.
double memory_walk_hps(const Dataset& memory, unsigned threads, double seconds);

}  // namespace probes
}  // namespace cfx
