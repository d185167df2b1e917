#!/usr/bin/env bash
# Makes a mining-OS package from the npm tarball: the miner with its production dependencies and
# prebuilt addon (installed from the tarball, so nothing is fetched or compiled on the rig), and
# the OS's scripts from deploy/<os>/ plus deploy/rig/node-check.sh.
#   scripts/rig-package.sh hiveos|mmpos <cfx-miner-X.tgz> <out dir>   -> prints the package path
# HiveOS wants <name>-<version>.tar.gz holding a folder <name>/, so the HiveOS package is
# cfx-miner-X.tar.gz; mmpOS ignores names, its package is cfx-miner-mmpos-X.tar.gz.
set -euo pipefail
usage() { echo "usage: scripts/rig-package.sh hiveos|mmpos <cfx-miner-X.tgz> <out dir>" >&2; exit 2; }
[[ $# -eq 3 ]] || usage
kind=$1
[[ $kind == hiveos || $kind == mmpos ]] || usage
[[ -f $2 ]] || { echo "rig-package: no npm tarball at $2" >&2; exit 2; }
[[ -d $3 ]] || { echo "rig-package: no output directory $3" >&2; exit 2; }
tgz=$(realpath "$2")
out=$(realpath "$3")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

version=$(tar -xOzf "$tgz" package/package.json | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).version))')
[[ $version =~ ^[0-9A-Za-z.+_]+$ ]] || { echo "rig-package: version $version has a character HiveOS cannot take in a package name" >&2; exit 2; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# --ignore-scripts: the package is staged here, not installed for this machine; the check below
# makes sure the prebuilt addon it needs is in it.
npm install -g --prefix "$stage/npm" --omit=dev --prefer-offline --no-audit --no-fund --ignore-scripts \
  --loglevel=error "$tgz" >&2
dir=$stage/pkg/cfx-miner
mkdir -p "$dir"
mv "$stage/npm/lib/node_modules/cfx-miner" "$dir/app"
compgen -G "$dir/app/prebuilds/linux-x64/*.node" >/dev/null ||
  { echo "rig-package: $2 has no prebuilt linux-x64 addon (prebuilds/linux-x64)" >&2; exit 1; }

cp "$root/deploy/rig/node-check.sh" "$dir/"
case $kind in
  hiveos)
    cp "$root"/deploy/hiveos/h-manifest.conf "$root"/deploy/hiveos/h-*.sh "$dir/"
    sed -i "s/@VERSION@/$version/" "$dir/h-manifest.conf"
    name=cfx-miner-$version.tar.gz ;;
  mmpos)
    cp "$root"/deploy/mmpos/mmp-external.conf "$root"/deploy/mmpos/*.sh "$dir/"
    sed -i "s/@VERSION@/$version/" "$dir/mmp-external.conf"
    name=cfx-miner-mmpos-$version.tar.gz ;;
esac
tar -C "$stage/pkg" --owner=0 --group=0 --sort=name -czf "$out/$name" cfx-miner
echo "$out/$name"
