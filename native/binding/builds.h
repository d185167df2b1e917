// Cache and dataset builds on worker threads, resolved as Promises, with progress callbacks.
#pragma once
#include <napi.h>

namespace cfx_binding {

void init_builds(Napi::Env env, Napi::Object exports);

}  // namespace cfx_binding
