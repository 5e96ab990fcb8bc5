#!/usr/bin/env bash
# The newcomer's first command: installs the Debian 12 packages, builds tspbroker, starts
# tspbrokerd on its embedded defaults (127.0.0.1, TCP and UDP 3653, a scratch store under
# /tmp) and connects a TSP client that negotiates a host tunnel and a router /48 tunnel,
# printing every message on the wire. Then, with the DPDK dataplane on af_packet ports in
# network namespaces, three clients bring tunnels up (protocol 41 and IPv6-in-UDP, with the
# client end in user space) and IPv6 traffic (ping, 1 MiB TCP both ways) crosses them.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build control/tspbrokerd tools/tspctl tests/netns/tsp_tunnel_client >/dev/null

work=$(mktemp -d /tmp/tspbroker-demo.XXXXXX)
broker_pid=
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
root=$PWD
cd "$work"  # the embedded defaults keep the store in ./tspbroker.db

echo "== adding user 'demo' (password 'demo-password') with tspctl"
echo demo-password | "$root/build/tools/tspctl" user add demo
echo "== starting tspbrokerd on its embedded defaults"
"$root/build/control/tspbrokerd" &
broker_pid=$!
sleep 1

echo "== a TSP client (legacy byte format, RUDP over UDP 3653)"
python3 "$root/scripts/demo_client.py" 127.0.0.1 3653 demo demo-password
echo "== broker log above; the tunnels are in the store:"
sqlite3 -header -column tspbroker.db \
  "select id, coalesce(nullif(user,''),'(anonymous)') as user, mode, client_v4, client_port, client_v6, prefix from tunnels" 2>/dev/null || true

kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null || true; broker_pid=
echo
echo "== the DPDK dataplane: tunnels in network namespaces carrying real IPv6 traffic"
TSPBROKERD="$root/build/control/tspbrokerd" TSPCTL="$root/build/tools/tspctl" \
  TSP_TUNNEL_CLIENT="$root/build/tests/netns/tsp_tunnel_client" NETNS_HELPERS="$root/tests/netns" \
  bash "$root/tests/netns/dataplane_e2e.sh"
