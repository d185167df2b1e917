// Original Keccak (padding byte 0x01, as Ethereum and Conflux use it), not NIST SHA-3.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cfx {

// One permutation of the 25-lane state, scalar and portable.
void keccak_f1600(uint64_t state[25]);

// Hashes of a byte string. The input is absorbed before any output is written, so `in` and
// `out` may overlap.
void keccak256(const uint8_t* in, size_t len, uint8_t out[32]);
void keccak512(const uint8_t* in, size_t len, uint8_t out[64]);

// keccak512 of exactly 64 bytes, the shape used by the cache and the DAG.
// `in` and `out` may be the same buffer.
void keccak512_64(const uint8_t in[64], uint8_t out[64]);

}  // namespace cfx
