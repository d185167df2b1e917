#!/usr/bin/env bash
# npm run release: everything a release publishes, into release/:
#   cfx-miner-X.tgz            the npm package (compiled JS, native sources, prebuilt linux-x64 and
#                              linux-arm64 addons)
#   cfx-miner-X.tar.gz         the HiveOS custom miner
#   cfx-miner-mmpos-X.tar.gz   the mmpOS custom miner
#   SHA256SUMS                 for `sha256sum -c SHA256SUMS`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The published prebuilds must load on Ubuntu 20.04 (HiveOS) and Debian 11.
for arch in amd64 arm64; do
  [[ -d .cache/sysroot/bullseye-$arch/usr/include/c++ ]] ||
    { echo "release: no glibc 2.31 sysroot in .cache/sysroot/bullseye-$arch: run scripts/sysroot.sh $arch (as root)" >&2; exit 1; }
done
rm -rf release
mkdir release
# npm pack runs prepack (the prebuilt addon, prebuildify) and prepare (the TypeScript).
tgz=release/$(npm pack --pack-destination release --loglevel=warn | tail -n 1)
files=$(tar -tzf "$tgz")
for target in linux-x64 linux-arm64; do
  grep -q "^package/prebuilds/$target/.*\.node$" <<<"$files" ||
    { echo "release: $tgz has no $target prebuild (scripts/prebuild.sh says why)" >&2; exit 1; }
done
scripts/rig-package.sh hiveos "$tgz" release
scripts/rig-package.sh mmpos "$tgz" release
(cd release && sha256sum -- *.tgz *.tar.gz >SHA256SUMS)
ls -l release
