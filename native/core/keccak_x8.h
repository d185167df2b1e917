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

// The same, always portable (any CPU): the functions above call these when AVX-512 is absent
// or forced off. Tests call them directly.
void keccak_f1600_x8_portable(uint64_t lanes[25][8]);
void keccak512_64_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak512_40_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak256_96_x8_portable(const uint8_t* const in[8], uint8_t* const out[8]);

// One scalar permutation, unrolled (faster than keccak.h's compact loop); the portable path's.
void keccak_f1600_unrolled(uint64_t state[25]);

// The AVX-512 versions, for callers that already dispatched (or tests). Only call them when
// cpu_detects_avx512() is true: they fault on other CPUs.
void keccak_f1600_x8_avx512(uint64_t lanes[25][8]);
void keccak512_64_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak512_40_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]);
void keccak256_96_x8_avx512(const uint8_t* const in[8], uint8_t* const out[8]);

}  // namespace cfx
