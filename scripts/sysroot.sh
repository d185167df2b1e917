#!/usr/bin/env bash
# The older system the prebuilds are linked against: Debian 11 (bullseye) with glibc 2.31 and
# libstdc++ from GCC 10, the same as Ubuntu 20.04, which HiveOS images are built on. The compiler
# stays the host's (GCC 12: the AMX kernels need GCC 11 or later); only the C and C++ libraries
# and their headers come from here, so the addon asks for no glibc or libstdc++ symbol newer than
# those systems have (scripts/prebuild.sh). The tests also run the packed miner on these
# libraries: test/package.test.ts through their own dynamic loader (amd64), test/arm64-qemu.ts
# under qemu-aarch64 -L (arm64).
#   scripts/sysroot.sh [amd64|arm64] [dir]   (default: amd64 in .cache/sysroot/bullseye-<arch>;
#                                              needs root, debootstrap and Debian's mirror;
#                                              ~20-40 s and ~300 MB each)
# Only debootstrap's first stage runs (--foreign), so nothing of the target runs on this machine:
# its packages are unpacked with dpkg-deb, their maintainer scripts never run (a sysroot needs
# only their files).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=${1:-amd64}
case $arch in
  amd64) triple=x86_64-linux-gnu loader=lib64/ld-linux-x86-64.so.2 ;;
  arm64) triple=aarch64-linux-gnu loader=lib/ld-linux-aarch64.so.1 ;;
  *) echo "sysroot: the architecture is amd64 or arm64, not '$arch'" >&2; exit 1 ;;
esac
dir=${2:-$root/.cache/sysroot/bullseye-$arch}
mirror=${CFX_SYSROOT_MIRROR:-http://deb.debian.org/debian}

if [[ -e $dir/usr/include/c++ && -e $dir/$loader ]]; then
  echo "sysroot: $dir is there" >&2
  exit 0
fi
command -v debootstrap >/dev/null ||
  { echo "sysroot: no debootstrap (apt-get install debootstrap)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "sysroot: debootstrap needs root" >&2; exit 1; }

tmp=$dir.partial
rm -rf "$tmp"
mkdir -p "$(dirname "$dir")"
debootstrap --foreign --variant=minbase --arch="$arch" --include=libc6-dev,libstdc++-10-dev,linux-libc-dev \
  bullseye "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
  { echo "sysroot: debootstrap failed; the end of $tmp.log:" >&2; tail -n 5 "$tmp.log" >&2; exit 1; }
for deb in "$tmp"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$tmp"; done
# Its library links are absolute (/lib/<triple>/...): the linker would follow them out of the
# sysroot into this machine's libraries. Make them relative.
libdirs=()
for d in lib lib64 usr/lib usr/lib64; do [[ -d $tmp/$d && ! -L $tmp/$d ]] && libdirs+=("$tmp/$d"); done
find "${libdirs[@]}" -type l -lname '/*' | while read -r link; do ln -sfr "$tmp$(readlink "$link")" "$link"; done
[[ -e $tmp/$loader && -e $tmp/usr/lib/$triple/libstdc++.so.6 && -d $tmp/usr/include/c++ ]] ||
  { echo "sysroot: $tmp lacks $loader, libstdc++ or its headers" >&2; exit 1; }
rm -rf "$tmp/var/cache/apt/archives" "$tmp.log"
mv "$tmp" "$dir"
echo "sysroot: $dir (libstdc++ $(ls "$dir/usr/include/c++"), glibc" \
  "$(ls "$dir"/{lib,usr/lib}/"$triple"/libc-*.so 2>/dev/null | head -n 1 | sed 's/.*libc-\(.*\)\.so/\1/'))" >&2
