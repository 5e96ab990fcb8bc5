#!/usr/bin/env bash
# tspc (tools/tspc) end to end against tspbrokerd with its DPDK dataplane, in network
# namespaces: the five scenarios of the client guide (issue 4), each with real IPv6 traffic
# between the client (or a LAN host behind it) and a host on the IPv6 side. Topology: see
# tspc_topology.sh.
#
#  1 anonymous, v6anyv4, no NAT              -> v6v4 (TUN + raw protocol 41 in tspc)
#  2 alice (digest-md5, then any), v6v4      -> the same IPv6 address on a second run;
#    then a wrong password with -b           -> exit code 16
#  3 bob, router /64 then /48, if_prefix=lan0 -> tspc's router advertisements give the LAN
#    host (ns tspc-lan) a SLAAC address in the prefix; its traffic crosses the tunnel
#  4 anonymous behind the nftables NAT, v6anyv4 -> v6udpv4; then the NAT drops the client's
#    UDP: keepalives go unanswered, tspc runs the teardown template, and once the rule is gone
#    it reconnects (a new creation, traffic again)
#  5 carol, the mobile node: config/tspc-dhclient-exit-hook starts tspc, the client's IPv4
#    address changes, the hook restarts tspc: the same IPv6 address, traffic again
#  6 in every run the template (tests/netns/templates/record-linux.sh, which records the TSP_*
#    variables and then runs the shipped linux.sh) gets the values of the broker's offer, a
#    creation and, after SIGHUP (tspc exits 0), a teardown with the same values.
#
# Needs root. Env: TSPBROKERD, TSPCTL, TSPC (binaries), NETNS_HELPERS (this folder),
# TSPC_TEMPLATES (tools/tspc/template), TSPC_DHCLIENT_HOOK (default: config/ of this tree).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
helpers=${NETNS_HELPERS:-$here}
templates=${TSPC_TEMPLATES:-$here/../../tools/tspc/template}
hook=${TSPC_DHCLIENT_HOOK:-$helpers/../../config/tspc-dhclient-exit-hook}

fail() {
  report_failure "$*" "$work"/*.log "$work"/*/tspc.log "$work"/*/*.out "$work"/*/records/index "$work"/*/records/*.out
}

[ "$(id -u)" -eq 0 ] || { echo "tspc_e2e: needs root (network namespaces, DPDK, TUN, raw sockets); CI runs as root" >&2; exit 1; }
for var in TSPBROKERD TSPCTL TSPC; do
  [ -x "${!var:-}" ] || { echo "tspc_e2e: \$$var must name the built binary" >&2; exit 1; }
done
[ -f "$templates/linux.sh" ] || { echo "tspc_e2e: no linux.sh in $templates (set TSPC_TEMPLATES)" >&2; exit 1; }
[ -f "$hook" ] || { echo "tspc_e2e: no dhclient hook at $hook (set TSPC_DHCLIENT_HOOK)" >&2; exit 1; }

work=$(mktemp -d /tmp/tspc-netns.XXXXXX)
pids=()
hook_pidfile=$work/carol/hook.pid
cleanup() {
  local pid
  # The tspc the dhclient hook started is no child of ours; its PID is in the hook's file.
  if [ -s "$hook_pidfile" ]; then pids+=("$(cat "$hook_pidfile")"); fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  remove_namespaces
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tspc_topology.sh
. "$here/tspc_topology.sh"

# ---- tspc instances -----------------------------------------------------------------------------
# Each instance NAME has a home $work/NAME (tsp_dir: template/, records/, tspc.conf, tspc.log).
declare -A tspc_pid

make_home() {
  local home=$work/$1
  mkdir -p "$home/template" "$home/records"
  cp "$helpers/templates/record-linux.sh" "$home/template/linux.sh"
  cp "$templates/linux.sh" "$home/template/shipped-linux.sh"
}

# write_conf NAME KEY=VALUE...: the defaults below, then the given keys (the last wins; an
# empty value leaves the key out).
write_conf() {
  local name=$1 home=$work/$1 pair
  shift
  declare -A conf=(
    [tsp_dir]=$home [template]=linux [server]=$BROKER_V4 [auth_method]=anonymous
    [client_v4]=auto [tunnel_mode]=v6anyv4 [if_tunnel_v6v4]=tspc41 [if_tunnel_v6udpv4]=tspcudp
    [retry_delay]=2 [keepalive]=yes [keepalive_interval]=$KEEPALIVE_INTERVAL [host_type]=host
    [log_file]=3 [log_stderr]=1 [log_filename]=$home/tspc.log
  )
  local order=(tsp_dir template server auth_method userid passwd client_v4 tunnel_mode if_tunnel_v6v4
               if_tunnel_v6udpv4 retry_delay keepalive keepalive_interval host_type prefixlen if_prefix
               log_file log_stderr log_filename)
  for pair in "$@"; do conf[${pair%%=*}]=${pair#*=}; done
  : >"$home/tspc.conf"
  for key in "${order[@]}"; do
    [ -z "${conf[$key]:-}" ] || printf '%s=%s\n' "$key" "${conf[$key]}" >>"$home/tspc.conf"
  done
}

start_tspc() {  # start_tspc NAME NS: tspc -n -f NAME/tspc.conf in NS, from its home
  local name=$1 ns=$2 home=$work/$1
  ip netns exec "$ns" env -C "$home" "$TSPC" -n -f "$home/tspc.conf" >>"$home/tspc.out" 2>&1 &
  tspc_pid[$name]=$!
  pids+=("$!")
}

record_file() { ls "$work/$1/records/$(printf '%03d' "$2")"-*.env 2>/dev/null | head -n 1; }
rv() { sed -n "s/^$2=//p" "$1" | tail -n 1; }  # rv RECORD_FILE VARIABLE

# wait_record NAME N OPERATION SECONDS [PID]: template run number N must be OPERATION and
# succeed, within SECONDS; fails early if PID exits.
wait_record() {
  local name=$1 n=$2 op=$3 seconds=$4 pid=${5:-} index=$work/$1/records/index line
  local deadline=$((SECONDS + seconds))
  until line=$(grep "^$n " "$index" 2>/dev/null); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" 2>/dev/null || rc=$?
      fail "$name: tspc exited (status $rc) before template run $n ($op)"
    fi
    [ $SECONDS -lt $deadline ] || fail "$name: no template run $n ($op) after ${seconds}s"
    sleep 0.2
  done
  [ "$line" = "$n TSP_TUNNEL_$op exit=0" ] || fail "$name: template run $n: '$line', wanted TSP_TUNNEL_$op exit=0"
}

# check_creation NAME N MODE HOST_TYPE INTERFACE CLIENT_V4 [PREFIXLEN IF_PREFIX]: the variables
# of template run N against the broker's offer. Sets v6 (the client's IPv6 address) and, for a
# router, prefix (canonical PREFIX/LEN).
check_creation() {
  local name=$1 n=$2 mode=$3 host_type=$4 iface=$5 client_v4=$6 plen=${7:-} if_prefix=${8:-}
  local rec offer want_prefix
  rec=$(record_file "$name" "$n")
  [ -n "$rec" ] || fail "$name: no record of template run $n"
  expect() {  # expect VARIABLE VALUE
    [ "$(rv "$rec" "$1")" = "$2" ] || fail "$name run $n: $1='$(rv "$rec" "$1")', wanted '$2'"
  }
  expect TSP_OPERATION TSP_TUNNEL_CREATION
  expect TSP_TUNNEL_MODE "$mode"
  expect TSP_HOST_TYPE "$host_type"
  expect TSP_TUNNEL_INTERFACE "$iface"
  expect TSP_HOME_DIR "$work/$name"
  expect TSP_CLIENT_ADDRESS_IPV4 "$client_v4"
  expect TSP_SERVER_ADDRESS_IPV4 $BROKER_V4
  expect TSP_TUNNEL_PREFIXLEN 128
  expect TSP_HOME_INTERFACE "$if_prefix"
  [[ $(rv "$rec" TSP_VERBOSE) =~ ^[0-3]$ ]] || fail "$name run $n: TSP_VERBOSE='$(rv "$rec" TSP_VERBOSE)'"
  [ "$(canonical6 "$(rv "$rec" TSP_SERVER_ADDRESS_IPV6)")" = $SERVER_V6 ] ||
    fail "$name run $n: TSP_SERVER_ADDRESS_IPV6='$(rv "$rec" TSP_SERVER_ADDRESS_IPV6)', wanted $SERVER_V6"
  # gogoc sets it unconditionally (§3.3): scripts may rely on it.
  [ -n "$(canonical6 "$(rv "$rec" TSP_CLIENT_DNS_ADDRESS_IPV6)")" ] ||
    fail "$name run $n: TSP_CLIENT_DNS_ADDRESS_IPV6='$(rv "$rec" TSP_CLIENT_DNS_ADDRESS_IPV6)' is no IPv6 address"
  v6=$(canonical6 "$(rv "$rec" TSP_CLIENT_ADDRESS_IPV6)")
  [ -n "$v6" ] || fail "$name run $n: TSP_CLIENT_ADDRESS_IPV6='$(rv "$rec" TSP_CLIENT_ADDRESS_IPV6)' is no IPv6 address"
  offer=$(broker_offer_line "$v6") || fail "$name run $n: the broker offered no $v6 (TSP_CLIENT_ADDRESS_IPV6)"
  [[ $offer == *" $client_v4:"*": offered $mode $v6 to "* ]] ||
    fail "$name run $n: broker: '$offer', template: $mode $v6 from $client_v4"
  if [ -n "$plen" ]; then
    expect TSP_PREFIXLEN "$plen"
    # TSP_PREFIX is the offered text cut after ceil(len/16) groups (protocol notes §3.3).
    local groups
    groups=$(( ($(tr -cd ':' <<<"$(rv "$rec" TSP_PREFIX)" | wc -c)) + 1 ))
    [ "$groups" -eq $(( (plen + 15) / 16 )) ] || fail "$name run $n: TSP_PREFIX='$(rv "$rec" TSP_PREFIX)' for a /$plen"
    prefix=$(canonical6 "$(rv "$rec" TSP_PREFIX)::/$plen")
    want_prefix=$(sed -n 's/.* with \([0-9a-f:]*\/[0-9]*\)$/\1/p' <<<"$offer")
    [ -n "$prefix" ] && [ "$prefix" = "$(canonical6 "$want_prefix")" ] ||
      fail "$name run $n: TSP_PREFIX='$(rv "$rec" TSP_PREFIX)' /$plen, the broker offered '$want_prefix'"
  else
    ! grep -q '^TSP_PREFIX' "$rec" || fail "$name run $n: a host tunnel with $(grep '^TSP_PREFIX' "$rec" | tr '\n' ' ')"
  fi
  echo "$name run $n: $(tr '\n' ' ' <"$rec")"
}

# check_teardown NAME N: template run N is the teardown of run N-1, with the same variables.
check_teardown() {
  local name=$1 n=$2 created torn
  created=$(record_file "$name" $((n - 1)))
  torn=$(record_file "$name" "$n")
  [ "$(rv "$torn" TSP_OPERATION)" = TSP_TUNNEL_TEARDOWN ] || fail "$name run $n is no teardown"
  diff <(grep -v '^TSP_OPERATION=' "$created") <(grep -v '^TSP_OPERATION=' "$torn") >"$work/$name/teardown.diff" ||
    fail "$name: the teardown's variables differ from the creation's: $(cat "$work/$name/teardown.diff")"
}

# stop_tspc NAME N: SIGHUP; tspc runs the teardown template (run N) and exits 0 within 30 s.
stop_tspc() {
  local name=$1 n=$2 pid=${tspc_pid[$1]} rc=0 deadline=$((SECONDS + 30))
  kill -HUP "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "$name: tspc still running 30s after SIGHUP"
    sleep 0.2
  done
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$name: tspc exited with status $rc after SIGHUP, wanted 0"
  wait_record "$name" "$n" TEARDOWN 1
  check_teardown "$name" "$n"
}

interface_exists() { in_ns "$1" ip link show "$2" >/dev/null 2>&1; }

# A global address of the LAN host inside prefix $1, autoconfigured from tspc's router
# advertisements (waits up to 30 s).
lan_host_address() {
  local prefix=$1 deadline=$((SECONDS + 30)) addr
  while :; do
    addr=$(in_ns $NS_LAN ip -6 -o addr show dev l0 scope global | grep -v tentative |
           awk '{print $4}' | python3 -c '
import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
for line in sys.stdin:
    iface = ipaddress.ip_interface(line.strip())
    if iface.ip in net:
        print(iface.ip)
        break' "$prefix")
    [ -z "$addr" ] || { echo "$addr"; return 0; }
    [ $SECONDS -lt $deadline ] || fail "the LAN host got no address in $prefix from router advertisements in 30s: $(in_ns $NS_LAN ip -6 addr show dev l0)"
    sleep 0.5
  done
}

# ---- the test -----------------------------------------------------------------------------------
say "topology"
build_topology
head -c 1048576 /dev/urandom >"$work/payload.bin"
write_broker_config
add_user alice alice-secret
add_user bob bob-secret
add_user carol carol-secret
say "tspbrokerd with DPDK af_packet ports in $NS_BRK"
start_broker

say "1: single host, temporary address (anonymous, v6anyv4 without NAT -> v6v4)"
set_client_v4 192.0.2.10
make_home anon
write_conf anon
start_tspc anon $NS_CLI
wait_record anon 1 CREATION 60 "${tspc_pid[anon]}"
check_creation anon 1 v6v4 host tspc41 192.0.2.10
interface_exists $NS_CLI tspc41 || fail "1: no tspc41 interface while the tunnel is up"
ping_both_ways $NS_CLI "$v6" "1"
tcp_both_ways $NS_CLI "$v6" "1"
stop_tspc anon 2
! interface_exists $NS_CLI tspc41 || fail "1: tspc41 still exists after tspc exited"

say "2: single host, permanent address (alice: digest-md5, then any)"
set_client_v4 192.0.2.11
make_home alice
write_conf alice auth_method=digest-md5 userid=alice passwd=alice-secret tunnel_mode=v6v4
start_tspc alice $NS_CLI
wait_record alice 1 CREATION 60 "${tspc_pid[alice]}"
check_creation alice 1 v6v4 host tspc41 192.0.2.11
alice_v6=$v6
grep -q "authenticated DIGEST-MD5 as 'alice'" "$work/broker.log" || fail "2: the broker did not authenticate alice by DIGEST-MD5"
ping_both_ways $NS_CLI "$v6" "2"
tcp_both_ways $NS_CLI "$v6" "2"
stop_tspc alice 2
write_conf alice auth_method=any userid=alice passwd=alice-secret tunnel_mode=v6v4
start_tspc alice $NS_CLI
wait_record alice 3 CREATION 60 "${tspc_pid[alice]}"
check_creation alice 3 v6v4 host tspc41 192.0.2.11
[ "$v6" = "$alice_v6" ] || fail "2: alice got $v6 on her second run, $alice_v6 on the first"
[ "$(grep -c "authenticated DIGEST-MD5 as 'alice'" "$work/broker.log")" -ge 2 ] ||
  fail "2: auth_method=any did not pick DIGEST-MD5, the strongest both sides have"
ping_both_ways $NS_CLI "$v6" "2 again"
stop_tspc alice 4

say "2b: wrong password in boot mode (-b) -> exit code 16"
make_home wrongpw
write_conf wrongpw auth_method=digest-md5 userid=alice passwd=not-her-password tunnel_mode=v6v4
rc=0
timeout 90 ip netns exec $NS_CLI env -C "$work/wrongpw" "$TSPC" -n -b -f "$work/wrongpw/tspc.conf" \
  >"$work/wrongpw/tspc.out" 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "2b: tspc -b with a wrong password still running after 90s"
[ "$rc" -eq 16 ] || fail "2b: tspc -b with a wrong password exited $rc, wanted 16 (authentication failure)"
[ ! -s "$work/wrongpw/records/index" ] || fail "2b: a template ran although authentication failed"

say "3: router with a delegated /64 (bob), router advertisements on lan0"
set_client_v4 192.0.2.12
make_home bob
write_conf bob auth_method=digest-md5 userid=bob passwd=bob-secret tunnel_mode=v6v4 host_type=router \
  prefixlen=64 if_prefix=lan0
start_tspc bob $NS_CLI
wait_record bob 1 CREATION 60 "${tspc_pid[bob]}"
check_creation bob 1 v6v4 router tspc41 192.0.2.12 64 lan0
bob_v6=$v6
lan_v6=$(lan_host_address "$prefix")
say "3: the LAN host autoconfigured $lan_v6 in $prefix"
ping_both_ways $NS_CLI "$bob_v6" "3 router"
ping_both_ways $NS_LAN "$lan_v6" "3 LAN host"
tcp_both_ways $NS_LAN "$lan_v6" "3"
stop_tspc bob 2

say "3b: router with a delegated /48 (bob)"
write_conf bob auth_method=digest-md5 userid=bob passwd=bob-secret tunnel_mode=v6v4 host_type=router \
  prefixlen=48 if_prefix=lan0
start_tspc bob $NS_CLI
wait_record bob 3 CREATION 60 "${tspc_pid[bob]}"
check_creation bob 3 v6v4 router tspc41 192.0.2.12 48 lan0
[ "$v6" = "$bob_v6" ] || fail "3b: bob's tunnel address changed from $bob_v6 to $v6"
first64=$(python3 -c 'import ipaddress,sys; print(next(ipaddress.ip_network(sys.argv[1]).subnets(new_prefix=64)))' "$prefix")
lan_v6=$(lan_host_address "$first64")
say "3b: the LAN host autoconfigured $lan_v6 in $first64 (the /48's first /64)"
ping_both_ways $NS_LAN "$lan_v6" "3b LAN host"
stop_tspc bob 4

say "4: behind the IPv4 NAT (anonymous, v6anyv4 -> v6udpv4)"
make_home natted
write_conf natted
start_tspc natted $NS_NCL
wait_record natted 1 CREATION 60 "${tspc_pid[natted]}"
# The offer names the address the broker tunnels to: the NAT's public one.
check_creation natted 1 v6udpv4 host tspcudp $NAT_PUBLIC_V4
interface_exists $NS_NCL tspcudp || fail "4: no tspcudp interface while the tunnel is up"
ping_both_ways $NS_NCL "$v6" "4"
tcp_both_ways $NS_NCL "$v6" "4"

say "4: keepalive loss: the NAT drops the client's UDP"
in_ns $NS_NAT nft add rule ip tspcfilter forward ip saddr $NAT_CLIENT_V4 udp dport 3653 drop
dropped_at=$SECONDS
# Replies time out after 5 s, and 3 in a row end the tunnel (§5.2): about 20 s at 5 s intervals.
# The same tspc (wait_record watches its PID) runs the teardown and stays.
wait_record natted 2 TEARDOWN $((KEEPALIVE_INTERVAL * 10)) "${tspc_pid[natted]}"
in_ns $NS_NAT nft flush chain ip tspcfilter forward
say "4: teardown $((SECONDS - dropped_at))s after the drop began; rule removed: tspc must reconnect"
check_teardown natted 2
# tspc logs the reason once its teardown script has returned, which is after the record the
# script writes: wait for the line rather than look once.
wait_for_line "$work/natted/tspc.log" 10 'exit code 21' "${tspc_pid[natted]}"
wait_record natted 3 CREATION 60 "${tspc_pid[natted]}"
say "4: a new tunnel $((SECONDS - dropped_at))s after the drop began"
check_creation natted 3 v6udpv4 host tspcudp $NAT_PUBLIC_V4
ping_both_ways $NS_NCL "$v6" "4 after reconnecting"
stop_tspc natted 4
! interface_exists $NS_NCL tspcudp || fail "4: tspcudp still exists after tspc exited"

say "5: mobile node (carol): the dhclient exit hook restarts tspc when the IPv4 address changes"
make_home carol
write_conf carol auth_method=digest-md5 userid=carol passwd=carol-secret tunnel_mode=v6anyv4
# run_hook REASON OLD NEW: what dhclient-script does: source the hook with its variables set.
run_hook() {
  in_ns $NS_CLI env reason="$1" interface=c0 old_ip_address="$2" new_ip_address="$3" \
    TSPC_HOOK_BIN="$TSPC" TSPC_HOOK_CONF="$work/carol/tspc.conf" TSPC_HOOK_PIDFILE="$hook_pidfile" \
    sh -c 'cd "$1" && . "$2"' hook "$work/carol" "$hook" >>"$work/carol/hook.out" 2>&1 ||
    fail "5: the dhclient hook failed ($1)"
}
set_client_v4 192.0.2.14
run_hook BOUND "" 192.0.2.14
[ -s "$hook_pidfile" ] || fail "5: the hook wrote no PID file"
first_pid=$(cat "$hook_pidfile")
wait_record carol 1 CREATION 60 "$first_pid"
check_creation carol 1 v6v4 host tspc41 192.0.2.14
carol_v6=$v6
ping_both_ways $NS_CLI "$v6" "5 at 192.0.2.14"
say "5: the address changes to 192.0.2.15"
set_client_v4 192.0.2.15
run_hook BOUND 192.0.2.14 192.0.2.15
! kill -0 "$first_pid" 2>/dev/null || fail "5: the hook left the first tspc ($first_pid) running"
wait_record carol 2 TEARDOWN 1
check_teardown carol 2
second_pid=$(cat "$hook_pidfile")
[ "$second_pid" != "$first_pid" ] || fail "5: the hook did not start a new tspc"
wait_record carol 3 CREATION 60 "$second_pid"
check_creation carol 3 v6v4 host tspc41 192.0.2.15
[ "$v6" = "$carol_v6" ] || fail "5: carol got $v6 from 192.0.2.15, $carol_v6 from 192.0.2.14"
ping_both_ways $NS_CLI "$v6" "5 at 192.0.2.15"
tcp_both_ways $NS_CLI "$v6" "5"
run_hook RELEASE 192.0.2.15 ""
! kill -0 "$second_pid" 2>/dev/null || fail "5: tspc $second_pid still runs after the hook's RELEASE"
wait_record carol 4 TEARDOWN 1
check_teardown carol 4

say "stopping tspbrokerd"
kill -TERM "$broker_pid"
rc=0
wait "$broker_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "tspbrokerd exited with status $rc on SIGTERM"
say "PASS"
