#!/usr/bin/env bash
# mmpOS: the miner's start script. In the miner profile, point the custom miner at this file and
# put cfx-miner's own flags in the arguments field, e.g.
#   --host 10.0.0.2:32525 --worker rig1 --algo octopus --mode auto
# (a config file works too: --config /path/cfx-miner.json). The stats API is turned on at
# API_PORT from mmp-external.conf for mmp-stats.sh; do not give --http-port yourself.
here=${BASH_SOURCE[0]%/*}; [[ $here == "${BASH_SOURCE[0]}" ]] && here=.
cd "$here" || exit 1
. ./mmp-external.conf
. ./node-check.sh
cfx_find_node "$PWD" || exit 1
export CFX_MINER_HTTP_PORT=$API_PORT
exec "$CFX_NODE" --no-memory-reducer ./app/dist/src/cli.js --no-color "$@"
