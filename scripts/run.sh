#!/usr/bin/env bash
# make run: open the Soitto window. When no network is configured (no
# --network, no $SOITTO_NETWORK, no ~/.config/soitto/network.json), first
# start a local network on loopback, with its data under the user's data
# folder, so the app works out of the box on one machine. Ctrl-C stops
# everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin

data=${XDG_DATA_HOME:-$HOME/.local/share}/soitto
config=${XDG_CONFIG_HOME:-$HOME/.config}/soitto
localnet=$data/localnet
login_addr=${SOITTO_LOCAL_LOGIN:-127.0.0.1:7443}
node_addr=${SOITTO_LOCAL_NODE:-127.0.0.1:7600}

if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "run: no display (DISPLAY is not set); on a machine without a screen try: xvfb-run make run" >&2
  exit 1
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

args=("$@")
if [[ -z "${SOITTO_NETWORK:-}" && ! -f "$config/network.json" ]]; then
  if [[ ! -f "$localnet/network.json" ]]; then
    echo "run: creating a local network in $localnet" >&2
    "$bin/soitto-login" init --dir "$localnet" --listen "$login_addr" --bootstrap "$node_addr" --name soitto-local >/dev/null
    "$bin/soitto-login" node-cert --dir "$localnet" --addr "$node_addr" --out "$localnet/node" >/dev/null
  fi
  if ! (exec 3<>"/dev/tcp/${login_addr%:*}/${login_addr##*:}") 2>/dev/null; then
    echo "run: starting soitto-login on $login_addr (log: $localnet/login.log)" >&2
    "$bin/soitto-login" serve --dir "$localnet" >>"$localnet/login.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do
      (exec 3<>"/dev/tcp/${login_addr%:*}/${login_addr##*:}") 2>/dev/null && break
      kill -0 "${pids[0]}" 2>/dev/null || { echo "run: soitto-login failed to start; see $localnet/login.log" >&2; exit 1; }
      sleep 0.2
    done
  else
    echo "run: a local soitto-login is already running on $login_addr; using it" >&2
  fi
  if [[ -f "$localnet/node/node.crt" ]] && ! (exec 3<>"/dev/tcp/${node_addr%:*}/${node_addr##*:}") 2>/dev/null; then
    echo "run: starting soitto-node on $node_addr (log: $localnet/node.log)" >&2
    # The whole network is on this machine's loopback: a test lab, so the
    # relay may relay between loopback addresses.
    "$bin/soitto-node" --network "$localnet/network.json" --listen "$node_addr" --data "$localnet/node" \
      --turn-lab >>"$localnet/node.log" 2>&1 &
    pids+=($!)
  fi
  args=(--network "$localnet/network.json" "${args[@]}")
fi

"$bin/soitto" "${args[@]}" &
pids+=($!)
wait "${pids[-1]}"
