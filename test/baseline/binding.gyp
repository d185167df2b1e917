# Test-only addons, built by `npm run build:refs`, never shipped: the independent baseline, the
# test hooks on the product's handles (hooks.cc), and an addon built for another Node ABI that the
# loader's diagnosis is tested with (wrong_abi.cc). node-gyp-build loads the first .node of
# build/Release in name order, so cfx_baseline must keep the first name; the others are loaded
# by file name (test/support/native-hooks.ts).
{
  "targets": [
    {
      "target_name": "cfx_baseline",
      "sources": ["baseline.cc", "addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17"}
    },
    {
      "target_name": "cfx_test_hooks",
      "sources": [
        "hooks.cc",
        "../../native/core/cpu.cc", "../../native/core/dag.cc", "../../native/core/keccak.cc",
        "../../native/core/keccak_x8.cc", "../../native/core/octopus.cc", "../../native/core/params.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17"}
    },
    {
      "target_name": "cfx_wrong_abi",
      "sources": ["wrong_abi.cc"]
    }
  ]
}
