#include "builds.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <unistd.h>

#include "../core/dag.h"
#include "../core/params.h"
#include "convert.h"

namespace cfx_binding {
namespace {

using cfx::Cache;
using cfx::CancelFlag;
using cfx::Dataset;

// Every build in progress, so that Node's exit can cancel them and wait (briefly) for their
// threads instead of tearing the process down under them.
struct BuildRegistry {
  std::mutex mu;
  std::condition_variable idle;
  std::set<std::shared_ptr<CancelFlag>> active;
};
BuildRegistry& registry() {
  static BuildRegistry* r = new BuildRegistry();  // never destroyed: workers may outlive statics
  return *r;
}

// A build is in the registry from the moment it is queued (so that a build still waiting for a
// pool thread is cancelled too) until its Execute() returns or the worker is destroyed.
void register_build(const std::shared_ptr<CancelFlag>& flag) {
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().active.insert(flag);
}
void unregister_build(const std::shared_ptr<CancelFlag>& flag) {
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().active.erase(flag);
  registry().idle.notify_all();
}

// Cancels every build; also called from JS on process.exit(), which (unlike a normal exit) runs
// no cleanup hook but does join libuv's pool threads, so a running build must end at once.
Napi::Value CancelAllBuilds(const Napi::CallbackInfo& info) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (auto& f : r.active) f->cancelled.store(true, std::memory_order_relaxed);
  return info.Env().Undefined();
}

void cancel_all_builds(void*) {
  auto& r = registry();
  std::unique_lock<std::mutex> lock(r.mu);
  for (auto& f : r.active) f->cancelled.store(true, std::memory_order_relaxed);
  // Builds poll their flag every few milliseconds; a second is plenty.
  r.idle.wait_for(lock, std::chrono::seconds(1), [&] { return r.active.empty(); });
}

// Caches are reported to V8 (a replaced cache is then collected promptly); datasets are not:
// they are released explicitly, and reporting gigabytes would only provoke full collections.
int64_t external_bytes(const Cache& c) { return static_cast<int64_t>(c.bytes()); }
int64_t external_bytes(const Dataset&) { return 0; }

struct Progress {
  uint64_t done, total;
};

// A build whose result is a shared_ptr<T>, resolved to a tagged handle.
template <class T>
class BuildWorker : public Napi::AsyncProgressWorker<Progress> {
 public:
  using Job = std::function<std::shared_ptr<T>(const cfx::ProgressFn&, const CancelFlag*)>;

  BuildWorker(Napi::Env env, Job job, Napi::Value on_progress, std::shared_ptr<CancelFlag> cancel, std::string what)
      : Napi::AsyncProgressWorker<Progress>(env, "cfx-miner build"),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        cancel_(std::move(cancel)),
        what_(std::move(what)) {
    if (on_progress.IsFunction()) progress_fn_ = Napi::Persistent(on_progress.As<Napi::Function>());
    register_build(cancel_);
  }

  ~BuildWorker() override { unregister_build(cancel_); }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    struct Done {
      const std::shared_ptr<CancelFlag>& flag;
      ~Done() { unregister_build(flag); }
    } done{cancel_};
    // Cancelled while it waited for a pool thread (the process is exiting, or its stage is no
    // longer wanted): not one byte is allocated.
    if (cancel_->is_set()) return;
    try {
      result_ = job_([&](uint64_t done, uint64_t total) {
        Progress p{done, total};
        progress.Send(&p, 1);
      }, cancel_.get());
    } catch (const cfx::Cancelled&) {
      // resolved with undefined below: a cancellation is no failure, and its own outcome
    } catch (const std::bad_alloc&) {
      SetError("not enough memory for the " + what_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnProgress(const Progress* data, size_t count) override {
    if (progress_fn_.IsEmpty() || count == 0) return;
    Napi::HandleScope scope(Env());
    const Progress& p = data[count - 1];
    progress_fn_.Call({Napi::Number::New(Env(), double(p.done)), Napi::Number::New(Env(), double(p.total))});
  }

  // A cancelled build resolves to undefined (the JS wrapper turns that into its AbortError):
  // no message string has to be matched across the boundary to tell it from a failure.
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (!result_) return deferred_.Resolve(Env().Undefined());
    const int64_t bytes = external_bytes(*result_);
    deferred_.Resolve(wrap_handle<T>(Env(), std::move(result_), bytes));
  }

  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  std::shared_ptr<CancelFlag> cancel_;
  std::string what_;
  Napi::FunctionReference progress_fn_;
  std::shared_ptr<T> result_;
};

std::shared_ptr<CancelFlag> cancel_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return std::make_shared<CancelFlag>();
  return handle_arg<CancelFlag>(info, i, "cancel token");
}

Napi::Value NewCancelToken(const Napi::CallbackInfo& info) {
  return wrap_handle<CancelFlag>(info.Env(), std::make_shared<CancelFlag>());
}

Napi::Value Cancel(const Napi::CallbackInfo& info) {
  // relaxed: the flag is a request to stop; builds poll it and nothing else is published with it
  handle_arg<CancelFlag>(info, 0, "cancel token")->cancelled.store(true, std::memory_order_relaxed);
  return info.Env().Undefined();
}

Napi::Value BuildCache(const Napi::CallbackInfo& info) {
  const uint64_t stage = uint_arg(info, 0, "stage", 0, cfx::kMaxHeight / cfx::kStageLength);
  auto cancel = cancel_arg(info, 2);
  auto* w = new BuildWorker<Cache>(
      info.Env(),
      [stage](const cfx::ProgressFn& p, const CancelFlag* c) { return Cache::build(stage, p, c); },
      info.Length() > 1 ? info[1] : info.Env().Undefined(), cancel, "cache");
  auto promise = w->promise();
  w->Queue();
  return promise;
}

// buildDataset(cache, {bytes, threads, hugePages, onProgress, cancel}): one options object (the
// baton) read here, on the JS thread; the worker gets plain copies.
Napi::Value BuildDataset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto cache = handle_arg<Cache>(info, 0, "cache");
  if (info.Length() < 2 || !info[1].IsObject()) throw type_error(env, "dataset options must be an object");
  const auto opts = info[1].As<Napi::Object>();
  const uint64_t bytes = dataset_bytes_value(env, opts.Get("bytes"), "dataset bytes");
  const unsigned threads = threads_value(env, opts.Get("threads"));
  // The mapping is lazy, so an impossible size would only fail when the OOM killer comes.
  const uint64_t physical = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE));
  if (bytes > physical)
    throw range_error(env, "a dataset of " + std::to_string(bytes >> 20) + " MiB is larger than this machine's memory (" +
                               std::to_string(physical >> 20) + " MiB)");
  const bool huge = opts.Get("hugePages").ToBoolean().Value();
  const Napi::Value token = opts.Get("cancel");
  auto cancel = token.IsUndefined() ? std::make_shared<CancelFlag>() : handle_value<CancelFlag>(env, token, "cancel token")->ptr;
  auto* w = new BuildWorker<Dataset>(
      env,
      [cache, bytes, threads, huge](const cfx::ProgressFn& p, const CancelFlag* c) {
        auto ds = std::make_shared<Dataset>(bytes, cache->stage(), huge);
        ds->generate(*cache, threads, p, c);
        return ds;
      },
      opts.Get("onProgress"), cancel, "dataset");
  auto promise = w->promise();
  w->Queue();
  return promise;
}

}  // namespace

void init_builds(Napi::Env env, Napi::Object exports) {
  exports.Set("newCancelToken", Napi::Function::New(env, NewCancelToken));
  exports.Set("cancel", Napi::Function::New(env, Cancel));
  exports.Set("buildCache", Napi::Function::New(env, BuildCache));
  exports.Set("buildDataset", Napi::Function::New(env, BuildDataset));
  exports.Set("cancelAllBuilds", Napi::Function::New(env, CancelAllBuilds));
  napi_add_env_cleanup_hook(env, cancel_all_builds, nullptr);
}

}  // namespace cfx_binding
