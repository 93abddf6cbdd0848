#!/usr/bin/env bash
# Installs the Debian packages Switchyard needs, when they are missing.
# Usage: scripts/install-deps.sh [run|test|bench]
set -euo pipefail

packages=(libsqlite3-dev libffi-dev libmodbus-dev pkg-config)
case "${1:-run}" in
  test)  packages+=(gcc python3-pip socat postgresql) ;;
  bench) packages+=(gcc python3-pip wrk time) ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# Test peers from PyPI: a Modbus server nobody here wrote.
if { [ "${1:-run}" = test ] || [ "${1:-run}" = bench ]; } && ! python3 -c "import pymodbus, serial" >/dev/null 2>&1; then
  echo "installing pymodbus"
  python3 -m pip install --quiet "pymodbus[serial]==3.16.1" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "pymodbus[serial]==3.16.1"
fi

# The telemetry figures of `make bench` use a real measured series from pvlib's sample data.
if [ "${1:-run}" = bench ] && ! python3 -c "import pvlib" >/dev/null 2>&1; then
  echo "installing pvlib"
  python3 -m pip install --quiet "pvlib==0.13.1" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "pvlib==0.13.1"
fi

# The profile checks of `make test`: the JSON Schema of docs/schema, and the
# SunSpec pack regenerated from the model definitions it was made from.
if [ "${1:-run}" = test ] && ! python3 -c "import jsonschema, sunspec2" >/dev/null 2>&1; then
  echo "installing jsonschema and pysunspec2"
  python3 -m pip install --quiet "jsonschema==4.26.0" "pysunspec2==1.3.7" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "jsonschema==4.26.0" "pysunspec2==1.3.7"
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "error: the Swift 6 toolchain (swift) is not on PATH; see README.md" >&2
  exit 1
fi
