// Argument conversion and checks at the N-API edge: every JS value is validated here and turned
// into a TypeError/RangeError, and C++ exceptions from the core become JS errors.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "../core/params.h"

namespace cfx {
class Cache;
class Dataset;
struct CancelFlag;
}  // namespace cfx

namespace cfx_binding {

inline Napi::TypeError type_error(Napi::Env env, const std::string& msg) { return Napi::TypeError::New(env, msg); }
inline Napi::RangeError range_error(Napi::Env env, const std::string& msg) { return Napi::RangeError::New(env, msg); }

// A Buffer argument of exactly `len` bytes.
inline const uint8_t* buffer_arg(const Napi::CallbackInfo& info, size_t i, size_t len, const char* name) {
  if (info.Length() <= i || !info[i].IsBuffer()) throw type_error(info.Env(), std::string(name) + " must be a Buffer");
  auto buf = info[i].As<Napi::Buffer<uint8_t>>();
  if (buf.Length() != len)
    throw range_error(info.Env(), std::string(name) + " must be " + std::to_string(len) + " bytes");
  return buf.Data();
}

// A whole number in [min, max] given as a JS number (exact) or a BigInt.
inline uint64_t uint_value(Napi::Env env, const Napi::Value& v, const char* name, uint64_t min, uint64_t max) {
  uint64_t out;
  if (v.IsBigInt()) {
    bool lossless = false;
    out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw range_error(env, std::string(name) + " must fit in 64 bits and not be negative");
  } else if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    // Range first: casting a double outside uint64_t's range (1e30, Infinity, NaN) is undefined.
    if (!(d >= 0 && d <= 9007199254740991.0) || d != std::floor(d))
      throw range_error(env, std::string(name) + " must be a whole number from 0 to 2^53-1");
    out = static_cast<uint64_t>(d);
  } else {
    throw type_error(env, std::string(name) + " must be a number or a bigint");
  }
  if (out < min || out > max)
    throw range_error(env, std::string(name) + " must be from " + std::to_string(min) + " to " + std::to_string(max));
  return out;
}

inline uint64_t uint_arg(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t min, uint64_t max) {
  if (info.Length() <= i) throw type_error(info.Env(), std::string(name) + " is missing");
  return uint_value(info.Env(), info[i], name, min, max);
}

// A dataset size the hash is defined over: whole 256-byte pages, at most cfx::kMaxDatasetBytes.
inline uint64_t dataset_bytes_value(Napi::Env env, const Napi::Value& v, const char* name) {
  const uint64_t bytes = uint_value(env, v, name, cfx::kPageBytes, cfx::kMaxDatasetBytes);
  if (bytes % cfx::kPageBytes) throw range_error(env, std::string(name) + " must be a multiple of 256");
  return bytes;
}

inline uint64_t dataset_bytes_arg(const Napi::CallbackInfo& info, size_t i, const char* name = "dataset bytes") {
  if (info.Length() <= i) throw type_error(info.Env(), std::string(name) + " is missing");
  return dataset_bytes_value(info.Env(), info[i], name);
}

inline unsigned threads_value(Napi::Env env, const Napi::Value& v, const char* name = "threads") {
  return static_cast<unsigned>(uint_value(env, v, name, 1, cfx::kMaxThreads));
}

inline Napi::Buffer<uint8_t> copy_buffer(Napi::Env env, const uint8_t* data, size_t len) {
  return Napi::Buffer<uint8_t>::Copy(env, data, len);
}

// Opaque handles: a shared_ptr in an External, type-tagged so a handle of one kind (or any other
// External) passed where another is expected is a TypeError, not memory corruption.
template <class T>
struct Handle {
  std::shared_ptr<T> ptr;
};

template <class T>
struct HandleTag;  // one unique napi_type_tag per kind of handle

template <>
struct HandleTag<cfx::Cache> {
  static constexpr napi_type_tag tag = {0x6366786d696e6572ULL, 0x6361636865000001ULL};
};
template <>
struct HandleTag<cfx::Dataset> {
  static constexpr napi_type_tag tag = {0x6366786d696e6572ULL, 0x6461746173657401ULL};
};
template <>
struct HandleTag<cfx::CancelFlag> {
  static constexpr napi_type_tag tag = {0x6366786d696e6572ULL, 0x63616e63656c0001ULL};
};

// `external_bytes`: memory the handle keeps alive outside V8's heap, reported to V8 (and taken
// back when the handle is collected) so that the garbage collector weighs a handle by its real
// size and frees replaced caches promptly instead of seeing a few bytes each.
template <class T>
Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<T> ptr, int64_t external_bytes = 0) {
  auto* h = new Handle<T>{std::move(ptr)};
  int64_t total = 0;
  if (external_bytes > 0) napi_adjust_external_memory(env, external_bytes, &total);
  auto ext = Napi::External<Handle<T>>::New(env, h, [external_bytes](Napi::Env fenv, Handle<T>* p) {
    int64_t left = 0;
    if (external_bytes > 0) napi_adjust_external_memory(fenv, -external_bytes, &left);
    delete p;
  });
  napi_status st = napi_type_tag_object(env, ext, &HandleTag<T>::tag);
  if (st != napi_ok) throw Napi::Error::New(env, "cannot tag a native handle");
  return ext;
}

template <class T>
Handle<T>* handle_value(Napi::Env env, const Napi::Value& v, const char* name) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(env, v, &HandleTag<T>::tag, &ok);
  if (!ok) throw type_error(env, std::string(name) + " is not a valid handle");
  return v.As<Napi::External<Handle<T>>>().Data();
}

template <class T>
std::shared_ptr<T> handle_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i) throw type_error(info.Env(), std::string(name) + " is missing");
  auto* h = handle_value<T>(info.Env(), info[i], name);
  if (!h->ptr) throw Napi::Error::New(info.Env(), std::string(name) + " has been released");
  return h->ptr;
}

// (cache, header, nonce, datasetBytes): the arguments of every light-mode hash, read on the JS
// thread (the header still points into its Buffer: copy it before leaving the thread).
struct LightArgs {
  std::shared_ptr<cfx::Cache> cache;
  const uint8_t* header;
  uint64_t nonce;
  uint64_t dataset_bytes;
};

inline LightArgs light_args(const Napi::CallbackInfo& info) {
  auto cache = handle_arg<cfx::Cache>(info, 0, "cache");
  const uint8_t* header = buffer_arg(info, 1, 32, "header");
  const uint64_t nonce = uint_arg(info, 2, "nonce", 0, UINT64_MAX);
  return LightArgs{std::move(cache), header, nonce, dataset_bytes_arg(info, 3)};
}

// Runs `fn`, turning core exceptions into JS errors with a message a user can act on.
template <class Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "not enough memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace cfx_binding
