// Keccak (original padding 0x01, as in keccak.h) over 8 independent inputs at once: the 64-byte
// DAG/cache shape, the 40-byte Octopus seed input and the 96-byte final input. With AVX-512 the
// 8 states sit lane by lane in 25 zmm registers; otherwise the portable versions run 8 scalar
// permutations. Both give the same bytes as keccak512/keccak256 of keccak.h.
//
// Every function reads all 8 inputs before writing any output, so in[i] may equal out[i]. The
// 8 lanes are independent; a caller with fewer than 8 inputs points the spare lanes at scratch.
#pragma once
#include <cstdint>

namespace cfx {

// lanes[i][s] is lane i (0..24) of state s (0..7).
void keccak_f1600_x8(uint64_t lanes[25][8]);

// out[s] = keccak512(in[s]) for inputs of 64 bytes (out: 64 bytes).
void keccak512_64_x8(const uint8_t* const in[8], uint8_t* const out[8]);
// out[s] = keccak512(in[s]) for inputs of 40 bytes (out: 64 bytes).
void keccak512_40_x8(const uint8_t* const in[8], uint8_t* const out[8]);
// out[s] = keccak256(in[s]) for inputs of 96 bytes (out: 32 bytes).
void keccak256_96_x8(const uint8_t* const in[8], uint8_t* const out[8]);

// The keccak test PoW (octopus.h keccak_pow_hash) of the 8 nonces first .. first+7, for a
// header given as its four little-endian words: keccak256(header || nonce as 32 bytes LE) is
// one absorbed block with only lane 4 (the nonce's low 8 bytes) differing between lanes, and the
// outer keccak256 of 32 bytes is a second block. Returns a mask whose bit s is set when the
// hash of nonce first+s, read big-endian, has its top 64 bits <= top_limit (the search's cheap
// filter; UINT64_MAX selects all 8); out[s] is written for those lanes, the others are left
// unspecified. first + 7 must not pass 2^64 - 1 (the search's blocks never do).
uint32_t keccak_pow_x8(const uint64_t header_words[4], uint64_t first, uint64_t top_limit, uint8_t out[8][32]);

// The same, always portable (any CPU): the functions above call these when AVX-512 is absent
// or forced off. Tests call them directly.
void keccak_f1600_x8_portable(uint64_t lanes[25][8]);
void keccak512_64_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak512_40_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak256_96_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]);
uint32_t keccak_pow_x8_portable(const uint64_t header_words[4], uint64_t first, uint64_t top_limit,
                                uint8_t out[8][32]);


// The AVX-512 versions, for callers that already dispatched (or tests). Only call them when
// cpu_detects_avx512() is true: they fault on other CPUs.
void keccak_f1600_x8_avx512(uint64_t lanes[25][8]);
void keccak512_64_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak512_40_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak256_96_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]);
uint32_t keccak_pow_x8_avx512(const uint64_t header_words[4], uint64_t first, uint64_t top_limit, uint8_t out[8][32]);

}  // namespace cfx
