#!/usr/bin/env bash
# The newcomer's first command (needs root, Debian 12):
#  1. installs the packages and builds tspbroker (release, in build/);
#  2. in a private network namespace, starts tspbrokerd on its embedded defaults
#     (127.0.0.1, UDP and TCP 3653, a scratch store), adds a user with tspctl, connects tspc
#     (the classic client's drop-in) with DIGEST-MD5, and shows the tunnel as the operator
#     sees it: tspctl tunnels, pools, stats;
#  3. runs the tspc namespace scenarios: tspbrokerd with its DPDK dataplane on af_packet ports,
#     tspc clients (anonymous, registered, a router with a LAN behind it, one behind an
#     nftables NAT, a mobile node) and IPv6 traffic (ping, 1 MiB TCP both ways) across each
#     tunnel.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build control/daemon/tspbrokerd tools/tspctl/tspctl tools/tspc/tspc tests/netns/tsp_tunnel_client >/dev/null
broker="$root/build/control/daemon/tspbrokerd" tspctl="$root/build/tools/tspctl/tspctl" tspc="$root/build/tools/tspc/tspc"

ns=tspdemo
work=$(mktemp -d /tmp/tspbroker-demo.XXXXXX)
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  sleep 0.5
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }
cd "$work"  # the embedded defaults keep the store and the admin socket in the working directory

echo "== tspctl user add demo (password on stdin; no daemon yet, so straight into the store)"
echo demo-password | in_ns "$tspctl" user add demo
echo "== tspbrokerd on its embedded defaults (log: $work/broker.log)"
in_ns "$broker" >broker.log 2>&1 &
for _ in $(seq 50); do grep -q 'tspbrokerd ready' broker.log && break; sleep 0.2; done
grep 'TSP over\|ready' broker.log

cat >tspc.conf <<EOF
server=127.0.0.1
auth_method=digest-md5
userid=demo
passwd=demo-password
tunnel_mode=v6anyv4
host_type=host
if_tunnel_v6v4=tspdemo0
if_tunnel_v6udpv4=tspdemo1
template=checktunnel
tsp_dir=$root/tools/tspc
retry_delay=5
EOF
echo "== tspc -n -vv -f tspc.conf (the classic client's configuration file and flags)"
in_ns "$tspc" -n -vv -f tspc.conf >tspc.out 2>&1 &
for _ in $(seq 50); do grep -q 'tunnel up' tspc.out && break; sleep 0.2; done
cat tspc.out
echo "== the operator's view: tspctl tunnels, pools, stats"
in_ns "$tspctl" tunnels
in_ns "$tspctl" pools
in_ns "$tspctl" stats
echo "== tspc stops on SIGHUP (teardown template, exit 0)"
in_ns pkill -HUP -x tspc || true
sleep 1
tail -n 3 tspc.out
ip netns pids "$ns" | xargs -r kill 2>/dev/null || true
sleep 0.5

echo
echo "== tspc clients through the DPDK dataplane in network namespaces, with IPv6 traffic"
TSPBROKERD="$broker" TSPCTL="$tspctl" TSPC="$tspc" NETNS_HELPERS="$root/tests/netns" \
  TSPC_TEMPLATES="$root/tools/tspc/template" TSPC_DHCLIENT_HOOK="$root/config/tspc-dhclient-exit-hook" \
  bash "$root/tests/netns/tspc_e2e.sh"
