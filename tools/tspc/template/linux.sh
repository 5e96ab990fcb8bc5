#!/bin/sh
# tspc template for Linux, iproute2 only (no ifconfig/route). tspc runs it as
#   /bin/sh <tsp_dir>/template/linux.sh
# with the TSP_* variables of the offer, once with TSP_OPERATION=TSP_TUNNEL_CREATION and once
# with TSP_OPERATION=TSP_TUNNEL_TEARDOWN (the same variables), see tools/tspc/settings/template_env.hpp.
#
# Creation, host:
#   v6v4 and no interface yet: a sit tunnel `ip tunnel add IF mode sit remote SERVER4 local
#   CLIENT4 ttl 64`; if the interface exists (tspc made a TUN because the kernel has no sit,
#   or v6udpv4) it is only configured. Then: mtu 1280, up, CLIENT6/128, routes ::/0 and
#   2000::/3 into the tunnel with metric 1.
# Creation, router, additionally: IPv6 forwarding on, a blackhole route for a prefix shorter
#   than /64, $TSP_PREFIX::1/64 on TSP_HOME_INTERFACE (for a /48: its first /64). tspc sends
#   the router advertisements itself; with TSP_RADVD=yes (in tspc's environment) and radvd
#   installed this script starts radvd for $TSP_PREFIX::/64 instead.
# Teardown undoes exactly that and ignores what is already gone; it always exits 0.
# What creation changed is remembered in $TSP_STATE_DIR (default /run/tspc): whether it
# created the sit tunnel, the old forwarding value, radvd's pid and config.
# Exit status on creation: 0 done, 1 a command failed (the message says which).

STATE_DIR=${TSP_STATE_DIR:-/run/tspc}
ROUTE_METRIC=1
IF=${TSP_TUNNEL_INTERFACE:-}
HOME_IF=${TSP_HOME_INTERFACE:-}

say() { echo "linux.sh: $*"; }
fail() { echo "linux.sh: error: $*" >&2; exit 1; }
# Creation: every command must work.
run() {
  say "ip $*"
  ip "$@" || fail "command failed: ip $*"
}
# Teardown: "not there" is fine.
undo() {
  say "ip $*"
  ip "$@" 2>/dev/null || true
}
require() {
  for name in "$@"; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || fail "$name is not set"
  done
}

# State files are named after the network namespace and the interface, so several tspc in
# different namespaces (tests, containers) can share one state directory.
netns=$(readlink /proc/self/ns/net 2>/dev/null | tr -cd '0-9')
key="${netns:+$netns-}$IF"
forwarding_file="$STATE_DIR/$key.forwarding"
sit_file="$STATE_DIR/$key.sit"
radvd_pid="$STATE_DIR/$key.radvd.pid"

start_radvd() {
  command -v radvd >/dev/null 2>&1 || fail "TSP_RADVD=yes but radvd is not installed"
  conf=$(mktemp "$STATE_DIR/$key.radvd.conf.XXXXXX") || fail "cannot create the radvd configuration"
  cat >"$conf" <<RADVD
interface $HOME_IF {
  AdvSendAdvert on;
  prefix $TSP_PREFIX::/64 { AdvOnLink on; AdvAutonomous on; };
};
RADVD
  say "radvd -C $conf -p $radvd_pid"
  radvd -C "$conf" -p "$radvd_pid" || fail "radvd did not start"
  echo "$conf" >"$radvd_pid.conf"
}

stop_radvd() {
  [ -f "$radvd_pid" ] && kill "$(cat "$radvd_pid")" 2>/dev/null
  [ -f "$radvd_pid.conf" ] && rm -f "$(cat "$radvd_pid.conf")" "$radvd_pid.conf"
  rm -f "$radvd_pid"
}

create_router() {
  require TSP_HOME_INTERFACE TSP_PREFIX TSP_PREFIXLEN
  [ "$TSP_PREFIXLEN" -le 64 ] 2>/dev/null || fail "prefix length $TSP_PREFIXLEN: expected 64 or shorter"
  old=$(sysctl -n net.ipv6.conf.all.forwarding) || fail "cannot read net.ipv6.conf.all.forwarding"
  if [ "$old" != 1 ]; then
    say "sysctl -w net.ipv6.conf.all.forwarding=1"
    sysctl -q -w net.ipv6.conf.all.forwarding=1 || fail "cannot enable IPv6 forwarding"
    echo "$old" >"$forwarding_file"
  fi
  if [ "$TSP_PREFIXLEN" != 64 ]; then
    run -6 route replace blackhole "$TSP_PREFIX::/$TSP_PREFIXLEN"
  fi
  run link set dev "$HOME_IF" up
  run -6 addr replace "$TSP_PREFIX::1/64" dev "$HOME_IF"
  if [ "${TSP_RADVD:-no}" = yes ]; then start_radvd; fi
}

create() {
  require TSP_TUNNEL_MODE TSP_TUNNEL_INTERFACE TSP_CLIENT_ADDRESS_IPV6
  case "$TSP_TUNNEL_MODE" in
    v6v4|v6udpv4) ;;
    *) fail "tunnel mode $TSP_TUNNEL_MODE is not supported by this script" ;;
  esac
  mkdir -p "$STATE_DIR" || fail "cannot create $STATE_DIR"
  if ip link show dev "$IF" >/dev/null 2>&1; then
    say "interface $IF exists, configuring it"
  elif [ "$TSP_TUNNEL_MODE" = v6v4 ]; then
    require TSP_SERVER_ADDRESS_IPV4 TSP_CLIENT_ADDRESS_IPV4
    run tunnel add "$IF" mode sit remote "$TSP_SERVER_ADDRESS_IPV4" local "$TSP_CLIENT_ADDRESS_IPV4" ttl 64
    : >"$sit_file"
  else
    fail "interface $IF does not exist (tspc creates it for v6udpv4)"
  fi
  run link set dev "$IF" mtu 1280 up
  run -6 addr replace "$TSP_CLIENT_ADDRESS_IPV6/128" dev "$IF"
  run -6 route replace ::/0 dev "$IF" metric $ROUTE_METRIC
  run -6 route replace 2000::/3 dev "$IF" metric $ROUTE_METRIC
  if [ "${TSP_HOST_TYPE:-host}" = router ]; then create_router; fi
  say "tunnel $IF up: $TSP_CLIENT_ADDRESS_IPV6${TSP_PREFIX:+, prefix $TSP_PREFIX::/${TSP_PREFIXLEN:-}}"
}

teardown() {
  [ -n "$IF" ] || fail "TSP_TUNNEL_INTERFACE is not set"
  if [ "${TSP_HOST_TYPE:-host}" = router ]; then
    stop_radvd
    if [ -n "${TSP_PREFIX:-}" ]; then
      [ -n "$HOME_IF" ] && undo -6 addr del "$TSP_PREFIX::1/64" dev "$HOME_IF"
      [ "${TSP_PREFIXLEN:-64}" != 64 ] && undo -6 route del blackhole "$TSP_PREFIX::/$TSP_PREFIXLEN"
    fi
    if [ -f "$forwarding_file" ]; then
      say "sysctl -w net.ipv6.conf.all.forwarding=$(cat "$forwarding_file")"
      sysctl -q -w "net.ipv6.conf.all.forwarding=$(cat "$forwarding_file")" || true
      rm -f "$forwarding_file"
    fi
  fi
  undo -6 route del 2000::/3 dev "$IF" metric $ROUTE_METRIC
  undo -6 route del ::/0 dev "$IF" metric $ROUTE_METRIC
  [ -n "${TSP_CLIENT_ADDRESS_IPV6:-}" ] && undo -6 addr del "$TSP_CLIENT_ADDRESS_IPV6/128" dev "$IF"
  if [ -f "$sit_file" ]; then
    undo tunnel del "$IF"
    rm -f "$sit_file"
  else
    undo link set dev "$IF" down
  fi
  say "tunnel $IF torn down"
  exit 0
}

case "${TSP_OPERATION:-}" in
  TSP_TUNNEL_CREATION) create ;;
  TSP_TUNNEL_TEARDOWN) teardown ;;
  *) fail "TSP_OPERATION must be TSP_TUNNEL_CREATION or TSP_TUNNEL_TEARDOWN" ;;
esac
exit 0
