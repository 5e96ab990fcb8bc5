#!/usr/bin/env bash
# kill -9 and a restart of tspbrokerd do not break the tunnels: the live tunnels come back from
# the store into the DPDK dataplane, and traffic resumes without any client reconnecting.
#
#  ns tspo3-ca  c0 192.0.2.10 ─┐   ns tspo3-sw     ns tspo3-brk                                   ns tspo3-v6
#  ns tspo3-cb  c0 192.0.2.12 ─┼── br0 ── sw-k ── b4 port ipv4   tspbrokerd   port ipv6 b6 ── i0 2001:db8:ffff::fffe/64
#  ns tspo3-cc  c0 192.0.2.11 ─┘                   (af_packet)  DPDK workers  (af_packet)      route 2001:db8:f000::/36
#  each client: TUN tspo3x (its default route),    tsp-v4 192.0.2.1/24   tsp-v6 2001:db8:ffff::1  via 2001:db8:ffff::1
#  relayed in user space; a namespace of its own   (the dataplane's exception taps)
#  because each client routes ::/0 into its TUN.
#
#  A alice, DIGEST-MD5 over UDP, v6v4 host from 192.0.2.10 (protocol 41)
#  B anonymous, v6anyv4 declaring 10.0.0.5 (NAT seen): v6udpv4 host from 192.0.2.12
#  C bob, over TCP, v6v4 router /48 from 192.0.2.11
#
# Phases: the three tunnels up and pinged both ways; kill -9 the broker (the clients keep
# running); start it again on the same store; the same tunnels (ids, addresses) are live, the
# restarted broker saw no TSP session at all, and pings go through each tunnel both ways again;
# SIGTERM then drains and exits 0 with the dataplane counters in the log.
#
# Needs root. Env: TSPBROKERD, TSPCTL, TSP_TUNNEL_CLIENT (binaries), NETNS_HELPERS (this folder).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
helpers=${NETNS_HELPERS:-$here}
source "$here/netns_common.sh"
NS_SW=tspo3-sw NS_BRK=tspo3-brk NS_V6=tspo3-v6
CLIENT_NS="tspo3-ca tspo3-cb tspo3-cc"
ALL_NS="$CLIENT_NS $NS_SW $NS_BRK $NS_V6"
BROKER_V4=192.0.2.1 V6_HOST=2001:db8:ffff::fffe
declare -A CLIENT_ADDR=([a]=192.0.2.10 [b]=192.0.2.12 [c]=192.0.2.11)

fail() { report_failure "$*" "$work"/*.log "$work"/*.out; }

require_root_and_binaries broker_restart_e2e TSPBROKERD TSPCTL TSP_TUNNEL_CLIENT
command -v sqlite3 >/dev/null || { echo "broker_restart_e2e: needs the sqlite3 command" >&2; exit 1; }

work=$(mktemp -d /tmp/tspo3-netns.XXXXXX)
pids=()
trap stop_processes_and_namespaces EXIT



say "topology"
for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; in_ns "$ns" ip link set lo up; done
in_ns $NS_SW ip link add name br0 type bridge
in_ns $NS_SW sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for x in a b c; do
  ip -n tspo3-c$x link add name c0 type veth peer name sw-$x netns $NS_SW
  in_ns tspo3-c$x sysctl -qw net.ipv6.conf.c0.disable_ipv6=1
  in_ns tspo3-c$x python3 "$helpers/offloads_off.py" c0
  in_ns tspo3-c$x ip addr add "${CLIENT_ADDR[$x]}/24" dev c0
  in_ns tspo3-c$x ip link set c0 up
done
ip -n $NS_BRK link add name b4 type veth peer name sw-k netns $NS_SW
ip -n $NS_BRK link add name b6 type veth peer name i0 netns $NS_V6
for port in sw-a sw-b sw-c sw-k; do in_ns $NS_SW ip link set "$port" master br0; done
in_ns $NS_SW python3 "$helpers/offloads_off.py" sw-a sw-b sw-c sw-k
for port in br0 sw-a sw-b sw-c sw-k; do in_ns $NS_SW ip link set "$port" up; done
hand_broker_veths_to_dpdk
bring_up_broker_and_uplink

cat >"$work/broker.conf" <<EOF
ipv6 local pool P_Interco 2001:db8:f001:1::/64 128
ipv6 local pool P_Sites48 2001:db8:f100::/40 48
tsp TSP_Main
  ip address $BROKER_V4
  transport udp 3653
  transport tcp 3653
  authentication digest-md5 plain anonymous
  keepalive interval 5
  keepalive missed 100
tunnel server TS_Main
  ip address $BROKER_V4
  ipv6 pool endpoints P_Interco
  ipv6 pool prefix P_Sites48
tunnel broker TB_Main
  set tsp TSP_Main
  set tunnel server TS_Main
$(broker_store_admin_dataplane)
EOF
"$TSPBROKERD" --check-config --config "$work/broker.conf" >"$work/check-config.log" 2>&1 ||
  fail "tspbrokerd rejects the test configuration"
echo alice-secret | "$TSPCTL" --config "$work/broker.conf" user add alice >"$work/tspctl.log" 2>&1 || fail "tspctl user add alice"
echo bob-secret | "$TSPCTL" --config "$work/broker.conf" user add bob >>"$work/tspctl.log" 2>&1 || fail "tspctl user add bob"

start_broker() {  # LOG
  ip netns exec $NS_BRK "$TSPBROKERD" --config "$work/broker.conf" >"$work/$1" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  wait_for_line "$work/$1" 90 "tspbrokerd ready" "$broker_pid"
}

start_client() {  # NAME ARGS...: in namespace tspo3-cNAME, from its address, TUN tspo3NAME
  local name=$1; shift
  ip netns exec "tspo3-c$name" "$TSP_TUNNEL_CLIENT" --server $BROKER_V4 --tun "tspo3$name" \
    --bind "${CLIENT_ADDR[$name]}" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  local pid=$!
  pids+=("$pid")
  eval "${name}_pid=$pid"
  wait_for_line "$work/$name.out" 30 '^ready=1$' "$pid"
}
value() { sed -n "s/^$2=//p" "$work/$1.out" | tail -n 1; }

ping_both_ways() {  # CLIENT ADDRESS LABEL
  local ns=tspo3-c$1 addr=$2 label=$3
  # The first packets may wait for ARP/ND in a freshly started dataplane: warm up, then insist.
  in_ns $ns python3 "$helpers/ping6.py" "$addr" $V6_HOST 5 1 >/dev/null || fail "$label: no ping reply at all from $V6_HOST"
  in_ns $ns python3 "$helpers/ping6.py" "$addr" $V6_HOST 5 || fail "$label: ping6 $addr -> $V6_HOST lost packets"
  in_ns $NS_V6 python3 "$helpers/ping6.py" $V6_HOST "$addr" 5 || fail "$label: ping6 $V6_HOST -> $addr lost packets"
}

ping_all() {  # PHASE
  ping_both_ways a "$(value a client_ipv6)" "$1 A"
  ping_both_ways b "$(value b client_ipv6)" "$1 B"
  ping_both_ways c "$(value c client_ipv6)" "$1 C"
  ping_both_ways c "$(value c prefix_address)" "$1 C /48"
}

live_tunnels() { sqlite3 "$work/tspbroker.db" "SELECT id, user, mode, client_v4, client_port, client_v6, prefix FROM tunnels ORDER BY id"; }

say "tspbrokerd with DPDK af_packet ports in $NS_BRK"
start_broker broker-1.log
say "three tunnels"
start_client a --mode v6v4 --user alice --password alice-secret --keepalive 5
start_client b --mode v6anyv4 --declare 10.0.0.5 --keepalive 5
start_client c --mode v6v4 --tcp --user bob --password bob-secret --router --prefixlen 48 --keepalive 5
[ "$(value a type)" = v6v4 ] || fail "A: offered $(value a type)"
[ "$(value b type)" = v6udpv4 ] || fail "B: offered $(value b type)"
[ "$(value c prefix_length)" = 48 ] || fail "C: no /48"
say "traffic before the crash"
ping_all before
before=$(live_tunnels)
echo "$before"
[ "$(echo "$before" | wc -l)" -eq 3 ] || fail "the store holds $(echo "$before" | wc -l) tunnels, expected 3"

say "kill -9 tspbrokerd"
kill -KILL "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
for name in a b c; do
  pid_var="${name}_pid"
  kill -0 "${!pid_var}" 2>/dev/null || fail "client $name died with the broker"
done
# While the broker is down nothing forwards: the tunnels really went through it.
! in_ns tspo3-ca python3 "$helpers/ping6.py" "$(value a client_ipv6)" $V6_HOST 3 1 >/dev/null 2>&1 ||
  fail "a ping went through while the broker was dead"

say "restart on the same store"
start_broker broker-2.log
grep -q "3 live tunnel(s) reloaded" "$work/broker-2.log" || fail "the restarted broker did not reload 3 tunnels"
after=$(live_tunnels)
[ "$after" = "$before" ] || fail "the tunnels changed across the restart: before
$before
after
$after"
say "traffic after the restart"
ping_all after
for name in a b c; do
  [ "$(grep -c '^ready=1$' "$work/$name.out")" -eq 1 ] || fail "client $name negotiated again"
done
! grep -qE "authenticated|offered|TSP session" "$work/broker-2.log" ||
  fail "the restarted broker saw a TSP session: $(grep -E 'authenticated|offered' "$work/broker-2.log" | head -3)"

say "SIGTERM: drain and exit 0"
kill -TERM "$broker_pid"
wait "$broker_pid" || fail "tspbrokerd exited with status $? on SIGTERM"
grep -q "dataplane counters: " "$work/broker-2.log" || fail "no dataplane counters logged at exit"
decap=$(grep -o 'dataplane counters: rx=[0-9]* tx=[0-9]* decap=[0-9]*' "$work/broker-2.log" | sed 's/.*decap=//')
[ "${decap:-0}" -ge 15 ] || fail "the restarted dataplane decapsulated only ${decap:-0} packets (4 x 10 pings went out)"
grep "dataplane counters: " "$work/broker-2.log"
for name in a b c; do
  pid_var="${name}_pid"
  kill -TERM "${!pid_var}"
  wait "${!pid_var}" || fail "client $name exited with status $? after SIGTERM"
done
say "PASS"
