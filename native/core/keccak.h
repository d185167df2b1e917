// Original Keccak (padding byte 0x01, as Ethereum and Conflux use it), not NIST SHA-3.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cfx {

// The iota step's round constants, shared by the scalar and the 8-lane permutations.
inline constexpr uint64_t kKeccakRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

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
