#include "octopus_batch.h"

#include <vector>

namespace cfx {

struct OctopusBatcher::Impl {
  const OctopusJob& job;
  const Cache* cache;
  const Node* dataset;
  uint64_t dataset_bytes;
  uint32_t d[kPolyDegree];
};

OctopusBatcher::OctopusBatcher(const OctopusJob& job, const Cache* cache, const Node* dataset, uint64_t dataset_bytes)
    : impl_(new Impl{job, cache, dataset, dataset_bytes, {}}) {}

OctopusBatcher::~OctopusBatcher() = default;

uint32_t OctopusBatcher::block_nonces() const { return impl_->dataset ? 256 : kWarp; }

uint32_t OctopusBatcher::hash(uint64_t first, uint32_t count, uint8_t (*out)[32], const AbortCheck& abort) {
  Impl& s = *impl_;
  for (uint32_t done = 0; done < count; done += kWarp) {
    if (abort.now()) return done;
    octopus_coefficients(s.job, (first + done) / kWarp, s.d);
    for (uint32_t r = 0; r < kWarp; ++r) {
      uint32_t values[kAccesses];
      octopus_values(s.job, s.d, r, values);
      if (s.dataset) {
        octopus_finish_full(s.job, values, s.dataset, s.dataset_bytes, out[done + r]);
      } else {
        // A light hash takes milliseconds: look for a new job between nonces.
        if (r && abort.now()) return done + r;
        octopus_finish_light(s.job, values, *s.cache, s.dataset_bytes, out[done + r]);
      }
    }
  }
  return count;
}

}  // namespace cfx
