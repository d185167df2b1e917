#!/usr/bin/env bash
# The prebuilt Node-API addons the package ships (prebuildify --napi, found at run time by
# node-gyp-build): linux-x64, and linux-arm64 cross-compiled with Debian's g++-aarch64-linux-gnu.
#   scripts/prebuild.sh [prebuilds dir]      (default: the repository's prebuilds/)
# Each build runs in a scratch copy of binding.gyp and native/{core,binding}: prebuildify moves
# the .node out of build/Release, and the checkout's build/ is what the tests load.
# Each is linked against an older system's C and C++ libraries when scripts/sysroot.sh has made
# them (.cache/sysroot/bullseye-amd64 and -arm64, or CFX_PREBUILD_SYSROOT / _ARM64): glibc 2.31
# and libstdc++ from GCC 10, so the prebuild loads on Debian 11, Ubuntu 20.04 (HiveOS) and newer.
# Without them a prebuild needs this machine's glibc and libstdc++, and says so.
# Both builds are for baseline CPUs (binding.gyp has no -march): the AVX-512 and AMX kernels are
# chosen at run time on x86-64 and compile out on arm64 (native/core/cpu.h), where the portable
# code runs; test/arm64-qemu.ts runs the core's tests, every vector, under qemu-aarch64.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p "${1:-$root/prebuilds}" && cd "${1:-$root/prebuilds}" && pwd)
target=$(node -p process.versions.node)
# Node's headers are the same for every CPU: those of the local node serve both builds when it
# has them (else node-gyp downloads them for --target).
if [[ -z ${npm_config_nodedir:-} ]]; then
  for prefix in "$(node -p process.config.variables.node_prefix)" "$(dirname "$(dirname "$(node -p process.execPath)")")"; do
    if [[ -f $prefix/include/node/node_api.h ]]; then export npm_config_nodedir=$prefix; break; fi
  done
fi

# The sysroot of each prebuild (scripts/sysroot.sh amd64|arm64).
sysroot_for() { # <arch>
  case $1 in
    x64) echo "${CFX_PREBUILD_SYSROOT:-$root/.cache/sysroot/bullseye-amd64}" ;;
    arm64) echo "${CFX_PREBUILD_SYSROOT_ARM64:-$root/.cache/sysroot/bullseye-arm64}" ;;
  esac
}

build() { # <arch> [cross prefix]
  local arch=$1 cross=${2:-} stage sysroot triple cxx_ver
  sysroot=$(sysroot_for "$arch")
  triple=$([[ $arch == arm64 ]] && echo aarch64-linux-gnu || echo x86_64-linux-gnu)
  stage=$(mktemp -d)
  mkdir -p "$stage/native"
  cp "$root/binding.gyp" "$root/package.json" "$stage/"
  cp -r "$root/native/core" "$root/native/binding" "$stage/native/"
  ln -s "$root/node_modules" "$stage/node_modules"
  local gxx=${cross:+$cross-}g++ flags=(--napi --strip --target="$target" --cwd "$stage" --quiet)
  [[ -n $cross ]] && flags+=(--strip-bin="$cross-strip" --arch="$arch")
  if [[ -d $sysroot/usr/include/c++ ]]; then
    # The host's g++ with the sysroot's headers and libraries. GCC's own library directories are
    # not under --sysroot on Debian, hence the explicit -B and -L ahead of them.
    cxx_ver=$(ls "$sysroot/usr/include/c++" | sort -V | tail -n 1)
    CC="${cross:+$cross-}gcc --sysroot=$sysroot" AR=${cross:+$cross-}ar \
    CXX="$gxx --sysroot=$sysroot -nostdinc++ -isystem $sysroot/usr/include/c++/$cxx_ver \
-isystem $sysroot/usr/include/$triple/c++/$cxx_ver -isystem $sysroot/usr/include/c++/$cxx_ver/backward" \
    LINK="$gxx --sysroot=$sysroot -B$sysroot/usr/lib/$triple -L$sysroot/usr/lib/gcc/$triple/$cxx_ver \
-L$sysroot/usr/lib/$triple -L$sysroot/lib/$triple" \
      "$root/node_modules/.bin/prebuildify" "${flags[@]}"
  elif [[ -n $cross ]]; then
    CC=$cross-gcc CXX=$cross-g++ LINK=$cross-g++ AR=$cross-ar "$root/node_modules/.bin/prebuildify" "${flags[@]}"
  else
    "$root/node_modules/.bin/prebuildify" "${flags[@]}"
  fi
  rm -rf "${out:?}/linux-$arch"
  mkdir -p "$out/linux-$arch"
  cp "$stage/prebuilds/linux-$arch/"*.node "$out/linux-$arch/"
  rm -rf "$stage"
  local needs
  needs=$(glibc_needed "$out/linux-$arch/"*.node)
  echo "prebuild: $(cd "$out" && ls linux-"$arch"/*.node) (needs glibc $needs)" >&2
  if [[ ! -d $sysroot/usr/include/c++ ]]; then
    echo "prebuild: NOTE linux-$arch is linked against this machine's glibc, not an older one: it will not load on" \
      "Ubuntu 20.04 (HiveOS) or Debian 11; scripts/sysroot.sh $([[ $arch == arm64 ]] && echo arm64 || echo amd64)" \
      "makes the sysroot that fixes it" >&2
  fi
}

# The newest GLIBC_x.y symbol version a .node file asks for.
glibc_needed() {
  objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1
}

[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] ||
  { echo "prebuild: the release builds on Linux x86-64 (here: $(uname -s) $(uname -m))" >&2; exit 1; }
build x64
if command -v aarch64-linux-gnu-g++ >/dev/null; then
  build arm64 aarch64-linux-gnu
else
  echo "prebuild: no aarch64-linux-gnu-g++ (apt-get install g++-aarch64-linux-gnu), so no linux-arm64 prebuild; arm64 installs would build from source" >&2
fi
