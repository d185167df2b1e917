#!/usr/bin/env bash
# HiveOS: turns the flight sheet into cfx-miner's JSON config file ($CUSTOM_CONFIG_FILENAME).
# HiveOS sources this after h-manifest.conf, with the flight sheet's variables in scope:
#   CUSTOM_URL          the node(s): host:port or stratum+tcp://host:port, comma or space separated
#   CUSTOM_TEMPLATE     the worker name (a Conflux node pays mining_author, not a wallet given here)
#   CUSTOM_PASS         the stratum password (the node's stratum_secret is its keccak-256)
#   CUSTOM_ALGO         octopus or keccak; anything else is left to the config (default octopus)
#   CUSTOM_USER_CONFIG  either a JSON object whose keys go into the config (e.g. {"threads": 4,
#                       "mode": "light"}), or extra command-line flags for h-run.sh
# The stats API is always on (httpPort = WEB_PORT from h-manifest.conf) so h-stats.sh can read it.

cfx_hive_config() {
  local dir hosts=() word worker user_json='{}' extra_args=''
  dir=${BASH_SOURCE[0]%/*}; [[ $dir == "${BASH_SOURCE[0]}" ]] && dir=.
  [[ -n ${CUSTOM_CONFIG_FILENAME:-} ]] || . "$dir/h-manifest.conf"
  command -v jq >/dev/null || { echo "cfx-miner: h-config.sh needs jq" >&2; return 1; }

  for word in ${CUSTOM_URL//,/ }; do
    word=${word#stratum+tcp://}
    word=${word#stratum://}
    word=${word%/}
    [[ -n $word ]] && hosts+=("$word")
  done
  (( ${#hosts[@]} > 0 )) || { echo "cfx-miner: the flight sheet's Pool URL is empty; give the node's stratum host:port" >&2; return 1; }

  worker=${CUSTOM_TEMPLATE:-${WORKER_NAME:-$(hostname)}}

  local user=${CUSTOM_USER_CONFIG:-}
  user=${user#"${user%%[![:space:]]*}"}
  if [[ $user == '{'* ]]; then
    user_json=$(jq -ce 'if type == "object" then . else error("not an object") end' <<<"$user" 2>/dev/null) ||
      { echo "cfx-miner: the flight sheet's Extra config arguments start with { but are not a JSON object: $user" >&2; return 1; }
  else
    extra_args=${user//[$'\n\r\t']/ }
  fi

  local algo=null
  case ${CUSTOM_ALGO:-} in octopus|keccak) algo="\"$CUSTOM_ALGO\"" ;; esac

  mkdir -p "$(dirname "$CUSTOM_CONFIG_FILENAME")" || return 1
  jq -n --args --arg worker "$worker" --arg password "${CUSTOM_PASS:-}" --argjson algo "$algo" \
      --argjson port "$WEB_PORT" --argjson user "$user_json" \
      '{hosts: $ARGS.positional, worker: $worker, httpPort: $port}
       + (if $password != "" then {password: $password} else {} end)
       + (if $algo != null then {algo: $algo} else {} end)
       + $user' "${hosts[@]}" >"$CUSTOM_CONFIG_FILENAME" || return 1
  printf '%s\n' "$extra_args" >"$(dirname "$CUSTOM_CONFIG_FILENAME")/extra-args"
}

cfx_hive_config
