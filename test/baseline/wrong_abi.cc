// An addon that claims another Node ABI (NODE_MODULE_VERSION 42, Node 4), built only so that the
// loader's diagnosis is tested against the error Node really prints for a module built for
// another Node.js (test/native-api.test.ts). Node's own addon tests make theirs the same way.
#include <node_version.h>
#undef NODE_MODULE_VERSION
#define NODE_MODULE_VERSION 42
#include <node.h>

namespace {
void Initialize(v8::Local<v8::Object>, v8::Local<v8::Value>, v8::Local<v8::Context>) {}
}  // namespace

NODE_MODULE_CONTEXT_AWARE(cfx_wrong_abi, Initialize)
