# shellcheck shell=bash disable=SC2154  # helpers, work, pids and fail() come from tspc_e2e.sh
# Topology, broker and traffic helpers for tspc_e2e.sh (sourced, not run). Needs root.
#
#  ns tspc-cli                                      ns tspc-sw     ns tspc-brk                               ns tspc-v6
#  c0 192.0.2.1x/24 (one address at a time) ─ sw-c ─┐              tspbrokerd: DPDK workers + control plane
#  tspc's TUN (tspc41 / tspcudp)                    ├─ br0 ─ sw-b ─ b4 port ipv4       port ipv6 b6 ──────── i0 2001:db8:ffff::fffe/64
#  lan0 fe80::/64 ─── l0 ns tspc-lan (SLAAC host)   │               (af_packet)        (af_packet)             route 2001:db8:f000::/36
#                                                   │               tsp-v4 192.0.2.1   tsp-v6 2001:db8:ffff::1   via 2001:db8:ffff::1
#  ns tspc-nat  n0 192.0.2.20/24 ─────────── sw-n ──┘
#   nftables masquerade out of n0
#               n1 10.0.0.1/24 ─── m0 10.0.0.2/24 ns tspc-ncl (the client behind the NAT)
#
#  Pools: endpoints 2001:db8:f001:1::/64 /128, prefixes 2001:db8:f100::/40 /48 and
#  2001:db8:f200::/48 /64; tunnel server 192.0.2.1 / 2001:db8:f001:1::1, keepalive interval 5 s.

NS_CLI=tspc-cli NS_LAN=tspc-lan NS_NAT=tspc-nat NS_NCL=tspc-ncl NS_SW=tspc-sw NS_BRK=tspc-brk NS_V6=tspc-v6
ALL_NS="$NS_CLI $NS_LAN $NS_NAT $NS_NCL $NS_SW $NS_BRK $NS_V6"
BROKER_V4=192.0.2.1 NAT_PUBLIC_V4=192.0.2.20 NAT_INSIDE_V4=10.0.0.1 NAT_CLIENT_V4=10.0.0.2
SERVER_V6=2001:db8:f001:1::1 V6_HOST=2001:db8:ffff::fffe KEEPALIVE_INTERVAL=5

# shellcheck source=netns_common.sh
. "$here/netns_common.sh"

# Canonical text of an IPv6 address or prefix (empty when it is not one), for comparisons.
canonical6() {
  python3 - "$1" <<'EOF' 2>/dev/null || true
import ipaddress, sys
text = sys.argv[1]
print(ipaddress.ip_network(text) if "/" in text else ipaddress.ip_address(text))
EOF
}

remove_namespaces() {
  local ns
  for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null || true; done
}

build_topology() {
  local ns port
  remove_namespaces
  for ns in $ALL_NS; do ip netns add "$ns"; in_ns "$ns" ip link set lo up; done

  in_ns $NS_SW ip link add name br0 type bridge
  ip -n $NS_CLI link add name c0 type veth peer name sw-c netns $NS_SW
  ip -n $NS_NAT link add name n0 type veth peer name sw-n netns $NS_SW
  ip -n $NS_BRK link add name b4 type veth peer name sw-b netns $NS_SW
  ip -n $NS_BRK link add name b6 type veth peer name i0 netns $NS_V6
  ip -n $NS_NAT link add name n1 type veth peer name m0 netns $NS_NCL
  ip -n $NS_CLI link add name lan0 type veth peer name l0 netns $NS_LAN

  # IPv6 only where it belongs (tunnels, the LAN, the IPv6 side): no router solicitations or
  # MLD on the IPv4 links, which the dataplane would count as foreign frames.
  in_ns $NS_SW sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  in_ns $NS_NAT sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  in_ns $NS_CLI sysctl -qw net.ipv6.conf.c0.disable_ipv6=1
  in_ns $NS_NCL sysctl -qw net.ipv6.conf.m0.disable_ipv6=1
  hand_broker_veths_to_dpdk
  # The LAN: addresses usable at once (no DAD wait), the host takes router advertisements.
  in_ns $NS_CLI sysctl -qw net.ipv6.conf.lan0.accept_dad=0
  in_ns $NS_LAN sysctl -qw net.ipv6.conf.l0.accept_dad=0 net.ipv6.conf.l0.accept_ra=1 net.ipv6.conf.l0.autoconf=1

  for port in sw-c sw-n sw-b; do in_ns $NS_SW ip link set "$port" master br0; done
  in_ns $NS_CLI python3 "$helpers/offloads_off.py" c0 lan0
  in_ns $NS_LAN python3 "$helpers/offloads_off.py" l0
  in_ns $NS_NAT python3 "$helpers/offloads_off.py" n0 n1
  in_ns $NS_NCL python3 "$helpers/offloads_off.py" m0
  in_ns $NS_SW python3 "$helpers/offloads_off.py" sw-c sw-n sw-b
  for port in br0 sw-c sw-n sw-b; do in_ns $NS_SW ip link set "$port" up; done

  in_ns $NS_CLI ip link set c0 up
  in_ns $NS_CLI ip link set lan0 up
  in_ns $NS_LAN ip link set l0 up

  in_ns $NS_NAT ip addr add $NAT_PUBLIC_V4/24 dev n0
  in_ns $NS_NAT ip addr add $NAT_INSIDE_V4/24 dev n1
  in_ns $NS_NAT ip link set n0 up
  in_ns $NS_NAT ip link set n1 up
  in_ns $NS_NAT sysctl -qw net.ipv4.ip_forward=1
  in_ns $NS_NAT nft -f - <<EOF
table ip nat {
  chain postrouting { type nat hook postrouting priority 100; oifname "n0" masquerade; }
}
table ip tspcfilter {
  chain forward { type filter hook forward priority 0; }
}
EOF
  in_ns $NS_NCL ip addr add $NAT_CLIENT_V4/24 dev m0
  in_ns $NS_NCL ip link set m0 up
  in_ns $NS_NCL ip route add default via $NAT_INSIDE_V4

  bring_up_broker_and_uplink
}

# The client namespace has one IPv4 address at a time: each scenario comes from its own
# address (the broker keeps a stopped client's tunnel until it expires, and a proto-41 tunnel
# is keyed by the client's IPv4), and the mobile node changes it.
set_client_v4() {
  in_ns $NS_CLI ip -4 addr flush dev c0
  in_ns $NS_CLI ip addr add "$1/24" dev c0
}

# ---- broker -------------------------------------------------------------------------------------
write_broker_config() {
  cat >"$work/broker.conf" <<EOF
ipv6 local pool P_Interco 2001:db8:f001:1::/64 128
ipv6 local pool P_Sites48 2001:db8:f100::/40 48
ipv6 local pool P_Sites64 2001:db8:f200::/48 64
tsp TSP_Main
  ip address $BROKER_V4
  transport udp 3653
  transport tcp 3653
  authentication digest-md5 plain anonymous
  ! The shortest interval the broker allows, so that the keepalive-loss scenario is quick;
  ! stopped clients' tunnels never expire during the test.
  keepalive interval $KEEPALIVE_INTERVAL
  keepalive missed 100
tunnel server TS_Main
  ip address $BROKER_V4
  ipv6 address $SERVER_V6
  ipv6 pool endpoints P_Interco
  ipv6 pool prefix P_Sites48
  ipv6 pool prefix P_Sites64
tunnel broker TB_Main
  set tsp TSP_Main
  set tunnel server TS_Main
$(broker_store_admin_dataplane)
EOF
}

add_user() {  # add_user NAME PASSWORD
  echo "$2" | "$TSPCTL" --config "$work/broker.conf" user add "$1" >>"$work/tspctl.log" 2>&1 ||
    fail "tspctl user add $1"
}

start_broker() {
  "$TSPBROKERD" --check-config --config "$work/broker.conf" >"$work/check-config.log" 2>&1 ||
    fail "tspbrokerd rejects the test configuration"
  ip netns exec $NS_BRK "$TSPBROKERD" --config "$work/broker.conf" >"$work/broker.log" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  local deadline=$((SECONDS + 90))
  until in_ns $NS_BRK ss -Hlun 'sport = :3653' 2>/dev/null | grep -q . &&
        in_ns $NS_BRK ip link show tsp-v4 >/dev/null 2>&1; do
    kill -0 "$broker_pid" 2>/dev/null || fail "tspbrokerd exited during start-up"
    [ $SECONDS -lt $deadline ] || fail "tspbrokerd not listening on UDP 3653 with tsp-v4 up after 90s"
    sleep 0.5
  done
}

# The broker's latest log line for an offer of $1 (an IPv6 address):
# "A:P: offered TYPE V6 to WHO[ with PREFIX]".
broker_offer_line() {
  local want=$1 line addr found=
  while read -r line; do
    addr=$(sed -E 's/.*: offered [a-z0-9]+ ([0-9a-f:]+) to .*/\1/' <<<"$line")
    [ "$(canonical6 "$addr")" != "$want" ] || found=$line
  done < <(grep ': offered ' "$work/broker.log")
  [ -n "$found" ] && echo "$found"
}

# ---- traffic ------------------------------------------------------------------------------------
ping_both_ways() {  # ping_both_ways NS ADDRESS LABEL
  local ns=$1 addr=$2 label=$3
  # The first packets may wait for ARP/ND on the broker's side: warm up, then insist.
  in_ns "$ns" python3 "$helpers/ping6.py" "$addr" $V6_HOST 5 1 >/dev/null || fail "$label: no ping reply at all from $V6_HOST"
  in_ns "$ns" python3 "$helpers/ping6.py" "$addr" $V6_HOST 5 || fail "$label: ping6 $addr -> $V6_HOST lost packets"
  in_ns $NS_V6 python3 "$helpers/ping6.py" $V6_HOST "$addr" 5 || fail "$label: ping6 $V6_HOST -> $addr lost packets"
}

tcp_both_ways() {  # tcp_both_ways NS ADDRESS LABEL: 1 MiB each way, compared by sha256
  local ns=$1 addr=$2 label=$3 want rx
  want=$(sha256sum <"$work/payload.bin")
  ip netns exec $NS_V6 python3 "$helpers/tcp_transfer.py" receive $V6_HOST 5001 "$work/$label-up.bin" >"$work/$label-up-rx.out" 2>&1 &
  rx=$!
  pids+=("$rx")
  wait_for_line "$work/$label-up-rx.out" 10 listening "$rx"
  in_ns "$ns" python3 "$helpers/tcp_transfer.py" send "$addr" $V6_HOST 5001 "$work/payload.bin" >/dev/null ||
    fail "$label: TCP upload from $addr failed"
  wait "$rx" || fail "$label: TCP receiver in $NS_V6 failed"
  [ "$(sha256sum <"$work/$label-up.bin")" = "$want" ] || fail "$label: the 1 MiB uploaded arrived altered"

  ip netns exec "$ns" python3 "$helpers/tcp_transfer.py" receive "$addr" 5002 "$work/$label-down.bin" >"$work/$label-down-rx.out" 2>&1 &
  rx=$!
  pids+=("$rx")
  wait_for_line "$work/$label-down-rx.out" 10 listening "$rx"
  in_ns $NS_V6 python3 "$helpers/tcp_transfer.py" send $V6_HOST "$addr" 5002 "$work/payload.bin" >/dev/null ||
    fail "$label: TCP download to $addr failed"
  wait "$rx" || fail "$label: TCP receiver in $ns failed"
  [ "$(sha256sum <"$work/$label-down.bin")" = "$want" ] || fail "$label: the 1 MiB downloaded arrived altered"
  rm -f "$work/$label-up.bin" "$work/$label-down.bin"
}
