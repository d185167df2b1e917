#include "octopus.h"

#include <cstring>

#include "keccak.h"

namespace cfx {
namespace {

constexpr uint64_t kP = kPrime;

uint64_t gcd_u64(uint64_t a, uint64_t b) {
  while (b) {
    const uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

inline uint64_t rotl(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;
  inline void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
};

// Steps 4 to 7 with `page_items(page)` giving the four 64-byte items of a page.
template <class PageItems>
void finish(const OctopusJob& job, const uint32_t values[kAccesses], uint64_t dataset_bytes, PageItems page_items,
            uint8_t out[32], uint32_t* pages_out = nullptr) {
  const uint64_t digest = octopus_digest(values);
  uint8_t seed_in[40];
  std::memcpy(seed_in, job.header, 32);
  std::memcpy(seed_in + 32, &digest, 8);
  Node seed;
  keccak512(seed_in, 40, seed.bytes);

  uint32_t mix[64];
  for (int n = 0; n < 4; ++n) std::memcpy(mix + 16 * n, seed.words, 64);
  const uint64_t pages = dataset_bytes / kPageBytes;
  for (uint32_t i = 0; i < kAccesses; ++i) {
    const uint32_t page = static_cast<uint32_t>(fnv(seed.words[0] ^ i ^ values[i], mix[i % 64]) % pages);
    if (pages_out) pages_out[i] = page;
    const Node* items = page_items(page);
    for (int n = 0; n < 4; ++n)
      for (int w = 0; w < 16; ++w) mix[n * 16 + w] = fnv(mix[n * 16 + w], items[n].words[w]);
  }

  uint32_t reduced[16];
  for (int g = 0; g < 16; ++g)
    reduced[g] = fnv(fnv(fnv(mix[4 * g], mix[4 * g + 1]), mix[4 * g + 2]), mix[4 * g + 3]);
  uint8_t final_in[96];
  std::memcpy(final_in, seed.bytes, 64);
  for (int i = 0; i < 8; ++i) {
    const uint32_t c = fnv(reduced[i], reduced[i + 8]);
    std::memcpy(final_in + 64 + 4 * i, &c, 4);
  }
  keccak256(final_in, 96, out);
}

}  // namespace

uint32_t powmod_p(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  base %= kP;
  while (e) {
    if (e & 1) r = r * base % kP;
    base = base * base % kP;
    e >>= 1;
  }
  return static_cast<uint32_t>(r);
}

uint32_t octopus_remap(uint64_t h) {
  uint64_t e = h % (kP - 2) + 1;
  for (uint64_t g = gcd_u64(e, kP - 1); g != 1; g = gcd_u64(e, kP - 1)) e /= g;
  return powmod_p(11, e);
}

OctopusJob::OctopusJob(const uint8_t hdr[32]) {
  std::memcpy(header, hdr, 32);
  std::memcpy(v, hdr, 32);  // four little-endian u64 words
  a = octopus_remap(v[0]);
  b = octopus_remap(v[1]);
  w = octopus_remap(v[3]);
  const uint64_t bb = uint64_t(b) * b % kP;
  for (uint64_t t = 0;; ++t) {
    c = octopus_remap(v[2] + t);  // wrapping add, as the reference does
    if (bb != 4 * uint64_t(a) * c % kP) break;
  }
  uint64_t wk = 1;  // w^k
  for (uint32_t k = 0; k < kPolyDegree; ++k) {
    const uint64_t w2k = wk * wk % kP;
    points[k] = static_cast<uint32_t>((a * w2k + b * wk + c) % kP);
    wk = wk * w % kP;
  }
}

void octopus_coefficients(const OctopusJob& job, uint64_t warp, uint32_t d[kPolyDegree]) {
  for (uint32_t lane = 0; lane < kWarp; ++lane) {
    const uint64_t m = warp * kWarp + lane;
    SipState s{job.v[0], job.v[1], job.v[2], job.v[3]};
    s.v3 ^= m;
    s.round();
    s.round();
    s.v0 ^= m;
    s.v2 ^= 0xff;
    for (int r = 0; r < 4; ++r) s.round();
    for (uint32_t i = 0; i < kPolyDegree / kWarp; ++i) {
      s.round();
      d[i * kWarp + lane] = static_cast<uint32_t>(s.v0 ^ s.v1 ^ s.v2 ^ s.v3) % kPrime;
    }
  }
}

void octopus_values(const OctopusJob& job, const uint32_t d[kPolyDegree], uint32_t r, uint32_t values[kAccesses]) {
  for (uint32_t i = 0; i < kAccesses; ++i) {
    const uint64_t x = job.points[r + kWarp * i];
    uint64_t acc = 0;
    for (int j = kPolyDegree - 1; j >= 0; --j) acc = (acc * x + d[j]) % kP;
    values[i] = static_cast<uint32_t>(acc);
  }
}

uint64_t octopus_digest(const uint32_t values[kAccesses]) {
  uint64_t digest = 0;
  for (uint32_t i = 0; i < kAccesses; ++i) digest = fnv64(digest, values[i]);
  return digest;
}

void octopus_finish_light(const OctopusJob& job, const uint32_t values[kAccesses], const Cache& cache,
                          uint64_t dataset_bytes, uint8_t out[32]) {
  Node items[4];
  finish(job, values, dataset_bytes,
         [&](uint32_t page) {
           dag_page(cache, page * 4, items);
           return items;
         },
         out);
}

void octopus_finish_full(const OctopusJob& job, const uint32_t values[kAccesses], const Node* dataset,
                         uint64_t dataset_bytes, uint8_t out[32]) {
  finish(job, values, dataset_bytes, [&](uint32_t page) { return dataset + uint64_t(page) * 4; }, out);
}

void octopus_hash_light(const uint8_t header[32], uint64_t nonce, const Cache& cache, uint64_t dataset_bytes,
                        uint8_t out[32], OctopusTrace* trace) {
  OctopusJob job(header);
  uint32_t d[kPolyDegree];
  octopus_coefficients(job, nonce / kWarp, d);
  uint32_t values[kAccesses];
  octopus_values(job, d, static_cast<uint32_t>(nonce % kWarp), values);
  Node items[4];
  finish(job, values, dataset_bytes,
         [&](uint32_t page) {
           dag_page(cache, page * 4, items);
           return items;
         },
         out, trace ? trace->pages : nullptr);
  if (trace) {
    std::memcpy(trace->values, values, sizeof(values));
    trace->digest = octopus_digest(values);
  }
}

void octopus_hash_full(const uint8_t header[32], uint64_t nonce, const Node* items, uint64_t dataset_bytes,
                       uint8_t out[32]) {
  OctopusJob job(header);
  uint32_t d[kPolyDegree];
  octopus_coefficients(job, nonce / kWarp, d);
  uint32_t values[kAccesses];
  octopus_values(job, d, static_cast<uint32_t>(nonce % kWarp), values);
  octopus_finish_full(job, values, items, dataset_bytes, out);
}

void keccak_pow_hash(const uint8_t header[32], const uint8_t nonce_le[32], uint8_t out[32]) {
  uint8_t buf[64];
  std::memcpy(buf, header, 32);
  std::memcpy(buf + 32, nonce_le, 32);
  uint8_t inner[32];
  keccak256(buf, 64, inner);
  for (int i = 0; i < 32; ++i) inner[i] ^= header[i];
  keccak256(inner, 32, out);
}

}  // namespace cfx
