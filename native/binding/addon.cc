// Module entry: parameters, one-shot hashes, handles; the engine and builds live in their own files.
#include <napi.h>

#include <cstring>

#include "../core/dag.h"
#include "../core/keccak.h"
#include "../core/octopus.h"
#include "../core/params.h"
#include "../core/self_test.h"
#include "../core/u256.h"
#include "builds.h"
#include "convert.h"
#include "engine.h"
#include "verify.h"

#include "../core/cpu.h"

namespace cfx_binding {
namespace {

using cfx::Cache;
using cfx::Dataset;

uint64_t height_arg(const Napi::CallbackInfo& info, size_t i) { return uint_arg(info, i, "height", 0, cfx::kMaxHeight); }

// The limits of native/core/params.h, for every JS layer to check against (written only there).
Napi::Object Limits(Napi::Env env) {
  auto o = Napi::Object::New(env);
  o.Set("maxThreads", double(cfx::kMaxThreads));
  o.Set("maxHeight", double(cfx::kMaxHeight));
  o.Set("maxDatasetBytes", double(cfx::kMaxDatasetBytes));
  o.Set("stageLength", double(cfx::kStageLength));
  o.Set("maxShareBits", double(cfx::kMaxShareBits));
  o.Set("pageBytes", double(cfx::kPageBytes));
  o.Freeze();
  return o;
}

Napi::Value Sizes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t stage = cfx::stage_of(height_arg(info, 0));
  auto o = Napi::Object::New(env);
  o.Set("stage", double(stage));
  // The seed costs one keccak per stage (about a second near height 2^40): only when asked.
  if (info.Length() < 2 || info[1].ToBoolean().Value()) {
    uint8_t seed[32];
    cfx::seed_for_stage(stage, seed);
    o.Set("seed", copy_buffer(env, seed, 32));
  }
  o.Set("cacheBytes", double(cfx::cache_bytes_for_stage(stage)));
  o.Set("datasetBytes", double(cfx::dataset_bytes_for_stage(stage)));
  return o;
}

Napi::Value CacheInfo(const Napi::CallbackInfo& info) {
  auto cache = handle_arg<Cache>(info, 0, "cache");
  auto o = Napi::Object::New(info.Env());
  o.Set("stage", double(cache->stage()));
  o.Set("bytes", double(cache->bytes()));
  o.Set("nodes", double(cache->node_count()));
  return o;
}

Napi::Value DatasetInfo(const Napi::CallbackInfo& info) {
  auto ds = handle_arg<Dataset>(info, 0, "dataset");
  auto o = Napi::Object::New(info.Env());
  o.Set("stage", double(ds->stage()));
  o.Set("bytes", double(ds->bytes()));
  o.Set("hugePages", cfx::huge_pages_name(ds->huge_pages()));
  // Measured (one pass over /proc/self/smaps for a transparent mapping): callers keep it a while.
  o.Set("hugePagesFraction", ds->huge_pages_fraction());
  return o;
}

Napi::Value ReleaseDataset(const Napi::CallbackInfo& info) {
  // Engines hold their own reference; the memory goes when the last user lets go.
  handle_value<Dataset>(info.Env(), info[0], "dataset")->ptr.reset();
  return info.Env().Undefined();
}

Napi::Value HashKeccak(const Napi::CallbackInfo& info) {
  const uint8_t* header = buffer_arg(info, 0, 32, "header");
  const uint8_t* nonce = buffer_arg(info, 1, 32, "nonce");
  uint8_t out[32];
  cfx::keccak_pow_hash(header, nonce, out);
  return copy_buffer(info.Env(), out, 32);
}

// keccak-256 of any bytes: `cfx-miner secret` turns a password into the node's stratum_secret.
Napi::Value Keccak256(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer()) throw type_error(info.Env(), "data must be a Buffer");
  auto data = info[0].As<Napi::Buffer<uint8_t>>();
  uint8_t out[32];
  cfx::keccak256(data.Data(), data.Length(), out);
  return copy_buffer(info.Env(), out, 32);
}

Napi::Value MeetsBoundary(const Napi::CallbackInfo& info) {
  const uint8_t* hash = buffer_arg(info, 0, 32, "hash");
  const cfx::U256 nonce = cfx::u256_from_le(buffer_arg(info, 1, 32, "nonce"));
  const cfx::U256 boundary = cfx::u256_from_be(buffer_arg(info, 2, 32, "boundary"));
  return Napi::Boolean::New(info.Env(), cfx::meets_boundary(hash, nonce, boundary));
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("avx512", cfx::cpu_has_avx512());
  o.Set("keccakImpl", cfx::keccak_impl_name());
  // Full mode's polynomial kernel: AMX tile products where the CPU and the OS allow them, else the
  // transforms on AVX-512, on AVX2 (CPUs without AVX-512) or portable code (light mode always
  // uses the fp64 dense product; the polynomial is a small part of a light hash).
  o.Set("polyImpl", cfx::cpu_has_amx()      ? "amx"
                    : cfx::cpu_has_avx512() ? "avx512"
                    : cfx::cpu_has_avx2()   ? "avx2"
                                            : "portable");
  return o;
}

// Runs the self-test of every selected kernel (native/core/self_test.h), switching a failing
// path off for the process, and reports {ok, kernels: [{name, ok, ms}], disabled: [...]}.
// Synchronous: tens of milliseconds, at start-up and after an invalid share only.
Napi::Value SelfTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const cfx::SelfTestReport r = guarded(env, [] { return cfx::run_self_test(); });
  auto o = Napi::Object::New(env);
  o.Set("ok", r.ok);
  auto kernels = Napi::Array::New(env, r.kernels.size());
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    auto k = Napi::Object::New(env);
    k.Set("name", r.kernels[i].name);
    k.Set("ok", r.kernels[i].ok);
    k.Set("ms", r.kernels[i].ms);
    kernels.Set(uint32_t(i), k);
  }
  o.Set("kernels", kernels);
  auto disabled = Napi::Array::New(env, r.disabled.size());
  for (size_t i = 0; i < r.disabled.size(); ++i) disabled.Set(uint32_t(i), r.disabled[i]);
  o.Set("disabled", disabled);
  return o;
}

// Stops using a path for the rest of the process ("amx", "avx512" or "avx2"): objects built
// afterwards (the next job's batchers) take the next path. The miner calls it when full mode keeps
// producing wrong hashes that the self-test does not explain.
Napi::Value DisableKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhat = "kernel must be \"amx\", \"avx512\" or \"avx2\"";
  if (info.Length() < 1 || !info[0].IsString()) throw type_error(env, kWhat);
  const std::string k = info[0].As<Napi::String>().Utf8Value();
  if (k == "amx") cfx::force_no_amx(true);
  else if (k == "avx512") cfx::force_portable(true);
  else if (k == "avx2") cfx::force_no_avx2(true);
  else throw Napi::RangeError::New(env, kWhat);
  return env.Undefined();
}

}  // namespace
}  // namespace cfx_binding

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace cfx_binding;
  exports.Set("limits", Limits(env));
  exports.Set("sizes", Napi::Function::New(env, Sizes));
  exports.Set("cacheInfo", Napi::Function::New(env, CacheInfo));
  exports.Set("datasetInfo", Napi::Function::New(env, DatasetInfo));
  exports.Set("releaseDataset", Napi::Function::New(env, ReleaseDataset));
  exports.Set("hashKeccak", Napi::Function::New(env, HashKeccak));
  exports.Set("keccak256", Napi::Function::New(env, Keccak256));
  exports.Set("meetsBoundary", Napi::Function::New(env, MeetsBoundary));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures));
  exports.Set("selfTest", Napi::Function::New(env, SelfTest));
  exports.Set("disableKernel", Napi::Function::New(env, DisableKernel));
  init_builds(env, exports);
  init_engine(env, exports);
  init_verify(env, exports);
  return exports;
}

NODE_API_MODULE(cfx_miner, InitAddon)
