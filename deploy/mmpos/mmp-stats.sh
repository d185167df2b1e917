#!/usr/bin/env bash
# mmpOS: the agent runs `mmp-stats.sh <device count> <log file>` and reads one JSON line:
#   {busid: ["cpu"], hash: [total H/s], units: "hs", air: [accepted, invalid, rejected],
#    miner_name, miner_version}
# from the miner's stats API (GET /summary on 127.0.0.1:API_PORT). A solution the node called
# invalid counts as invalid, a stale one as rejected.
here=${BASH_SOURCE[0]%/*}; [[ $here == "${BASH_SOURCE[0]}" ]] && here=.
cd "$here" || exit 1
. ./mmp-external.conf
summary=$(curl -s --max-time 5 "http://127.0.0.1:$API_PORT/summary") || {
  echo "cfx-miner: no answer from the stats API at 127.0.0.1:$API_PORT" >&2
  exit 1
}
jq -ce '{
    busid: ["cpu"],
    hash: [.hashrate["10s"] // 0],
    units: "hs",
    air: [.shares.accepted, .shares.rejected, .shares.stale],
    miner_name: "cfx-miner",
    miner_version: .version
  }' <<<"$summary" || {
  echo "cfx-miner: the stats API's /summary is not what mmp-stats.sh expects" >&2
  exit 1
}
