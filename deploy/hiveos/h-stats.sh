#!/usr/bin/env bash
# HiveOS: the agent sources this and reads two variables from it:
#   khs    the total hashrate in kH/s (the miner's 10 s window)
#   stats  {hs: per-thread H/s, hs_units: "hs", uptime, ar: [accepted, rejected], algo, ver}
# from the miner's stats API (GET /summary on 127.0.0.1, the port and any token from the config
# file). "rejected" counts the node's rejected and stale answers: neither is a block.
# Run directly (bash h-stats.sh), it prints both, one per line.

cfx_hive_stats() {
  local dir conf port token summary
  dir=${BASH_SOURCE[0]%/*}; [[ $dir == "${BASH_SOURCE[0]}" ]] && dir=.
  [[ -n ${CUSTOM_CONFIG_FILENAME:-} ]] || . "$dir/h-manifest.conf"
  khs=0
  stats=null
  conf=$CUSTOM_CONFIG_FILENAME
  port=$(jq -r '.httpPort // empty' "$conf" 2>/dev/null)
  port=${port:-$WEB_PORT}
  token=$(jq -r '.httpToken // empty' "$conf" 2>/dev/null)
  summary=$(curl -s --max-time 5 ${token:+-H "Authorization: Bearer $token"} "http://127.0.0.1:$port/summary") || {
    echo "cfx-miner: no answer from the stats API at 127.0.0.1:$port" >&2
    return 0
  }
  stats=$(jq -c '{
      hs: [.hashrate.threads[] | (. // 0)],
      hs_units: "hs",
      uptime: .uptime_s,
      ar: [.shares.accepted, .shares.rejected + .shares.stale],
      algo: .algo,
      ver: .version
    }' <<<"$summary" 2>/dev/null) || { stats=null; echo "cfx-miner: the stats API's /summary is not what h-stats.sh expects" >&2; return 0; }
  khs=$(jq -r '(.hashrate["10s"] // 0) / 1000' <<<"$summary")
}

cfx_hive_stats
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  printf '%s\n%s\n' "$khs" "$stats"
fi
