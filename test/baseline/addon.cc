// The independent baseline as its own small addon (test/baseline/binding.gyp), built apart from
// the product: the test node verifies Octopus submits with it and the benchmark times it. It
// holds no handles: a cache is a plain Buffer of little-endian words.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "../../native/binding/convert.h"  // the addon edge's argument checks (header-only)
#include "../../native/core/params.h"      // the limits, written once
#include "baseline.h"

namespace {

using cfx_binding::buffer_arg;
using cfx_binding::range_error;
using cfx_binding::type_error;
using cfx_binding::uint_arg;

using cfx::baseline::baseline_cache;
using cfx::baseline::baseline_cache_bytes;
using cfx::baseline::baseline_dataset_bytes;
using cfx::baseline::baseline_hash_light;

constexpr uint64_t kMaxStage = cfx::kMaxHeight / cfx::kStageLength;  // the product's own limits
constexpr uint64_t kMaxCacheBytes = uint64_t(2) << 30;                // stage ~32,000; a test never needs more

// (cache, header, nonce, datasetBytes) as the hash functions take them, read on the JS thread.
struct HashArgs {
  const uint32_t* words;
  uint64_t nodes;
  uint8_t header[32];
  uint64_t nonce;
  uint64_t dataset_bytes;
};

HashArgs hash_args(const Napi::CallbackInfo& info) {
  // A cache is any whole number of nodes, so its Buffer is checked here, not by buffer_arg.
  if (info.Length() < 1 || !info[0].IsBuffer()) throw type_error(info.Env(), "cache must be a Buffer");
  const auto cache = info[0].As<Napi::Buffer<uint8_t>>();
  if (cache.Length() < 64 || cache.Length() % 64 != 0) throw range_error(info.Env(), "cache must be whole 64-byte nodes");
  if (reinterpret_cast<uintptr_t>(cache.Data()) % 4 != 0) throw range_error(info.Env(), "cache must be 4-byte aligned");
  HashArgs a{reinterpret_cast<const uint32_t*>(cache.Data()), cache.Length() / 64, {}, 0, 0};
  std::memcpy(a.header, buffer_arg(info, 1, 32, "header"), 32);
  a.nonce = uint_arg(info, 2, "nonce", 0, UINT64_MAX);
  a.dataset_bytes = cfx_binding::dataset_bytes_arg(info, 3, "datasetBytes");
  return a;
}

void light(const HashArgs& a, uint64_t nonce, uint8_t out[32]) {
  baseline_hash_light(a.header, nonce, a.words, a.nodes, a.dataset_bytes, out);
}

// sizes(stage) -> { cacheBytes, datasetBytes }
Napi::Value Sizes(const Napi::CallbackInfo& info) {
  const uint64_t stage = uint_arg(info, 0, "stage", 0, kMaxStage);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("cacheBytes", Napi::Number::New(info.Env(), double(baseline_cache_bytes(stage))));
  out.Set("datasetBytes", Napi::Number::New(info.Env(), double(baseline_dataset_bytes(stage))));
  return out;
}

class CacheWorker : public Napi::AsyncWorker {
 public:
  CacheWorker(Napi::Env env, uint64_t stage, uint64_t bytes)
      : Napi::AsyncWorker(env), stage_(stage), bytes_(bytes), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    words_ = new (std::nothrow) uint32_t[bytes_ / 4];
    if (!words_) return SetError("out of memory for the baseline cache");
    baseline_cache(stage_, bytes_, words_);
  }
  void OnOK() override {
    uint32_t* words = words_;
    words_ = nullptr;
    deferred_.Resolve(Napi::Buffer<uint8_t>::New(Env(), reinterpret_cast<uint8_t*>(words), bytes_,
                                                 [](Napi::Env, uint8_t* p) { delete[] reinterpret_cast<uint32_t*>(p); }));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  ~CacheWorker() override { delete[] words_; }

 private:
  uint64_t stage_, bytes_;
  uint32_t* words_ = nullptr;
  Napi::Promise::Deferred deferred_;
};

// buildCache(stage) -> Promise<Buffer>, built on a pool thread.
Napi::Value BuildCache(const Napi::CallbackInfo& info) {
  const uint64_t stage = uint_arg(info, 0, "stage", 0, kMaxStage);
  const uint64_t bytes = baseline_cache_bytes(stage);
  if (bytes > kMaxCacheBytes) throw range_error(info.Env(), "the baseline builds caches up to 2 GiB only");
  auto* worker = new CacheWorker(info.Env(), stage, bytes);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

class HashWorker : public Napi::AsyncWorker {
 public:
  HashWorker(Napi::Env env, const HashArgs& args, Napi::Buffer<uint8_t> cache)
      : Napi::AsyncWorker(env), args_(args), keep_(Napi::Persistent(cache)), deferred_(Napi::Promise::Deferred::New(env)) {}
  // keep_ holds the cache Buffer alive while a pool thread reads it.
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { light(args_, args_.nonce, out_); }
  void OnOK() override { deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(Env(), out_, 32)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  HashArgs args_;
  Napi::Reference<Napi::Buffer<uint8_t>> keep_;
  uint8_t out_[32] = {0};
  Napi::Promise::Deferred deferred_;
};

// hashLight(cache, header, nonce, datasetBytes) -> Promise<Buffer(32)>, on a pool thread.
Napi::Value HashLight(const Napi::CallbackInfo& info) {
  const HashArgs args = hash_args(info);  // checks info[0] is a Buffer before it is read as one
  auto* worker = new HashWorker(info.Env(), args, info[0].As<Napi::Buffer<uint8_t>>());
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

// hashLightLoop(cache, header, nonce, datasetBytes, count) -> the hash of nonce + count - 1,
// after hashing all `count` nonces on this thread: the benchmark's timing loop, no JS per hash.
Napi::Value HashLightLoop(const Napi::CallbackInfo& info) {
  const HashArgs a = hash_args(info);
  const uint64_t count = uint_arg(info, 4, "count", 1, 1 << 20);
  uint8_t out[32];
  for (uint64_t i = 0; i < count; ++i) light(a, a.nonce + i, out);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), out, 32);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sizes", Napi::Function::New(env, Sizes));
  exports.Set("buildCache", Napi::Function::New(env, BuildCache));
  exports.Set("hashLight", Napi::Function::New(env, HashLight));
  exports.Set("hashLightLoop", Napi::Function::New(env, HashLightLoop));
  return exports;
}

}  // namespace

NODE_API_MODULE(cfx_baseline, Init)
