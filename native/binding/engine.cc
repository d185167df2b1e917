#include "engine.h"

#include <cstring>
#include <memory>
#include <string>

#include "../core/search.h"
#include "convert.h"

namespace cfx_binding {
namespace {

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "SearchEngine",
                       {InstanceMethod<&EngineWrap::Start>("start"), InstanceMethod<&EngineWrap::Pause>("pause"),
                        InstanceMethod<&EngineWrap::Destroy>("destroy"),
                        InstanceMethod<&EngineWrap::Generation>("generation"),
                        InstanceMethod<&EngineWrap::HashCounts>("hashCounts")});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    const unsigned threads = static_cast<unsigned>(uint_arg(info, 0, "threads", 1, 1024));
    if (info.Length() < 2 || !info[1].IsFunction()) throw type_error(env, "onSolutions must be a function");
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "cfx-miner solutions", 0, 1);
    tsfn_.Unref(env);  // the socket, not this, keeps a miner's process alive
    auto tsfn = tsfn_;
    EngineWrap* self = this;
    engine_ = guarded(env, [&] {
      return std::make_unique<cfx::SearchEngine>(threads, [tsfn, self]() mutable {
        // Called on a search thread; the drain runs on the JS thread. napi_closing after
        // destroy() is expected and harmless: the engine is already stopped then.
        tsfn.NonBlockingCall([self](Napi::Env env, Napi::Function cb) { self->drain(env, cb); });
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
    if (engine_) {
      engine_->shutdown();
      engine_.reset();
      tsfn_.Release();
    }
    if (hook_added_) {
      napi_remove_env_cleanup_hook(Env(), &EngineWrap::on_env_exit, this);
      hook_added_ = false;
    }
  }

  void drain(Napi::Env env, Napi::Function cb) {
    if (!engine_ || cb.IsEmpty()) return;
    auto solutions = engine_->take_solutions();
    size_t i = 0;
    while (i < solutions.size()) {
      // Normally all of one generation; a burst spanning a switch is split so JS can drop the old part.
      const uint64_t gen = solutions[i].generation;
      size_t j = i;
      while (j < solutions.size() && solutions[j].generation == gen) ++j;
      auto nonces = Napi::Array::New(env, j - i);
      auto hashes = Napi::Array::New(env, j - i);
      for (size_t k = i; k < j; ++k) {
        nonces.Set(uint32_t(k - i), Napi::BigInt::New(env, solutions[k].nonce));
        hashes.Set(uint32_t(k - i), copy_buffer(env, solutions[k].hash, 32));
      }
      cb.Call({Napi::Number::New(env, double(gen)), nonces, hashes});
      i = j;
    }
  }

  cfx::SearchEngine& engine(Napi::Env env) {
    if (!engine_) throw Napi::Error::New(env, "search engine destroyed");
    return *engine_;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw type_error(env, "job must be an object");
    auto o = info[0].As<Napi::Object>();
    cfx::SearchJob job;
    const std::string algo = o.Get("algo").IsString() ? o.Get("algo").As<Napi::String>().Utf8Value() : "";
    if (algo == "keccak") job.algo = cfx::Algo::kKeccak;
    else if (algo == "octopus") job.algo = cfx::Algo::kOctopus;
    else throw type_error(env, "algo must be 'octopus' or 'keccak'");
    std::memcpy(job.header, buffer_prop(env, o, "header", 32), 32);
    job.boundary = cfx::u256_from_be(buffer_prop(env, o, "boundary", 32));
    job.start_nonce = uint_value(env, o.Get("startNonce"), "startNonce", 0, UINT64_MAX);
    if (job.algo == cfx::Algo::kOctopus) {
      if (!o.Has("cache") || o.Get("cache").IsUndefined()) throw type_error(env, "octopus needs a cache");
      auto* cache = handle_value<cfx::Cache>(env, o.Get("cache"), "cache");
      job.cache = cache->ptr;
      if (o.Has("dataset") && !o.Get("dataset").IsUndefined()) {
        auto* ds = handle_value<cfx::Dataset>(env, o.Get("dataset"), "dataset");
        if (!ds->ptr) throw Napi::Error::New(env, "dataset has been released");
        job.dataset = ds->ptr;
      }
      job.dataset_bytes = uint_value(env, o.Get("datasetBytes"), "datasetBytes", 256, uint64_t(1) << 40);
    }
    const uint64_t gen = guarded(env, [&] { return engine(env).start(job); });
    return Napi::Number::New(env, double(gen));
  }

  static const uint8_t* buffer_prop(Napi::Env env, const Napi::Object& o, const char* name, size_t len) {
    Napi::Value v = o.Get(name);
    if (!v.IsBuffer()) throw type_error(env, std::string(name) + " must be a Buffer");
    auto buf = v.As<Napi::Buffer<uint8_t>>();
    if (buf.Length() != len) throw range_error(env, std::string(name) + " must be " + std::to_string(len) + " bytes");
    return buf.Data();
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
    return Napi::Number::New(info.Env(), engine_ ? double(engine_->generation()) : 0.0);
  }

  Napi::Value HashCounts(const Napi::CallbackInfo& info) {
    auto arr = Napi::Array::New(info.Env());
    if (engine_) {
      auto counts = engine_->thread_hashes();
      for (size_t i = 0; i < counts.size(); ++i) arr.Set(uint32_t(i), Napi::Number::New(info.Env(), double(counts[i])));
    }
    return arr;
  }

  std::unique_ptr<cfx::SearchEngine> engine_;
  Napi::ThreadSafeFunction tsfn_;
  bool hook_added_ = false;
};

}  // namespace

void init_engine(Napi::Env env, Napi::Object exports) { exports.Set("SearchEngine", EngineWrap::define(env)); }

}  // namespace cfx_binding
