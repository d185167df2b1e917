// The test-only entry points, as their own addon (test/baseline/binding.gyp, target
// cfx_test_hooks; built by `npm run build:refs`, never shipped): what the tests read of a cache,
// a dataset filled item by item, the light hash on the JS thread, the Octopus trace and the
// full-mode hash of one nonce. The product addon (native/binding) exports none of these: the
// product hashes one nonce only off the JS thread (hashOctopusLightAsync).
//
// Caches and datasets cross between the two addons as the binding's type-tagged handles: this
// target compiles the same native/core sources with the same compiler and includes the same
// convert.h, so a Handle<Cache> or Handle<Dataset> has one layout on both sides, and the tags
// still refuse anything else.
#include <napi.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "../../native/binding/convert.h"
#include "../../native/core/dag.h"
#include "../../native/core/octopus.h"
#include "../../native/core/params.h"

namespace {

using namespace cfx_binding;
using cfx::Cache;
using cfx::Dataset;

Napi::Value CacheNode(const Napi::CallbackInfo& info) {
  auto cache = handle_arg<Cache>(info, 0, "cache");
  const uint64_t i = uint_arg(info, 1, "index", 0, cache->node_count() - 1);
  return copy_buffer(info.Env(), cache->nodes()[i].bytes, 64);
}

Napi::Value DagItem(const Napi::CallbackInfo& info) {
  auto cache = handle_arg<Cache>(info, 0, "cache");
  const uint32_t i = static_cast<uint32_t>(uint_arg(info, 1, "index", 0, UINT32_MAX));
  cfx::Node item;
  cfx::dag_item(*cache, i, &item);
  return copy_buffer(info.Env(), item.bytes, 64);
}

Napi::Value AllocDataset(const Napi::CallbackInfo& info) {
  const uint64_t bytes = dataset_bytes_arg(info, 0);
  const uint64_t stage = uint_arg(info, 1, "stage", 0, cfx::kMaxHeight / cfx::kStageLength);
  // No huge pages: tests fill a handful of items of a sparse mapping.
  return guarded(info.Env(), [&] { return wrap_handle<Dataset>(info.Env(), std::make_shared<Dataset>(bytes, stage, false)); });
}

Napi::Value FillDatasetItems(const Napi::CallbackInfo& info) {
  auto ds = handle_arg<Dataset>(info, 0, "dataset");
  auto cache = handle_arg<Cache>(info, 1, "cache");
  const uint64_t first = uint_arg(info, 2, "first", 0, ds->item_count());
  const uint64_t count = uint_arg(info, 3, "count", 0, ds->item_count() - first);
  ds->generate_range(*cache, first, count);
  return info.Env().Undefined();
}


Napi::Value HashOctopusFull(const Napi::CallbackInfo& info) {
  auto ds = handle_arg<Dataset>(info, 0, "dataset");
  const uint8_t* header = buffer_arg(info, 1, 32, "header");
  const uint64_t nonce = uint_arg(info, 2, "nonce", 0, UINT64_MAX);
  uint8_t out[32];
  cfx::octopus_hash_full(header, nonce, ds->items(), ds->bytes(), out);
  return copy_buffer(info.Env(), out, 32);
}

Napi::Value HashOctopusLight(const Napi::CallbackInfo& info) {
  const LightArgs a = light_args(info);
  uint8_t out[32];
  cfx::octopus_hash_light(a.header, a.nonce, *a.cache, a.dataset_bytes, out);
  return copy_buffer(info.Env(), out, 32);
}

Napi::Value OctopusTrace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LightArgs l = light_args(info);
  cfx::OctopusJob job(l.header);
  cfx::OctopusTrace trace;
  uint8_t out[32];
  cfx::octopus_hash_light(l.header, l.nonce, *l.cache, l.dataset_bytes, out, &trace);
  auto o = Napi::Object::New(env);
  o.Set("a", job.a);
  o.Set("b", job.b);
  o.Set("c", job.c);
  o.Set("w", job.w);
  o.Set("digest", Napi::BigInt::New(env, trace.digest));
  auto values = Napi::Array::New(env, cfx::kAccesses);
  auto pages = Napi::Array::New(env, cfx::kAccesses);
  for (uint32_t i = 0; i < cfx::kAccesses; ++i) {
    values.Set(i, trace.values[i]);
    pages.Set(i, trace.pages[i]);
  }
  o.Set("values", values);
  o.Set("pages", pages);
  o.Set("hash", copy_buffer(env, out, 32));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Napi::Value (*)(const Napi::CallbackInfo&)> hooks[] = {
      {"cacheNode", CacheNode},
      {"dagItem", DagItem},
      {"allocDataset", AllocDataset},
      {"fillDatasetItems", FillDatasetItems},
      {"hashOctopusLight", HashOctopusLight},
      {"octopusTrace", OctopusTrace},
      {"hashOctopusFull", HashOctopusFull},
  };
  for (const auto& [name, fn] : hooks) exports.Set(name, Napi::Function::New(env, fn));
  return exports;
}

}  // namespace

NODE_API_MODULE(cfx_test_hooks, Init)
