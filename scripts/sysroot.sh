#!/usr/bin/env bash
# The older system the linux-x64 prebuild is linked against: Debian 11 (bullseye) with glibc 2.31
# and libstdc++ from GCC 10, the same as Ubuntu 20.04, which HiveOS images are built on. The
# compiler stays the host's (GCC 12: the AMX kernels need GCC 11 or later); only the C and C++
# libraries and their headers come from here, so the addon asks for no glibc or libstdc++
# symbol newer than those systems have (scripts/prebuild.sh). test/package.test.ts also runs
# the packed miner on these libraries, through their own dynamic loader.
#   scripts/sysroot.sh [dir]     (default: .cache/sysroot/bullseye-amd64; needs root, debootstrap
#                                 and Debian's mirror; ~40 s and ~300 MB)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$root/.cache/sysroot/bullseye-amd64}
mirror=${CFX_SYSROOT_MIRROR:-http://deb.debian.org/debian}

if [[ -e $dir/usr/include/c++ && -e $dir/lib64/ld-linux-x86-64.so.2 ]]; then
  echo "sysroot: $dir is there" >&2
  exit 0
fi
command -v debootstrap >/dev/null ||
  { echo "sysroot: no debootstrap (apt-get install debootstrap)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "sysroot: debootstrap needs root" >&2; exit 1; }

tmp=$dir.partial
rm -rf "$tmp"
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase --arch=amd64 --include=libc6-dev,libstdc++-10-dev,linux-libc-dev \
  bullseye "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
  { echo "sysroot: debootstrap failed; the end of $tmp.log:" >&2; tail -n 5 "$tmp.log" >&2; exit 1; }
# Its library links are absolute (/lib/x86_64-linux-gnu/...): the linker would follow them out of
# the sysroot into the host's libraries. Make them relative.
find "$tmp/usr/lib64" "$tmp/usr/lib/x86_64-linux-gnu" "$tmp/usr/lib/gcc" -type l -lname '/*' |
  while read -r link; do ln -sfr "$tmp$(readlink "$link")" "$link"; done
rm -f "$tmp.log"
mv "$tmp" "$dir"
echo "sysroot: $dir ($(ls "$dir/usr/include/c++"): glibc $(ls "$dir"/usr/lib/x86_64-linux-gnu/libc-*.so | sed 's/.*libc-\(.*\)\.so/\1/'))" >&2
