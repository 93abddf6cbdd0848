#!/usr/bin/env bash
# A Modbus site without hardware: three simulated devices served by
# `switchyard sim modbus` (an SMA inverter, an Eastron meter behind a TCP
# gateway, a SunSpec battery) and an edge running examples/modbus-site.json
# against them. Ctrl-C stops everything.
# Usage: scripts/modbus-demo.sh [BUILD_DIR]   (default .build/debug)
set -euo pipefail
bin="${1:-.build/debug}"
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 130' INT TERM
"$bin/switchyard" sim modbus --profile sma_sunny_tripower --port 1502 & pids+=($!)
"$bin/switchyard" sim modbus --profile eastron_sdm630 --port 1503 & pids+=($!)
"$bin/switchyard" sim modbus --profile sunspec_battery --port 1504 & pids+=($!)
sleep 1
"$bin/switchyard-edge" run --config examples/modbus-site.json --status-port 8788 &
pids+=($!)
wait "${pids[-1]}"
