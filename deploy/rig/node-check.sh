# Sourced by the HiveOS and mmpOS start scripts: sets CFX_NODE to a Node.js that can run the miner
# (20.17 or later), or says in one line how to get one and returns 1. A node/ directory beside the
# scripts (a bundled runtime) is used first, then `node` on the PATH.
cfx_find_node() {
  local dir=$1 node version major minor
  if [[ -x $dir/node/bin/node ]]; then
    node=$dir/node/bin/node
  else
    node=$(command -v node 2>/dev/null) || node=
  fi
  if [[ -n $node ]]; then
    version=$("$node" -p 'process.versions.node' 2>/dev/null) || version=
    major=${version%%.*}
    minor=${version#*.}; minor=${minor%%.*}
    if [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] && (( major > 20 || (major == 20 && minor >= 17) )); then
      CFX_NODE=$node
      return 0
    fi
  fi
  echo "cfx-miner: needs Node.js 20.17 or later (found: ${version:+v$version at }${node:-none}); install it with: curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs" >&2
  return 1
}
