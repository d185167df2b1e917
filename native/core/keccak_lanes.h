// The 25 lanes of a keccak-f[1600] state as named locals a00..a24, for the two unrolled
// permutations (keccak.cc, scalar; keccak_x8.cc, eight states in AVX-512 registers): with every
// lane a local the compiler keeps the state in registers, where an indexed array would go
// through memory. One place for the load and the store both of them do.
#pragma once

// Declares `T a00 = s[0], ..., a24 = s[24];`.
#define CFX_KECCAK_LOAD_LANES(T, s)                                                 \
  T a00 = (s)[0], a01 = (s)[1], a02 = (s)[2], a03 = (s)[3], a04 = (s)[4];           \
  T a05 = (s)[5], a06 = (s)[6], a07 = (s)[7], a08 = (s)[8], a09 = (s)[9];           \
  T a10 = (s)[10], a11 = (s)[11], a12 = (s)[12], a13 = (s)[13], a14 = (s)[14];      \
  T a15 = (s)[15], a16 = (s)[16], a17 = (s)[17], a18 = (s)[18], a19 = (s)[19];      \
  T a20 = (s)[20], a21 = (s)[21], a22 = (s)[22], a23 = (s)[23], a24 = (s)[24]

// Writes a00..a24 back to s[0..24].
#define CFX_KECCAK_STORE_LANES(s)                                                         \
  do {                                                                                    \
    (s)[0] = a00, (s)[1] = a01, (s)[2] = a02, (s)[3] = a03, (s)[4] = a04;                 \
    (s)[5] = a05, (s)[6] = a06, (s)[7] = a07, (s)[8] = a08, (s)[9] = a09;                 \
    (s)[10] = a10, (s)[11] = a11, (s)[12] = a12, (s)[13] = a13, (s)[14] = a14;            \
    (s)[15] = a15, (s)[16] = a16, (s)[17] = a17, (s)[18] = a18, (s)[19] = a19;            \
    (s)[20] = a20, (s)[21] = a21, (s)[22] = a22, (s)[23] = a23, (s)[24] = a24;            \
  } while (0)
