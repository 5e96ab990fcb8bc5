# Helpers shared by the namespace tests (sourced). Each test defines its own fail() (most
# with report_failure), which these call to report and clean up.

say() { printf '== %s\n' "$*"; }

# Foreground only. Background jobs call `ip netns exec` directly, so that $! is the process
# itself (ip execs it) and not a subshell that a kill would leave behind.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Waits up to $2 seconds for a line matching $3 in file $1, failing early if process $4 died.
wait_for_line() {  # FILE SECONDS PATTERN [PID]
  local file=$1 seconds=$2 pattern=$3 pid=${4:-}
  local deadline=$((SECONDS + seconds))
  until grep -q -- "$pattern" "$file" 2>/dev/null; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || fail "process $pid exited before printing '$pattern' in ${file##*/}"
    [ $SECONDS -lt $deadline ] || fail "no '$pattern' in ${file##*/} after ${seconds}s"
    sleep 0.2
  done
}

# fail()'s body: the message, the last lines of each non-empty log given, exit 1 (the EXIT
# trap cleans up). Logs are named relative to $work.
report_failure() {  # MESSAGE LOG...
  printf 'FAIL: %s\n' "$1" >&2
  shift
  local log
  for log in "$@"; do
    [ -s "$log" ] || continue
    printf -- '---- %s (last 40 lines)\n' "${log#"$work"/}" >&2
    tail -n 40 "$log" >&2
  done
  exit 1
}

# Root, and each named variable naming an executable (the built binaries meson passes in).
require_root_and_binaries() {  # TEST-NAME VAR...
  local name=$1 var
  shift
  [ "$(id -u)" -eq 0 ] || { echo "$name: needs root (network namespaces, DPDK, raw sockets); CI runs as root" >&2; exit 1; }
  for var in "$@"; do
    [ -x "${!var:-}" ] || { echo "$name: \$$var must name the built binary" >&2; exit 1; }
  done
}

# The EXIT trap's work: stop the processes in $pids, delete the namespaces in $ALL_NS, remove $work.
stop_processes_and_namespaces() {
  local pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}

# b4/b6 belong to DPDK (af_packet reads every frame before the kernel stack does): the broker
# namespace's kernel must not answer on them for the addresses of its taps (no ARP, no IPv6,
# strict reverse-path filtering: the client subnet is routed via the tap, not b4), and the
# veths (b4, b6, and i0 across from b6) must not hand DPDK frames with offloads pending.
hand_broker_veths_to_dpdk() {
  in_ns $NS_BRK sysctl -qw net.ipv6.conf.b4.disable_ipv6=1 net.ipv6.conf.b6.disable_ipv6=1 \
    net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.b4.rp_filter=1 net.ipv4.conf.b6.rp_filter=1
  in_ns $NS_BRK ip link set b4 arp off
  in_ns $NS_BRK ip link set b6 arp off
  in_ns $NS_BRK python3 "$helpers/offloads_off.py" b4 b6
  in_ns $NS_V6 python3 "$helpers/offloads_off.py" i0
}

# The uplink side every broker test has: the broker's two DPDK veths up, and the IPv6 host in
# $NS_V6 (i0, $V6_HOST) routing the broker's pools back to it.
bring_up_broker_and_uplink() {
  in_ns $NS_BRK ip link set b4 up
  in_ns $NS_BRK ip link set b6 up
  in_ns $NS_V6 ip -6 addr add $V6_HOST/64 dev i0 nodad
  in_ns $NS_V6 ip link set i0 up
  in_ns $NS_V6 ip -6 route add 2001:db8:f000::/36 via 2001:db8:ffff::1 dev i0
}

# The end of every test broker's configuration: its store and admin socket in $work, and the
# dataplane on the two af_packet veths b4 (IPv4, $BROKER_V4/24) and b6 (IPv6, via $V6_HOST).
broker_store_admin_dataplane() {
  cat <<CONF
store sqlite $work/tspbroker.db
admin socket $work/tspbrokerd.sock
log level info
dataplane
  eal --no-huge -m 256 --no-pci --no-shconf -l 0-1 --vdev net_af_packet0,iface=b4 --vdev net_af_packet1,iface=b6
  port ipv4 net_af_packet0
  port ipv6 net_af_packet1
  workers 1
  ipv4 address $BROKER_V4/24
  ipv6 address 2001:db8:ffff::1/64
  ipv6 gateway $V6_HOST
CONF
}
