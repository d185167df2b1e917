#include "verify.h"

#include <cstring>
#include <memory>

#include "../core/dag.h"
#include "../core/octopus.h"
#include "../core/params.h"
#include "convert.h"

namespace cfx_binding {
namespace {

// One Octopus light hash (0.1 to a few ms: it computes 128 dataset items from the cache) on a
// pool thread, so re-checking a solution never holds the event loop. The inputs are copied in
// (the baton), the cache is shared, and nothing here touches a JS value off the main thread.
class LightHashWorker : public Napi::AsyncWorker {
 public:
  LightHashWorker(Napi::Env env, std::shared_ptr<cfx::Cache> cache, const uint8_t header[32], uint64_t nonce, uint64_t bytes)
      : Napi::AsyncWorker(env, "cfx-miner recheck"),
        deferred_(Napi::Promise::Deferred::New(env)),
        cache_(std::move(cache)),
        nonce_(nonce),
        bytes_(bytes) {
    std::memcpy(header_, header, 32);
  }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { cfx::octopus_hash_light(header_, nonce_, *cache_, bytes_, out_); }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    deferred_.Resolve(copy_buffer(Env(), out_, 32));
  }
  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<cfx::Cache> cache_;
  uint8_t header_[32];
  uint64_t nonce_, bytes_;
  uint8_t out_[32] = {0};
};

Napi::Value HashOctopusLightAsync(const Napi::CallbackInfo& info) {
  LightArgs a = light_args(info);
  auto* w = new LightHashWorker(info.Env(), std::move(a.cache), a.header, a.nonce, a.dataset_bytes);
  auto promise = w->promise();
  w->Queue();
  return promise;
}

}  // namespace

void init_verify(Napi::Env env, Napi::Object exports) {
  exports.Set("hashOctopusLightAsync", Napi::Function::New(env, HashOctopusLightAsync));
}

}  // namespace cfx_binding
