// The benchmark's probes as their own small addon (bench/native/binding.gyp), built apart from
// the product: a plain scalar keccak PoW loop and the full-mode page walk alone, each measured
// beside the miner in the same run (bench/references.ts hands them to the bench command).
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "../../native/binding/convert.h"  // the addon edge's argument checks (header-only)
#include "../../native/core/params.h"      // the limits, written once
#include "probes.h"

namespace {

using cfx::Dataset;
using cfx_binding::uint_arg;

using cfx::kMaxThreads;
constexpr uint64_t kMaxMilliseconds = 3'600'000;
constexpr napi_type_tag kMemoryTag = {0x6366786d696e6572ULL, 0x77616c6b6d656d01ULL};

struct WalkMemory {
  std::unique_ptr<Dataset> memory;
};

// The WalkMemory of argument i, released or not.
WalkMemory* tagged_memory(const Napi::CallbackInfo& info, size_t i) {
  bool tagged = false;
  if (info.Length() > i && info[i].IsExternal()) napi_check_object_type_tag(info.Env(), info[i], &kMemoryTag, &tagged);
  if (!tagged) throw Napi::TypeError::New(info.Env(), "memory must come from walkMemory()");
  return info[i].As<Napi::External<WalkMemory>>().Data();
}

WalkMemory* memory_arg(const Napi::CallbackInfo& info, size_t i) {
  WalkMemory* m = tagged_memory(info, i);
  if (!m->memory) throw Napi::Error::New(info.Env(), "the walk memory was released");
  return m;
}

// keccakScalarHps(threads, milliseconds): the plain loop's rate per thread, `threads` at once.
Napi::Value KeccakScalarHps(const Napi::CallbackInfo& info) {
  const auto threads = static_cast<unsigned>(uint_arg(info, 0, "threads", 1, kMaxThreads));
  const double seconds = double(uint_arg(info, 1, "milliseconds", 1, kMaxMilliseconds)) / 1000;
  return Napi::Number::New(info.Env(), cfx::probes::keccak_scalar_hps(threads, seconds));
}

// walkMemory(bytes, threads, hugePages) -> memory for the page walk (blocks while it fills).
Napi::Value WalkMemoryNew(const Napi::CallbackInfo& info) {
  const uint64_t bytes = cfx_binding::dataset_bytes_arg(info, 0, "bytes");
  const auto threads = static_cast<unsigned>(uint_arg(info, 1, "threads", 1, kMaxThreads));
  const bool huge = info.Length() > 2 && info[2].ToBoolean().Value();
  std::unique_ptr<Dataset> memory;
  try {
    memory = cfx::probes::walk_memory(bytes, threads, huge);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "cannot map " + std::to_string(bytes) + " bytes for the page walk");
  }
  auto ext = Napi::External<WalkMemory>::New(info.Env(), new WalkMemory{std::move(memory)},
                                             [](Napi::Env, WalkMemory* m) { delete m; });
  napi_type_tag_object(info.Env(), ext, &kMemoryTag);
  return ext;
}

// memoryWalkHps(memory, threads, milliseconds): walks per second over all threads.
Napi::Value MemoryWalkHps(const Napi::CallbackInfo& info) {
  WalkMemory* m = memory_arg(info, 0);
  const auto threads = static_cast<unsigned>(uint_arg(info, 1, "threads", 1, kMaxThreads));
  const double seconds = double(uint_arg(info, 2, "milliseconds", 1, kMaxMilliseconds)) / 1000;
  return Napi::Number::New(info.Env(), cfx::probes::memory_walk_hps(*m->memory, threads, seconds));
}

// releaseWalkMemory(memory): unmaps it now (idempotent) instead of at garbage collection.
Napi::Value ReleaseWalkMemory(const Napi::CallbackInfo& info) {
  tagged_memory(info, 0)->memory.reset();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("keccakScalarHps", Napi::Function::New(env, KeccakScalarHps));
  exports.Set("walkMemory", Napi::Function::New(env, WalkMemoryNew));
  exports.Set("memoryWalkHps", Napi::Function::New(env, MemoryWalkHps));
  exports.Set("releaseWalkMemory", Napi::Function::New(env, ReleaseWalkMemory));
  return exports;
}

}  // namespace

NODE_API_MODULE(cfx_probes, Init)
