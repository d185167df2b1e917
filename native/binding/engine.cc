#include "engine.h"

#include <cstring>
#include <memory>
#include <string>

#include "../core/search.h"
#include "convert.h"

namespace cfx_binding {
namespace {

// What the search threads' wake-up reaches. The ThreadSafeFunction's queued calls hold it by
// shared_ptr, never the wrapper: a wrapper collected with calls still queued leaves them a live
// (stopped) engine to drain, not freed memory.
struct Shared {
  std::shared_ptr<cfx::SearchEngine> engine;
};

// Hands the queued solutions and shares to JS; bounded work (see below).
void deliver(Napi::Env env, Napi::Function cb, const std::shared_ptr<Shared>& shared) {
  // Only the current generation's solutions come out (the engine drops and counts the rest),
  // and the queues hold at most cfx::kMaxQueuedSolutions solutions and cfx::kMaxQueuedShares
  // shares: one call, bounded work.
  auto solutions = shared->engine->take_solutions();
  auto shares = shared->engine->take_shares();
  if (solutions.empty() && shares.empty()) return;
  auto nonces = Napi::Array::New(env, solutions.size());
  auto hashes = Napi::Array::New(env, solutions.size());
  for (size_t k = 0; k < solutions.size(); ++k) {
    nonces.Set(uint32_t(k), Napi::BigInt::New(env, solutions[k].nonce));
    hashes.Set(uint32_t(k), copy_buffer(env, solutions[k].hash, 32));
  }
  // Shares as [generation, nonce, hash, bits, ...] (about one a second: no need for speed here).
  Napi::Value share_list = env.Undefined();
  if (!shares.empty()) {
    auto list = Napi::Array::New(env, shares.size() * 4);
    for (size_t k = 0; k < shares.size(); ++k) {
      list.Set(uint32_t(4 * k), Napi::Number::New(env, double(shares[k].generation)));
      list.Set(uint32_t(4 * k + 1), Napi::BigInt::New(env, shares[k].nonce));
      list.Set(uint32_t(4 * k + 2), copy_buffer(env, shares[k].hash, 32));
      list.Set(uint32_t(4 * k + 3), Napi::Number::New(env, shares[k].share_bits));
    }
    share_list = list;
  }
  const double generation = solutions.empty() ? 0.0 : double(solutions[0].generation);
  cb.Call({Napi::Number::New(env, generation), nonces, hashes, share_list});
}

void drain(Napi::Env env, Napi::Function cb, const std::shared_ptr<Shared>& shared) {
  if (env == nullptr || cb.IsEmpty() || !shared->engine) return;
  try {
    deliver(env, cb, shared);
  } catch (const Napi::Error& e) {
    // A wake-up queued before destroy() can run while the environment is going away
    // (process.exit): creating values or calling then fails without any JS exception, and a C++
    // exception leaving this callback is std::terminate (seen: SIGABRT at Ctrl-C, about once in
    // 60 stops with a share or solution queued). Nobody is left to take these: they are dropped.
    // An exception the callback itself threw stays a JS exception.
    if (!e.Message().empty()) {
      try {
        e.ThrowAsJavaScriptException();
      } catch (...) {
      }
    }
  }
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "SearchEngine",
                       {InstanceMethod<&EngineWrap::Start>("start"), InstanceMethod<&EngineWrap::Pause>("pause"),
                        InstanceMethod<&EngineWrap::Destroy>("destroy"),
                        InstanceMethod<&EngineWrap::Generation>("generation"),
                        InstanceMethod<&EngineWrap::HashCounts>("hashCounts"),
                        InstanceMethod<&EngineWrap::Dropped>("dropped"),
                        InstanceMethod<&EngineWrap::SetShareBits>("setShareBits"),
                        InstanceMethod<&EngineWrap::SwitchedAt>("switchedAt")});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1) throw type_error(env, "threads is missing");
    const unsigned threads = threads_value(env, info[0]);
    if (info.Length() < 2 || !info[1].IsFunction()) throw type_error(env, "onSolutions must be a function");
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "cfx-miner solutions", 0, 1);
    tsfn_.Unref(env);  // the socket, not this, keeps a miner's process alive
    auto tsfn = tsfn_;
    std::weak_ptr<Shared> weak = shared_;
    shared_->engine = guarded(env, [&] {
      return std::make_shared<cfx::SearchEngine>(threads, [tsfn, weak]() mutable {
        // Called on a search thread; the drain runs on the JS thread. napi_closing after
        // destroy() is expected and harmless: the engine is already stopped then.
        auto shared = weak.lock();
        if (!shared) return;
        tsfn.NonBlockingCall([shared](Napi::Env env, Napi::Function cb) { drain(env, cb, shared); });
      });
    });
    napi_add_env_cleanup_hook(env, &EngineWrap::on_env_exit, this);
    hook_added_ = true;
  }

  ~EngineWrap() override { stop(); }

 private:
  static void on_env_exit(void* arg) { static_cast<EngineWrap*>(arg)->stop(); }

  // Joins the threads first, so no search thread can touch the ThreadSafeFunction after release.
  void stop() {
    if (!stopped_) {
      stopped_ = true;
      shared_->engine->shutdown();
      tsfn_.Release();
    }
    if (hook_added_) {
      napi_remove_env_cleanup_hook(Env(), &EngineWrap::on_env_exit, this);
      hook_added_ = false;
    }
  }

  cfx::SearchEngine& engine(Napi::Env env) {
    if (stopped_) throw Napi::Error::New(env, "search engine destroyed");
    return *shared_->engine;
  }

  // start(algo, header, boundary, startNonce, cache, dataset, datasetBytes), by position: algo 0
  // is keccak and 1 Octopus; cache, dataset and datasetBytes are undefined where they do not
  // apply. Positional, not an options object: this runs on every job, on an event loop whose
  // caches the search threads have just evicted, and each named property read is a generic
  // lookup through V8's runtime (measured by position: start() p99 0.12 -> 0.04 ms).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    cfx::SearchJob job;
    const uint64_t algo = uint_arg(info, 0, "algo", 0, 1);
    job.algo = algo == 0 ? cfx::Algo::kKeccak : cfx::Algo::kOctopus;
    std::memcpy(job.header, buffer_arg(info, 1, 32, "header"), 32);
    job.boundary = cfx::u256_from_be(buffer_arg(info, 2, 32, "boundary"));
    job.start_nonce = uint_arg(info, 3, "startNonce", 0, UINT64_MAX);
    if (job.algo == cfx::Algo::kOctopus) {
      if (info[4].IsUndefined()) throw type_error(env, "octopus needs a cache");
      job.cache = handle_value<cfx::Cache>(env, info[4], "cache")->ptr;
      if (!info[5].IsUndefined()) {
        auto* ds = handle_value<cfx::Dataset>(env, info[5], "dataset");
        if (!ds->ptr) throw Napi::Error::New(env, "dataset has been released");
        job.dataset = ds->ptr;
      }
      job.dataset_bytes = dataset_bytes_arg(info, 6, "datasetBytes");
    }
    const uint64_t gen = guarded(env, [&] { return engine(env).start(job); });
    return Napi::Number::New(env, double(gen));
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    guarded(info.Env(), [&] { engine(info.Env()).pause(); });
    return info.Env().Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    stop();
    return info.Env().Undefined();
  }

  Napi::Value Generation(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), stopped_ ? 0.0 : double(shared_->engine->generation()));
  }

  // Hashes per thread. Still answers after destroy(): the totals of a stopped engine stay true.
  Napi::Value HashCounts(const Napi::CallbackInfo& info) {
    auto counts = shared_->engine->thread_hashes();
    auto arr = Napi::Array::New(info.Env(), counts.size());
    for (size_t i = 0; i < counts.size(); ++i) arr.Set(uint32_t(i), Napi::Number::New(info.Env(), double(counts[i])));
    return arr;
  }

  // {stale, full}: solutions the engine dropped for a replaced job, and for a full queue.
  Napi::Value Dropped(const Napi::CallbackInfo& info) {
    auto o = Napi::Object::New(info.Env());
    o.Set("stale", double(shared_->engine->dropped_stale()));
    o.Set("full", double(shared_->engine->dropped_full()));
    o.Set("shares", double(shared_->engine->dropped_shares()));
    return o;
  }

  // Internal shares from now on: hashes below 2^256 / 2^bits (bits 0 to cfx::kMaxShareBits).
  Napi::Value SetShareBits(const Napi::CallbackInfo& info) {
    const uint64_t bits = uint_arg(info, 0, "bits", 0, cfx::kMaxShareBits);
    guarded(info.Env(), [&] { engine(info.Env()).set_share_bits(static_cast<uint32_t>(bits)); });
    return info.Env().Undefined();
  }

  // When every thread had taken generation N, 0 being "gone idle" after pause() (steady_clock ns,
  // as a double: exact for 104 days of uptime, then to 2 ns), or -1 while one has not. Never
  // waits: a test waits for a switch by asking until it is answered.
  Napi::Value SwitchedAt(const Napi::CallbackInfo& info) {
    const uint64_t gen = uint_arg(info, 0, "generation", 0, uint64_t(1) << 53);
    const int64_t ns = guarded(info.Env(), [&] { return engine(info.Env()).switched_at_ns(gen); });
    return Napi::Number::New(info.Env(), double(ns));
  }

  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  Napi::ThreadSafeFunction tsfn_;
  bool stopped_ = false;
  bool hook_added_ = false;
};

}  // namespace

void init_engine(Napi::Env env, Napi::Object exports) { exports.Set("SearchEngine", EngineWrap::define(env)); }

}  // namespace cfx_binding
