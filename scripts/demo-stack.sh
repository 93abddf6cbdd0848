#!/usr/bin/env bash
# `make run`: the whole embedded stack on one machine, nothing to configure.
#  - switchyard-server on SQLite (data/demo-stack/server), port 8480, with
#    organization "demo", site "site1" and edge "demo_edge": the layers of
#    examples/demo-stack/, the catalog of the built plugins and DeviceProfiles;
#  - a simulated Modbus PV inverter (`switchyard sim modbus`, port 1502);
#  - switchyard-edge syncing from the server (first boot: it fetches,
#    verifies, validates, applies and confirms version 1), status on 8787.
# The server's data is made fresh on every run. Ctrl-C stops everything.
# Usage: scripts/demo-stack.sh [BUILD_DIR]   (default .build/debug)
set -euo pipefail
bin="${1:-.build/debug}"
root=data/demo-stack
port="${SWITCHYARD_DEMO_PORT:-8480}"
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 130' INT TERM

rm -rf "$root"
mkdir -p "$root"
"$bin/switchyard-server" serve --data "$root/server" --port "$port" --log-level warning >"$root/server.log" 2>&1 &
pids+=($!)
export SWITCHYARD_SERVER="http://127.0.0.1:$port" SWITCHYARD_TOKEN_FILE="$root/server/root-token"
for _ in $(seq 100); do
  [ -s "$SWITCHYARD_TOKEN_FILE" ] && "$bin/switchyard" org list >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$root/server.log" >&2; exit 1; }
  sleep 0.1
done
sy() { "$bin/switchyard" "$@" >>"$root/setup.log"; }
sy org create demo --name "Demo Energy"
sy catalog push demo DeviceProfiles --plugins "$bin" --reason "the plugins and profiles the edges run"
sy site put demo site1 --name "Demo site"
sy layer put demo organization demo examples/demo-stack/organization.json --reason "fleet defaults"
sy layer put demo site site1 examples/demo-stack/site1.json --reason "commissioning"
sy edge put demo demo_edge --site site1
"$bin/switchyard" key create demo --edge demo_edge | sed -n 's/^secret: //p' >"$root/edge-key"
chmod 600 "$root/edge-key"
"$bin/switchyard" key signing >"$root/signing-keys.json"

"$bin/switchyard" sim modbus --profile sma_sunny_tripower --port 1502 >"$root/sim.log" 2>&1 &
pids+=($!)

cat <<MSG
server   $SWITCHYARD_SERVER  (organization demo, site site1, edge demo_edge; root token in $SWITCHYARD_TOKEN_FILE)
modbus   simulated SMA inverter on 127.0.0.1:1502
edge     syncing from the server; status: $bin/switchyard-edge status

In another terminal, change a parameter on the server and watch the edge apply it:
  export SWITCHYARD_SERVER=$SWITCHYARD_SERVER SWITCHYARD_TOKEN_FILE=$SWITCHYARD_TOKEN_FILE
  $bin/switchyard bulk demo --site site1 --set /scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts=4000 --reason "tariff"
MSG
"$bin/switchyard-edge" run --data "$root/edge" --plugins "$bin" --profiles DeviceProfiles \
  --server "$SWITCHYARD_SERVER" --edge-id demo_edge --key-file "$root/edge-key" --trust "$root/signing-keys.json" &
pids+=($!)
wait "${pids[-1]}"
