// The search engine as a JS class: native threads, solutions delivered through a
// ThreadSafeFunction, joined on destroy(), on garbage collection and when Node exits.
#pragma once
#include <napi.h>

namespace cfx_binding {

void init_engine(Napi::Env env, Napi::Object exports);

}  // namespace cfx_binding
