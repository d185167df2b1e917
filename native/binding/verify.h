// The host-side re-check of a found nonce, off the JS thread.
#pragma once
#include <napi.h>

namespace cfx_binding {

void init_verify(Napi::Env env, Napi::Object exports);

}  // namespace cfx_binding
