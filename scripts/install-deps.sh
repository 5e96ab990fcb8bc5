#!/usr/bin/env bash
# Installs the Debian 12 packages tspbroker builds, tests and runs with. Idempotent; needs root.
set -euo pipefail
packages=(
  build-essential g++ meson ninja-build pkg-config python3
  libdpdk-dev dpdk dpdk-dev liburcu-dev libboost-dev librapidxml-dev catch2 libssl-dev libsqlite3-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libsystemd-dev
  iproute2 nftables jq sqlite3 procps
  bind9-utils
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
