#!/usr/bin/env bash
# HiveOS: runs the miner in the foreground (HiveOS runs this in a screen session) with the config
# h-config.sh wrote, its log appended to $CUSTOM_LOG_BASENAME.log.
here=${BASH_SOURCE[0]%/*}; [[ $here == "${BASH_SOURCE[0]}" ]] && here=.
cd "$here" || exit 1
. ./h-manifest.conf
. ./node-check.sh
cfx_find_node "$PWD" || exit 1

[[ -f $CUSTOM_CONFIG_FILENAME ]] || { echo "cfx-miner: no config at $CUSTOM_CONFIG_FILENAME (h-config.sh writes it from the flight sheet)" >&2; exit 1; }
extra=()
extra_file=$(dirname "$CUSTOM_CONFIG_FILENAME")/extra-args
[[ -f $extra_file ]] && read -r -a extra <"$extra_file"

mkdir -p "$(dirname "$CUSTOM_LOG_BASENAME")"
# exec: the miner gets the screen session's signals itself (a clean stop on SIGTERM/SIGINT).
exec "$CFX_NODE" --no-memory-reducer ./app/dist/src/cli.js --config "$CUSTOM_CONFIG_FILENAME" --no-color "${extra[@]}" \
  > >(tee -a "$CUSTOM_LOG_BASENAME.log") 2>&1
