#!/usr/bin/env bash
# The broker's DPDK dataplane carrying real traffic, in network namespaces.
#
#  ns tspt-cli                  ns tspt-sw               ns tspt-brk                                    ns tspt-v6
#  c0 192.0.2.10/24 ── sw-c ──┐                          tspbrokerd: DPDK workers + control plane
#     192.0.2.11/24           ├── br0 ── sw-b ────────── b4 port ipv4        port ipv6 b6 ──────────── i0 2001:db8:ffff::fffe/64
#  tsp[abc]0: TUN, client end │                             (af_packet)      (af_packet)                route 2001:db8:f000::/36
#   relayed in user space     │                          tsp-v4 192.0.2.1/24 tsp-v6 2001:db8:ffff::1/64    via 2001:db8:ffff::1
#  ns tspt-spoof              │                          (taps: the exception path)                     UDP listener :7777
#  s0 192.0.2.66/24 ── sw-s ──┘
#
#  Tunnels (pools: endpoints 2001:db8:f001:1::/64 /128, prefixes 2001:db8:f100::/40 /48 and
#  2001:db8:f200::/48 /64; tunnel server 192.0.2.1 / 2001:db8:f001:1::1):
#   A  alice, DIGEST-MD5 over UDP, v6v4 host /128, from 192.0.2.10  (raw protocol-41 socket)
#   B  anonymous, v6anyv4 declaring 10.0.0.5 over UDP: NAT seen, v6udpv4 /128 (the TSP socket)
#   C  bob, over TCP, v6v4 router /48, from 192.0.2.11
#  Each: ping both ways (to the /128, and for C to the /48's first address); A and B: 1 MiB over
#  TCP both ways, compared by sha256. The clients' route to 192.0.2.1 has MTU 1000, so every
#  full-size tunnel packet they send leaves in two IPv4 fragments (protocol 41 and UDP alike):
#  the uploads cross only if the fragments are put together again. On these af_packet ports
#  the kernel's packet socket does that before DPDK sees them (DPDK's af_packet driver asks for
#  defragmentation with its fanout), so here the workers get whole packets and their own
#  reassembly (dataplane/reassembly.hpp, for NICs) is tested in test_dp_reassembly and
#  test_dp_runtime; what this checks is that fragmented clients are served end to end. Forged from tspt-spoof: protocol 41 with the client's IPv4
#  and a foreign inner source (-> inner_source_spoofed), protocol 41 from 192.0.2.66 with the
#  client's inner source (-> no_tunnel), v6udpv4 from the right address but a wrong port
#  (-> no_tunnel) and from the right address and port with a foreign inner source
#  (-> inner_source_spoofed); none may reach tspt-v6's listener. The exception path's policer
#  (dataplane "exception limit other 200 50"): with B up, 3000 UDP datagrams at 10000 a second
#  from tspt-spoof to 192.0.2.1 port 9 (closed; the kernel's, class other): all but the burst
#  and 200 a second of the flood's time (rounded up, plus one) must be dropped as
#  exception_policed_other, the kernel may get no more than that budget (the exception
#  counter), and then B pings both ways again. A reload (tspctl reload, the line rewritten to
#  "exception limit other 0") then lifts the limit on the running broker: 1000 more datagrams at
#  the same pace all reach the kernel (at least 900 counted, none policed); another reload puts
#  "200 50" back. One source flooding the TSP port ("exception limit tsp 2000 200" for the class,
#  "tsp-source 100 20" for each source): tspt-spoof sends 10000 datagrams a second to
#  192.0.2.1:3653, and C negotiates over TCP from 192.0.2.11 while it runs; all but the
#  flooder's share must be dropped as exception_policed_tsp_source, the class never runs out
#  (exception_policed_tsp stays 0, where without the per-source share the flood alone would
#  spend it five times over), and C comes up before the flood ends.
#  At the end the daemon's "dataplane counters:" line (logged on SIGTERM) must account for every
#  packet, and so must the Prometheus metrics scraped just before it (sessions, authentications,
#  tunnels, pools, dataplane packets, bytes and drops; tests/netns/scrape_metrics.py checks the
#  format).
#
# Needs root. Env: TSPBROKERD, TSPCTL, TSP_TUNNEL_CLIENT (binaries), NETNS_HELPERS (this folder).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
helpers=${NETNS_HELPERS:-$here}
source "$here/netns_common.sh"
NS_CLI=tspt-cli NS_SW=tspt-sw NS_BRK=tspt-brk NS_V6=tspt-v6 NS_SPOOF=tspt-spoof
ALL_NS="$NS_CLI $NS_SW $NS_BRK $NS_V6 $NS_SPOOF"
BROKER_V4=192.0.2.1 CLIENT_V4=192.0.2.10 CLIENT2_V4=192.0.2.11 SPOOF_V4=192.0.2.66
V6_HOST=2001:db8:ffff::fffe FOREIGN_V6=2001:db8:f001:1::dead LISTEN_PORT=7777
METRICS_URL=http://$BROKER_V4:9153
# The flood at the exception path, and the limit of its class (other) in the dataplane block.
# Paced at 50 times the limit: unpaced (~150000 a second here) a worker that loses its CPU for
# a few ms under load loses frames in its af_packet ring, which nothing counts.
FLOOD_COUNT=3000 FLOOD_RATE=10000 FLOOD_PORT=9 OTHER_RATE=200 OTHER_BURST=50
# The flood after the reload that lifts the limit, and the least of it the kernel must count.
UNLIMITED_COUNT=1000 UNLIMITED_MIN=900
# The flood at the TSP port from one source, and the limits of the tsp class and of each source.
# It runs until C is up (at most TSP_FLOOD_COUNT datagrams at FLOOD_RATE: 15 s).
TSP_FLOOD_COUNT=150000 TSP_PORT=3653 TSP_CLASS_RATE=2000 TSP_CLASS_BURST=200 TSP_SOURCE_RATE=100 TSP_SOURCE_BURST=20
# The route MTU from the clients to the broker, below a full tunnel packet's 1300-1308 bytes:
# every large packet A, B and C send crosses in IPv4 fragments (see build_topology).
CLIENT_PATH_MTU=1000
# What it sends: a client's first TSP datagram (the 8-byte header, then "VERSION=2.0.0\r\n").
TSP_FLOOD_PAYLOAD=f000000100000000$(printf 'VERSION=2.0.0\r\n' | od -An -tx1 | tr -d ' \n')

fail() { report_failure "$*" "$work"/*.log "$work"/*.out; }

require_root_and_binaries dataplane_e2e TSPBROKERD TSPCTL TSP_TUNNEL_CLIENT

work=$(mktemp -d /tmp/tspt-netns.XXXXXX)
pids=()
trap stop_processes_and_namespaces EXIT



# ---- topology ---------------------------------------------------------------------------------
build_topology() {
  for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
  for ns in $ALL_NS; do in_ns "$ns" ip link set lo up; done

  in_ns $NS_SW ip link add name br0 type bridge
  # A host with br_netfilter (Docker's) hands bridged IPv4 to netfilter, whose defragmentation
  # would put the clients' fragments together before they reach the broker: a plain switch.
  if in_ns $NS_SW sysctl -n net.bridge.bridge-nf-call-iptables >/dev/null 2>&1; then
    in_ns $NS_SW sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
      net.bridge.bridge-nf-call-arptables=0
  fi
  ip -n $NS_CLI link add name c0 type veth peer name sw-c netns $NS_SW
  ip -n $NS_SPOOF link add name s0 type veth peer name sw-s netns $NS_SW
  ip -n $NS_BRK link add name b4 type veth peer name sw-b netns $NS_SW
  ip -n $NS_BRK link add name b6 type veth peer name i0 netns $NS_V6

  # Only the TUN interfaces and the IPv6 side speak IPv6: no router solicitations or MLD from
  # the IPv4 links, which the dataplane would have to count as foreign frames.
  in_ns $NS_SW sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  in_ns $NS_SPOOF sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  in_ns $NS_CLI sysctl -qw net.ipv6.conf.c0.disable_ipv6=1
  hand_broker_veths_to_dpdk

  for port in sw-c sw-s sw-b; do in_ns $NS_SW ip link set "$port" master br0; done
  in_ns $NS_CLI python3 "$helpers/offloads_off.py" c0
  in_ns $NS_SPOOF python3 "$helpers/offloads_off.py" s0
  in_ns $NS_SW python3 "$helpers/offloads_off.py" sw-c sw-s sw-b
  for port in br0 sw-c sw-s sw-b; do in_ns $NS_SW ip link set "$port" up; done

  in_ns $NS_CLI ip addr add $CLIENT_V4/24 dev c0
  in_ns $NS_CLI ip addr add $CLIENT2_V4/24 dev c0
  in_ns $NS_CLI ip link set c0 up
  # The clients' path to the broker is narrower than their tunnel packets: the kernel cuts the
  # larger outer packets (protocol 41 and UDP) into fragments, the broker's workers must put
  # them together again.
  in_ns $NS_CLI ip route add $BROKER_V4/32 dev c0 mtu lock $CLIENT_PATH_MTU
  in_ns $NS_SPOOF ip addr add $SPOOF_V4/24 dev s0
  in_ns $NS_SPOOF ip link set s0 up
  bring_up_broker_and_uplink
}

# ---- broker -------------------------------------------------------------------------------------
write_config() {
  cat >"$work/broker.conf" <<EOF
ipv6 local pool P_Interco 2001:db8:f001:1::/64 128
ipv6 local pool P_Sites48 2001:db8:f100::/40 48
ipv6 local pool P_Sites64 2001:db8:f200::/48 64
tsp TSP_Main
  ip address $BROKER_V4
  transport udp 3653
  transport tcp 3653
  authentication digest-md5 plain anonymous
  ! Keepalives every 5 s so that each client's are answered during its few seconds; tunnels
  ! never expire during the test.
  keepalive interval 5
  keepalive missed 100
tunnel server TS_Main
  ip address $BROKER_V4
  ipv6 pool endpoints P_Interco
  ipv6 pool prefix P_Sites48
  ipv6 pool prefix P_Sites64
tunnel broker TB_Main
  set tsp TSP_Main
  set tunnel server TS_Main
metrics listen $BROKER_V4 9153
$(broker_store_admin_dataplane)
  ! Appended to the dataplane block above: the flood checks' limits (neighbor keeps its
  ! default, far above what this test sends). The reload check rewrites the first line.
  exception limit other $OTHER_RATE $OTHER_BURST
  exception limit tsp $TSP_CLASS_RATE $TSP_CLASS_BURST
  exception limit tsp-source $TSP_SOURCE_RATE $TSP_SOURCE_BURST
EOF
}

start_broker() {
  "$TSPBROKERD" --check-config --config "$work/broker.conf" >"$work/check-config.log" 2>&1 ||
    fail "tspbrokerd rejects the test configuration"
  echo alice-secret | "$TSPCTL" --config "$work/broker.conf" user add alice >"$work/tspctl.log" 2>&1 ||
    fail "tspctl user add alice"
  echo bob-secret | "$TSPCTL" --config "$work/broker.conf" user add bob >>"$work/tspctl.log" 2>&1 ||
    fail "tspctl user add bob"
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

# Reads the dataplane counters the daemon logs when it stops into the array dp (keys rx, tx,
# decap, encap, keepalive_replies, drop.REASON, ...), summed over workers. Two layouts are read:
#   dataplane counters: rx=1 tx=2 ... drop.no_tunnel=3 ...
#   dataplane worker lcore 1: rx 1 tx 2 ... keepalive replies 4 icmp errors 0, drops: no_tunnel=3 ...
declare -A dp
add_counter() { dp[$1]=$(( ${dp[$1]:-0} + $2 )); }
read_dataplane_counters() {
  local line pair body
  line=$(grep -o 'dataplane counters: .*' "$work/broker.log" | tail -n 1 || true)
  if [ -n "$line" ]; then
    echo "$line"
    for pair in ${line#dataplane counters: }; do
      if [[ $pair =~ ^([a-z_.]+)=([0-9]+)$ ]]; then add_counter "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; fi
    done
  else
    grep -q 'dataplane worker lcore [0-9]*: ' "$work/broker.log" ||
      fail "tspbrokerd logged no dataplane counters when it stopped"
    while read -r line; do
      echo "$line"
      body=${line#*: }
      local counts=${body%%, drops:*} drops=${body#*, drops:}
      counts=${counts//keepalive replies/keepalive_replies}
      counts=${counts//icmp errors/icmp_errors}
      set -- $counts
      while [ $# -ge 2 ]; do add_counter "$1" "$2"; shift 2; done
      for pair in $drops; do
        if [[ $pair =~ ^([a-z_]+)=([0-9]+)$ ]]; then add_counter "drop.${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; fi
      done
    done < <(grep -o 'dataplane worker lcore [0-9]*: .*' "$work/broker.log")
  fi
  for key in rx tx decap encap keepalive_replies; do
    [ -n "${dp[$key]:-}" ] || fail "the dataplane counters have no $key"
  done
}

# ---- clients ------------------------------------------------------------------------------------
# start_client NAME TUN ARGS...: negotiates in tspt-cli and waits for its TUN to be ready.
start_client() {
  local name=$1 tun=$2; shift 2
  ip netns exec $NS_CLI "$TSP_TUNNEL_CLIENT" --server $BROKER_V4 --tun "$tun" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  local pid=$!
  pids+=("$pid")
  eval "${name}_pid=$pid"
  wait_for_line "$work/$name.out" 30 '^ready=1$' "$pid"
}

# value NAME KEY: a key=value line the client printed.
value() { sed -n "s/^$2=//p" "$work/$1.out" | tail -n 1; }

stop_client() {
  local pid_var="${1}_pid"
  kill -TERM "${!pid_var}"
  wait "${!pid_var}" || fail "client $1 exited with status $? after SIGTERM"
  grep -q '^relay.to_tunnel_packets=' "$work/$1.out" || fail "client $1 printed no relay counters"
}

# Sum of relay counter $1 over the given clients.
relay_sum() {
  local key=$1 total=0 name; shift
  for name in "$@"; do total=$((total + $(value "$name" "relay.$key"))); done
  echo "$total"
}

# ---- traffic ------------------------------------------------------------------------------------
ping_both_ways() {  # ping_both_ways CLIENT_ADDRESS LABEL
  local addr=$1 label=$2
  # The first packets may wait for ARP/ND on the broker's side: warm up, then insist.
  in_ns $NS_CLI python3 "$helpers/ping6.py" "$addr" $V6_HOST 3 1 >/dev/null || fail "$label: no ping reply at all from $V6_HOST"
  in_ns $NS_CLI python3 "$helpers/ping6.py" "$addr" $V6_HOST 5 || fail "$label: ping6 $addr -> $V6_HOST lost packets"
  in_ns $NS_V6 python3 "$helpers/ping6.py" $V6_HOST "$addr" 5 || fail "$label: ping6 $V6_HOST -> $addr lost packets"
}

tcp_both_ways() {  # tcp_both_ways CLIENT_ADDRESS LABEL
  local addr=$1 label=$2 want
  want=$(sha256sum <"$work/payload.bin")
  ip netns exec $NS_V6 python3 "$helpers/tcp_transfer.py" receive $V6_HOST 5001 "$work/$label-up.bin" >"$work/$label-up-rx.out" 2>&1 &
  local rx=$!
  pids+=("$rx")
  wait_for_line "$work/$label-up-rx.out" 10 listening "$rx"
  in_ns $NS_CLI python3 "$helpers/tcp_transfer.py" send "$addr" $V6_HOST 5001 "$work/payload.bin" >/dev/null ||
    fail "$label: TCP upload from $addr failed"
  wait "$rx" || fail "$label: TCP receiver in $NS_V6 failed"
  [ "$(sha256sum <"$work/$label-up.bin")" = "$want" ] || fail "$label: the 1 MiB uploaded arrived altered"

  ip netns exec $NS_CLI python3 "$helpers/tcp_transfer.py" receive "$addr" 5002 "$work/$label-down.bin" >"$work/$label-down-rx.out" 2>&1 &
  rx=$!
  pids+=("$rx")
  wait_for_line "$work/$label-down-rx.out" 10 listening "$rx"
  in_ns $NS_V6 python3 "$helpers/tcp_transfer.py" send $V6_HOST "$addr" 5002 "$work/payload.bin" >/dev/null ||
    fail "$label: TCP download to $addr failed"
  wait "$rx" || fail "$label: TCP receiver in $NS_CLI failed"
  [ "$(sha256sum <"$work/$label-down.bin")" = "$want" ] || fail "$label: the 1 MiB downloaded arrived altered"
}

forge() { in_ns $NS_SPOOF python3 "$helpers/forge.py" "$@" >/dev/null || fail "forge.py $*"; }

# ---- metrics ------------------------------------------------------------------------------------
# metric 'NAME{LABELS}': the scraped value of that one series; fails if it is absent.
metric() {
  local v
  v=$(awk -v key="$1" 'index($0, key "=") == 1 { print substr($0, length(key) + 2) }' "$work/metrics.out")
  [ -n "$v" ] || fail "no series $1 in the scraped metrics"
  echo "$v"
}
# metric_sum NAME 'LABEL="VALUE"' [FILE]: the sum over NAME's series with that label (all
# workers), in FILE (default: the final scrape, metrics.out).
metric_sum() {
  awk -v name="$1{" -v label="$2" 'index($0, name) == 1 && index($0, label) { n = split($0, kv, "}="); s += kv[n] }
                                   END { print s + 0 }' "${3:-$work/metrics.out}"
}
scrape_metrics_to() {  # scrape_metrics_to FILE
  in_ns $NS_BRK python3 "$helpers/scrape_metrics.py" "$METRICS_URL/metrics" >"$1" 2>"$work/metrics.log" ||
    fail "the metrics endpoint's answer is not valid Prometheus text: $(cat "$work/metrics.log")"
}
expect_metric() {  # expect_metric 'NAME{LABELS}' VALUE
  local got
  got=$(metric "$1")
  [ "$got" = "$2" ] || fail "metrics: $1=$got, expected $2"
}

# The scrape taken after the traffic, before SIGTERM, against what the test did and the counters
# the daemon logged when it stopped (which can only have grown since).
check_metrics() {
  say "metrics: $(wc -l <"$work/metrics.out") series"
  expect_metric 'tspbroker_tsp_sessions_total{result="accepted"}' 3
  for result in refused redirected rejected timeout; do expect_metric "tspbroker_tsp_sessions_total{result=\"$result\"}" 0; done
  # A and C (bob over TCP; the client prefers DIGEST-MD5) with DIGEST-MD5, B anonymous.
  expect_metric 'tspbroker_tsp_authentications_total{mechanism="digest-md5",result="success"}' 2
  expect_metric 'tspbroker_tsp_authentications_total{mechanism="anonymous",result="success"}' 1
  for m in digest-md5 plain anonymous; do
    expect_metric "tspbroker_tsp_authentications_total{mechanism=\"$m\",result=\"failure\"}" 0
  done
  expect_metric 'tspbroker_tunnels{mode="v6v4",type="host"}' 1
  expect_metric 'tspbroker_tunnels{mode="v6v4",type="router"}' 1
  expect_metric 'tspbroker_tunnels{mode="v6udpv4",type="host"}' 1
  expect_metric 'tspbroker_tunnels{mode="v6udpv4",type="router"}' 0
  [ "$(metric_sum tspbroker_tunnels 'mode="v6v4"')" -eq 2 ] || fail "metrics: v6v4 tunnels are not 2"
  expect_metric 'tspbroker_keepalive_expiries_total' 0
  # No PLAIN login here: the checker is idle, and no address is locked out.
  expect_metric 'tspbroker_password_checks_queued{lane="trusted"}' 0
  expect_metric 'tspbroker_password_checks_queued{lane="other"}' 0
  expect_metric 'tspbroker_password_checks_running' 0
  [ "$(metric tspbroker_password_check_queue_capacity)" -ge 1024 ] || fail "metrics: password check queue capacity below 1024"
  expect_metric 'tspbroker_auth_locked_sources' 0
  expect_metric 'tspbroker_auth_locked_users' 0
  expect_metric 'tspbroker_pool_used_blocks{pool="P_Interco"}' 3
  expect_metric 'tspbroker_pool_used_blocks{pool="P_Sites48"}' 1
  expect_metric 'tspbroker_dataplane_workers' 1
  metric 'tspbroker_dataplane_rx_packets_total{worker="0"}' >/dev/null

  local decap encap
  decap=$(metric_sum tspbroker_dataplane_packets_total 'direction="decap"')
  encap=$(metric_sum tspbroker_dataplane_packets_total 'direction="encap"')
  echo "scraped: decap=$decap encap=$encap, logged at stop: decap=${dp[decap]} encap=${dp[encap]}"
  [ "$decap" -le "${dp[decap]}" ] && [ "$sent" -le $((decap + unresolved)) ] ||
    fail "metrics: decap=$decap but the clients sent $sent packets ($unresolved waited for ARP/ND)"
  [ "$encap" -le "${dp[encap]}" ] && [ $((encap + unresolved)) -ge "$received" ] ||
    fail "metrics: encap=$encap but the clients received $received packets"
  # Two 1 MiB uploads (A, B) and two downloads, as inner IPv6 bytes.
  [ "$(metric_sum tspbroker_dataplane_bytes_total 'direction="decap"')" -ge $((2 * 1048576)) ] ||
    fail "metrics: fewer decapsulated bytes than the 2 MiB uploaded"
  [ "$(metric_sum tspbroker_dataplane_bytes_total 'direction="encap"')" -ge $((2 * 1048576)) ] ||
    fail "metrics: fewer encapsulated bytes than the 2 MiB downloaded"
  [ "$(metric_sum tspbroker_dataplane_keepalive_replies_total 'worker=')" -ge "$replies" ] ||
    fail "metrics: fewer keepalive replies than the clients got ($replies)"
  [ "$(metric_sum tspbroker_dataplane_drops_total 'reason="inner_source_spoofed"')" -eq 10 ] ||
    fail "metrics: inner_source_spoofed drops are not the 10 forged"
  [ "$(metric_sum tspbroker_dataplane_drops_total 'reason="no_tunnel"')" -ge 10 ] ||
    fail "metrics: no_tunnel drops are fewer than the 10 forged"
  local policed
  policed=$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_other"')
  [ "$policed" -ge "$policed_after_flood" ] && [ "$policed" -le "${dp[drop.exception_policed_other]:-0}" ] ||
    fail "metrics: exception_policed_other=$policed, $policed_after_flood right after the flood, ${dp[drop.exception_policed_other]:-0} at stop"
  for reason in exception_policed_neighbor exception_policed_tsp; do
    [ "$(metric_sum tspbroker_dataplane_drops_total "reason=\"$reason\"")" -eq 0 ] || fail "metrics: $reason drops"
  done
  local reassembled
  reassembled=$(metric_sum tspbroker_dataplane_reassembled_packets_total 'worker=')
  metric 'tspbroker_dataplane_reassembled_packets_total{worker="0"}' >/dev/null
  [ "$reassembled" -le "${dp[reassembled]:-0}" ] || fail "metrics: reassembled=$reassembled, ${dp[reassembled]:-0} at stop"
  policed=$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_tsp_source"')
  [ "$policed" -ge "$policed_tsp_source_after_flood" ] && [ "$policed" -le "${dp[drop.exception_policed_tsp_source]:-0}" ] ||
    fail "metrics: exception_policed_tsp_source=$policed, $policed_tsp_source_after_flood right after the TSP flood, ${dp[drop.exception_policed_tsp_source]:-0} at stop"
}

# ---- the exception path's policer --------------------------------------------------------------
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((t / 1000)); }  # wall clock, milliseconds
ceil_s() { echo $((($1 + 999) / 1000)); }                              # milliseconds -> whole seconds, up

# wait_for_drops REASON BEFORE MIN FILE: scrapes the metrics into FILE until the drops of REASON
# have grown by MIN since BEFORE, or for 5 s (after a flood the worker may still be reading its
# ring: the counter gets there, or not). Sets drops_grown to the growth.
wait_for_drops() {
  local reason=$1 before=$2 min=$3 file=$4 deadline=$((SECONDS + 5))
  while :; do
    scrape_metrics_to "$file"
    drops_grown=$(( $(metric_sum tspbroker_dataplane_drops_total "reason=\"$reason\"" "$file") - before ))
    [ "$drops_grown" -lt "$min" ] && [ $SECONDS -lt $deadline ] || break
    sleep 0.2
  done
}

# FLOOD_COUNT datagrams from tspt-spoof to the broker's closed UDP port FLOOD_PORT: frames for its
# kernel, class other, limited to OTHER_RATE a second after a burst of OTHER_BURST. Bounds that
# hold however the flood and the worker were scheduled: the bucket lets through at most
# OTHER_BURST + OTHER_RATE a second, so over the flood's T ms (taken around the whole python
# run) at least sent - OTHER_BURST - OTHER_RATE * (ceil(T) + 1) are policed (the extra second
# for the worker still reading its ring, and room for a few frames lost in that ring); and
# between the scrapes around it (W ms) the kernel gets at most OTHER_BURST + OTHER_RATE *
# (ceil(W) + 1) frames, plus a few ARP or TSP frames (their own classes). Sets flood_sent and
# policed_after_flood for the final accounting.
flood_exception_path() {
  local t0 t1 t2 t3 policed_before exception_before policed min_policed exception_delta max_exception
  # ARP first: a datagram while the broker's MAC is unknown would wait in the kernel, or be
  # dropped there unseen (the queue holds a few).
  in_ns $NS_SPOOF python3 "$helpers/udp_flood.py" $BROKER_V4 $FLOOD_PORT 1 >/dev/null || fail "udp_flood.py warm-up"
  local deadline=$((SECONDS + 10))
  until ip -n $NS_SPOOF neigh show $BROKER_V4 dev s0 | grep -q lladdr; do
    [ $SECONDS -lt $deadline ] || fail "$NS_SPOOF did not resolve $BROKER_V4's MAC in 10s"
    sleep 0.1
  done
  t0=$(now_ms)
  scrape_metrics_to "$work/metrics-before-flood.out"
  policed_before=$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_other"' "$work/metrics-before-flood.out")
  exception_before=$(metric_sum tspbroker_dataplane_exception_packets_total 'worker=' "$work/metrics-before-flood.out")
  t1=$(now_ms)
  in_ns $NS_SPOOF python3 "$helpers/udp_flood.py" $BROKER_V4 $FLOOD_PORT $FLOOD_COUNT $FLOOD_RATE >"$work/flood.out" ||
    fail "udp_flood.py $BROKER_V4 $FLOOD_PORT $FLOOD_COUNT $FLOOD_RATE"
  t2=$(now_ms)
  flood_sent=$(sed -n 's/^sent=//p' "$work/flood.out")
  [ "$flood_sent" -ge $((FLOOD_COUNT * 9 / 10)) ] || fail "the flood sent only $flood_sent of $FLOOD_COUNT datagrams"
  min_policed=$((flood_sent - OTHER_BURST - OTHER_RATE * ($(ceil_s $((t2 - t1))) + 1)))
  wait_for_drops exception_policed_other "$policed_before" "$min_policed" "$work/metrics-after-flood.out"
  policed=$drops_grown
  t3=$(now_ms)
  exception_delta=$(( $(metric_sum tspbroker_dataplane_exception_packets_total 'worker=' "$work/metrics-after-flood.out") - exception_before ))
  max_exception=$((OTHER_BURST + OTHER_RATE * ($(ceil_s $((t3 - t0))) + 1) + 20))
  echo "flood: sent=$flood_sent in $((t2 - t1)) ms ($(sed -n 's/^seconds=//p' "$work/flood.out") s in python)," \
       "policed=$policed (at least $min_policed), exception +$exception_delta over $((t3 - t0)) ms (at most $max_exception)"
  [ "$policed" -gt 0 ] && [ "$policed" -ge "$min_policed" ] ||
    fail "flood: $policed exception_policed_other drops for $flood_sent datagrams in $((t2 - t1)) ms, expected at least $min_policed"
  # Nothing else of class other was on its way to the kernel.
  [ "$policed" -le $((flood_sent + 10)) ] || fail "flood: $policed exception_policed_other drops, more than the $flood_sent datagrams sent"
  [ "$exception_delta" -le "$max_exception" ] ||
    fail "flood: the kernel got $exception_delta frames over $((t3 - t0)) ms, the limit lets $max_exception through"
  policed_after_flood=$((policed_before + policed))
}

# limit_text 'RATE [BURST]': how the daemon logs that limit ("no limit", "200/s burst 50").
limit_text() { set -- $1; if [ "$1" = 0 ]; then echo "no limit"; else echo "$1/s burst $2"; fi; }

# set_other_limit 'RATE [BURST]': rewrites the config's "exception limit other" line and has the
# running broker reload it (tspctl reaches the admin socket, a path in $work, from any
# namespace). The reload must succeed, the daemon log the change ("reload: exception limits: A
# -> B") and the limits it handed the workers ("now limited to ..."; its log is flushed every
# 50 ms, hence the wait).
set_other_limit() {
  local limit=$1 was out
  was=$(sed -n 's/^  exception limit other //p' "$work/broker.conf")
  sed -i "s/^  exception limit other .*/  exception limit other $limit/" "$work/broker.conf"
  grep -qx "  exception limit other $limit" "$work/broker.conf" ||
    fail "could not rewrite the config's exception limit line to 'exception limit other $limit'"
  out=$("$TSPCTL" --config "$work/broker.conf" reload 2>&1) ||
    fail "tspctl reload (exception limit other $was -> $limit) failed: $out"
  echo "reload (exception limit other $was -> $limit): $out"
  wait_for_line "$work/broker.log" 5 \
    "reload: exception limits: .*other $(limit_text "$was")\(, [^>]*\)\? -> .*other $(limit_text "$limit")" "$broker_pid"
  wait_for_line "$work/broker.log" 5 "frames for the kernel now limited to .*other $(limit_text "$limit")" "$broker_pid"
}

# With the limit lifted by a reload (exception limit other 0), UNLIMITED_COUNT datagrams at the
# first flood's pace to the same closed port: none may be policed (exception_policed_other +0:
# with 200/s burst 50 still in force the ~0.1 s flood would have had ~900 policed, so this is
# the proof that the running workers took the new limit), and the kernel must get them
# (exception counter): at least UNLIMITED_MIN, 10% left for frames lost in the af_packet ring
# if the worker loses its CPU (the first flood, at this pace, lost none), and no more than
# those sent plus 20 (ARP, TSP: their own classes, as in the first flood's bound). The scrapes
# poll (up to 5 s) until every datagram is counted, or at least UNLIMITED_MIN and no more coming
# (two scrapes 0.2 s apart agree): the ring is then empty, and the limit put back afterwards
# polices none of this flood.
flood_without_limit() {
  local t1 t2 sent0 policed_before exception_before policed exception_delta last=-1 deadline
  scrape_metrics_to "$work/metrics-before-flood2.out"
  policed_before=$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_other"' "$work/metrics-before-flood2.out")
  exception_before=$(metric_sum tspbroker_dataplane_exception_packets_total 'worker=' "$work/metrics-before-flood2.out")
  t1=$(now_ms)
  in_ns $NS_SPOOF python3 "$helpers/udp_flood.py" $BROKER_V4 $FLOOD_PORT $UNLIMITED_COUNT $FLOOD_RATE >"$work/flood2.out" ||
    fail "udp_flood.py $BROKER_V4 $FLOOD_PORT $UNLIMITED_COUNT $FLOOD_RATE (no limit)"
  t2=$(now_ms)
  sent0=$(sed -n 's/^sent=//p' "$work/flood2.out")
  [ "$sent0" -ge "$UNLIMITED_MIN" ] || fail "the flood with no limit sent only $sent0 of $UNLIMITED_COUNT datagrams"
  deadline=$((SECONDS + 5))
  while :; do
    scrape_metrics_to "$work/metrics-after-flood2.out"
    exception_delta=$(( $(metric_sum tspbroker_dataplane_exception_packets_total 'worker=' "$work/metrics-after-flood2.out") - exception_before ))
    [ "$exception_delta" -lt "$sent0" ] || break
    [ "$exception_delta" -lt "$UNLIMITED_MIN" ] || [ "$exception_delta" -ne "$last" ] || break
    [ $SECONDS -lt $deadline ] || break
    last=$exception_delta
    sleep 0.2
  done
  policed=$(( $(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_other"' "$work/metrics-after-flood2.out") - policed_before ))
  echo "flood with no limit: sent=$sent0 in $((t2 - t1)) ms ($(sed -n 's/^seconds=//p' "$work/flood2.out") s in python)," \
       "policed=$policed (0 expected), exception +$exception_delta (at least $UNLIMITED_MIN, at most $((sent0 + 20)))"
  [ "$policed" -eq 0 ] ||
    fail "flood with no limit: $policed exception_policed_other drops after the reload to 'exception limit other 0'"
  [ "$exception_delta" -ge "$UNLIMITED_MIN" ] ||
    fail "flood with no limit: the kernel got $exception_delta of $sent0 datagrams, expected at least $UNLIMITED_MIN"
  [ "$exception_delta" -le $((sent0 + 20)) ] ||
    fail "flood with no limit: the kernel got $exception_delta frames for $sent0 datagrams sent"
}

# flood_tsp_port_during COMMAND...: a flood from tspt-spoof at the broker's TSP port (FLOOD_RATE
# datagrams a second, each a session's first VERSION= from one socket) while COMMAND runs; COMMAND must be done before
# the flood (at most TSP_FLOOD_COUNT datagrams), which is then stopped. The flooder's share lets
# through at most TSP_SOURCE_BURST + TSP_SOURCE_RATE a second, so over the flood's T ms at least
# sent - TSP_SOURCE_BURST - TSP_SOURCE_RATE * (ceil(T) + 1) are dropped as
# exception_policed_tsp_source (as in flood_exception_path). Sets policed_tsp_source_after_flood
# for the final accounting; that the class never ran out (exception_policed_tsp 0) is checked
# there, over the whole run.
flood_tsp_port_during() {
  local t1 t2 flood_pid sent policed_before policed min_policed
  scrape_metrics_to "$work/metrics-before-tsp-flood.out"
  policed_before=$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_tsp_source"' "$work/metrics-before-tsp-flood.out")
  t1=$(now_ms)
  ip netns exec $NS_SPOOF python3 "$helpers/udp_flood.py" $BROKER_V4 $TSP_PORT $TSP_FLOOD_COUNT $FLOOD_RATE \
    "$TSP_FLOOD_PAYLOAD" >"$work/tsp-flood.out" 2>&1 &
  flood_pid=$!
  pids+=("$flood_pid")
  sleep 0.5  # the flooder's burst is long spent when COMMAND starts
  "$@"
  kill -0 "$flood_pid" 2>/dev/null ||
    fail "the TSP flood ended before '$*' did (it would prove nothing): raise TSP_FLOOD_COUNT"
  kill -TERM "$flood_pid"
  wait "$flood_pid" || fail "udp_flood.py at $BROKER_V4:$TSP_PORT exited with status $?"
  t2=$(now_ms)
  sent=$(sed -n 's/^sent=//p' "$work/tsp-flood.out")
  [ -n "$sent" ] && [ "$sent" -ge $(((t2 - t1) * FLOOD_RATE / 1000 / 2)) ] ||
    fail "the TSP flood sent only '${sent}' datagrams in $((t2 - t1)) ms"
  min_policed=$((sent - TSP_SOURCE_BURST - TSP_SOURCE_RATE * ($(ceil_s $((t2 - t1))) + 1)))
  wait_for_drops exception_policed_tsp_source "$policed_before" "$min_policed" "$work/metrics-after-tsp-flood.out"
  policed=$drops_grown
  echo "TSP flood: sent=$sent in $((t2 - t1)) ms, exception_policed_tsp_source=$policed (at least $min_policed)," \
       "exception_policed_tsp=$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_tsp"' "$work/metrics-after-tsp-flood.out")"
  [ "$policed" -gt 0 ] && [ "$policed" -ge "$min_policed" ] && [ "$policed" -le "$sent" ] ||
    fail "TSP flood: $policed exception_policed_tsp_source drops for $sent datagrams in $((t2 - t1)) ms, expected at least $min_policed"
  [ "$(metric_sum tspbroker_dataplane_drops_total 'reason="exception_policed_tsp"' "$work/metrics-after-tsp-flood.out")" -eq 0 ] ||
    fail "TSP flood: the tsp class ran out (exception_policed_tsp > 0): the flooder's excess reached it"
  # tspctl sources names the flooder, with what the dataplane dropped for it (no other address
  # was policed; the count is the workers' since the last reload, read after the scrape), though
  # it never got a session through.
  local listed named named_count
  listed=$("$TSPCTL" --config "$work/broker.conf" --json sources 2>&1) || fail "tspctl sources: $listed"
  named=$(python3 -c 'import json, sys
r = json.load(sys.stdin)
print(" ".join("%s=%d" % (s["address"], s["policed"]) for s in r["sources"] if s["policed"]))' <<<"$listed")
  echo "tspctl sources, policed: $named"
  named_count=${named#"$SPOOF_V4="}
  [ "$named" = "$SPOOF_V4=$named_count" ] && [ "$named_count" -ge "$policed" ] && [ "$named_count" -le "$sent" ] ||
    fail "tspctl sources: policed '$named', expected $SPOOF_V4 alone with $policed to $sent frames"
  policed_tsp_source_after_flood=$((policed_before + policed))
}

# ---- the test -----------------------------------------------------------------------------------
say "topology"
build_topology
head -c 1048576 /dev/urandom >"$work/payload.bin"
write_config
say "tspbrokerd with DPDK af_packet ports in $NS_BRK"
start_broker

ip netns exec $NS_V6 python3 "$helpers/udp_listener.py" :: $LISTEN_PORT >"$work/listener.out" 2>&1 &
listener_pid=$!
pids+=("$listener_pid")
wait_for_line "$work/listener.out" 10 listening "$listener_pid"

say "A: alice, v6v4 host tunnel (protocol 41 from $CLIENT_V4)"
start_client a tspa0 --mode v6v4 --user alice --password alice-secret --bind $CLIENT_V4
[ "$(value a type)" = v6v4 ] || fail "A: offered $(value a type), asked for v6v4"
a_v6=$(value a client_ipv6)
ping_both_ways "$a_v6" A
tcp_both_ways "$a_v6" A
in_ns $NS_CLI python3 "$helpers/udp_send.py" "$a_v6" $V6_HOST $LISTEN_PORT honest-A
say "A: forged protocol 41"
forge proto41 $CLIENT_V4 $BROKER_V4 $FOREIGN_V6 $V6_HOST $LISTEN_PORT 5 forged-inner-41
forge proto41 $SPOOF_V4 $BROKER_V4 "$a_v6" $V6_HOST $LISTEN_PORT 5 forged-outer-41
stop_client a

say "B: anonymous v6anyv4 declaring 10.0.0.5 (NAT): v6udpv4"
start_client b tspb0 --mode v6anyv4 --declare 10.0.0.5 --bind $CLIENT_V4
[ "$(value b type)" = v6udpv4 ] || fail "B: offered $(value b type); a declared address behind NAT must get v6udpv4"
b_v6=$(value b client_ipv6)
b_port=$(value b local_port)
ping_both_ways "$b_v6" B
tcp_both_ways "$b_v6" B
in_ns $NS_CLI python3 "$helpers/udp_send.py" "$b_v6" $V6_HOST $LISTEN_PORT honest-B
say "B: forged v6udpv4"
wrong_port=$((b_port == 65535 ? 65534 : b_port + 1))
forge udp $CLIENT_V4 $wrong_port $BROKER_V4 3653 "$b_v6" $V6_HOST $LISTEN_PORT 5 forged-port-udp
forge udp $CLIENT_V4 "$b_port" $BROKER_V4 3653 $FOREIGN_V6 $V6_HOST $LISTEN_PORT 5 forged-inner-udp
say "flood: $FLOOD_COUNT UDP datagrams, $FLOOD_RATE a second, from $SPOOF_V4 to $BROKER_V4:$FLOOD_PORT (exception limit other $OTHER_RATE $OTHER_BURST)"
flood_exception_path
ping_both_ways "$b_v6" "B after the flood"
say "reload: exception limit other 0 (no limit), then $UNLIMITED_COUNT datagrams, $FLOOD_RATE a second, to $BROKER_V4:$FLOOD_PORT"
set_other_limit 0
flood_without_limit
say "reload: exception limit other $OTHER_RATE $OTHER_BURST again"
set_other_limit "$OTHER_RATE $OTHER_BURST"
stop_client b

say "C: bob over TCP, v6v4 router /48 from $CLIENT2_V4, negotiated while $SPOOF_V4 floods the TSP port at $FLOOD_RATE a second (exception limit tsp $TSP_CLASS_RATE $TSP_CLASS_BURST, tsp-source $TSP_SOURCE_RATE $TSP_SOURCE_BURST)"
flood_tsp_port_during start_client c tspc0 --mode v6v4 --tcp --user bob --password bob-secret --router --prefixlen 48 --bind $CLIENT2_V4
[ "$(value c type)" = v6v4 ] || fail "C: offered $(value c type), asked for v6v4"
[ "$(value c prefix_length)" = 48 ] || fail "C: asked for a /48, got '$(value c prefix)'"
ping_both_ways "$(value c client_ipv6)" C
ping_both_ways "$(value c prefix_address)" "C /48"
stop_client c

sleep 0.5  # let the last forged packets be processed before the listener's verdict
kill "$listener_pid"
wait "$listener_pid" 2>/dev/null || true
say "what reached the listener in $NS_V6:"
cat "$work/listener.out"
grep -q 'payload=honest-A' "$work/listener.out" || fail "the listener missed A's honest datagram: its verdict would mean nothing"
grep -q 'payload=honest-B' "$work/listener.out" || fail "the listener missed B's honest datagram"
! grep -q 'payload=forged' "$work/listener.out" || fail "forged packets went through the broker: $(grep forged "$work/listener.out" | head -3)"

client_fragments=$(in_ns $NS_CLI nstat -az IpFragCreates | awk '$1 == "IpFragCreates" { print $2 }')
say "metrics: $METRICS_URL/metrics from $NS_BRK"
scrape_metrics_to "$work/metrics.out"
[ "$(in_ns $NS_BRK python3 "$helpers/scrape_metrics.py" --status "$METRICS_URL/other")" = 404 ] ||
  fail "the metrics endpoint does not answer 404 for another path"

say "stopping tspbrokerd"
kill -TERM "$broker_pid"
wait "$broker_pid" || fail "tspbrokerd exited with status $? on SIGTERM"
read_dataplane_counters
for name in a b c; do
  echo "client $name: $(grep '^relay\.' "$work/$name.out" | sed 's/^relay\.//' | tr '\n' ' ')"
done

# The counters account for every packet. Each one a client sent was decapsulated and forwarded,
# or dropped while the uplink's neighbour was being resolved (the first ones); nothing else was
# decapsulated. Each one a client got was encapsulated, and each one encapsulated reached a
# client's relay unless its socket buffer overflowed (counted by the relay; TCP resent it).
sent=$(relay_sum to_tunnel_packets a b c)
received=$(relay_sum from_tunnel_packets a b c)
lost_at_client=$(( $(relay_sum socket_drops a b c) + $(relay_sum tun_write_errors a b c) ))
unresolved=${dp[drop.neighbor_unresolved]:-0}
[ "$unresolved" -le 6 ] || fail "drop.neighbor_unresolved=$unresolved: more than the first packets to 3 next hops"
[ "${dp[decap]}" -le "$sent" ] && [ "$sent" -le $((dp[decap] + unresolved)) ] ||
  fail "decap=${dp[decap]} (+$unresolved waiting for ARP/ND) but the clients sent $sent packets"
[ $((dp[encap] + unresolved)) -ge "$received" ] && [ "${dp[encap]}" -le $((received + lost_at_client + unresolved)) ] ||
  fail "encap=${dp[encap]} but the clients received $received packets and lost $lost_at_client"
for name in a b c; do
  [ "$(value $name relay.keepalive_replies)" -ge 1 ] || fail "client $name: no keepalive answered"
  [ "$(value $name relay.dropped_not_from_server)" -eq 0 ] || fail "client $name: received packets not from the server"
  [ "$(value $name relay.send_errors)" -eq 0 ] || fail "client $name: send errors on its tunnel socket"
done
replies=$(relay_sum keepalive_replies a b c)
[ "${dp[keepalive_replies]}" -ge "$replies" ] ||
  fail "keepalive_replies=${dp[keepalive_replies]} but the clients got $replies replies"
# The forgeries, and why each was dropped.
[ "${dp[drop.inner_source_spoofed]:-0}" -eq 10 ] || fail "drop.inner_source_spoofed=${dp[drop.inner_source_spoofed]:-0}, forged 10"
# A client's first keepalive can beat the broker's publication of its tunnel (over TCP the
# accept has no answer to wait for): unanswered keepalives may add to no_tunnel, nothing else.
unanswered=$(( $(relay_sum keepalives_sent a b c) - $(relay_sum keepalive_replies a b c) ))
[ "${dp[drop.no_tunnel]:-0}" -ge 10 ] && [ "${dp[drop.no_tunnel]:-0}" -le $((10 + unanswered)) ] ||
  fail "drop.no_tunnel=${dp[drop.no_tunnel]:-0}: forged 10, and $unanswered keepalives went unanswered"
# The flood: what the scrape right after it counted, and nothing of class other policed since
# (the bucket refills in a quarter of a second and nothing else sends the kernel bursts; the
# second flood, with no limit, was checked to have none policed).
[ "${dp[drop.exception_policed_other]:-0}" -ge "$policed_after_flood" ] &&
  [ "${dp[drop.exception_policed_other]:-0}" -le $((policed_after_flood + 10)) ] ||
  fail "drop.exception_policed_other=${dp[drop.exception_policed_other]:-0}, $policed_after_flood right after the flood"
# The uploads' full-size segments left the clients in fragments (1 MiB each for A and B: at
# least ~800 packets of 1280 bytes each, two fragments each), and crossed (the sha256 checks);
# none was given up (ipv4_fragment is in the list below).
[ "$client_fragments" -ge 3200 ] ||
  fail "the clients' kernel made only $client_fragments IPv4 fragments: the narrow route to the broker did not apply"
# The TSP flood: what the scrape right after it counted, and nothing policed since.
[ "${dp[drop.exception_policed_tsp_source]:-0}" -ge "$policed_tsp_source_after_flood" ] &&
  [ "${dp[drop.exception_policed_tsp_source]:-0}" -le $((policed_tsp_source_after_flood + 10)) ] ||
  fail "drop.exception_policed_tsp_source=${dp[drop.exception_policed_tsp_source]:-0}, $policed_tsp_source_after_flood right after the TSP flood"
# Nothing else the test sent has a reason to be dropped (ARP, neighbor discovery and the TSP
# class stay below their limits: the TSP flood's excess never reaches the class).
for reason in malformed_ipv4 malformed_ipv6 ipv4_fragment inner_not_ipv6 tunnel_loop no_route hop_limit_exceeded \
              too_big tx_full no_mbuf malformed_udp no_gateway no_headroom segmented_frame \
              exception_policed_neighbor exception_policed_tsp; do
  [ "${dp[drop.$reason]:-0}" -eq 0 ] || fail "unexpected drops: drop.$reason=${dp[drop.$reason]}"
done
check_metrics
say "PASS"
