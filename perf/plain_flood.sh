#!/usr/bin/env bash
# perf/plain_flood.sh: do PLAIN logins hold up everyone else? (perf/README.md, "plain_flood")
#
#   perf/plain_flood.sh [OTHER_TSPBROKERD]      # about 30 s per broker on the 2-vCPU machine
#
# Starts a release tspbrokerd (built in CP_BENCH_BUILD, default <repo>/build-cpbench, as
# cp_bench.sh does) on loopback with PLAIN and ANONYMOUS, then, REPS times (default 2): a probe
# of 2000 anonymous UDP sessions (32 in flight) alone, and the same probe while a flood of 8000
# PLAIN logins (UDP and TCP, right passwords, 512 in flight) runs. Also a PLAIN probe: 200
# customers (8 in flight) log in once alone, then again under the flood from the same
# addresses, which have proved their passwords by then (the password checker's trusted lane).
# With OTHER_TSPBROKERD (an older build, say) each round runs it too, side by side. One row per
# run; the last lines give the anonymous probe's rate under the flood over its rate alone, and
# the PLAIN probe's p99 under the flood, per broker.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${CP_BENCH_BUILD:-$repo/build-cpbench}
port=${CP_BENCH_PORT:-14653}
reps=${REPS:-2}
other=${1:-}
work=$(mktemp -d /tmp/plain-flood-XXXXXX)
broker_pid=
cleanup() {
  [[ -n $broker_pid ]] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "plain_flood: $*" >&2; exit 1; }

if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$repo" --buildtype=release >/dev/null || die "meson setup $build failed"
fi
broker_target=$(ninja -C "$build" -t targets all | sed -nE 's#^([^ ]*tspbrokerd): cpp_LINKER.*#\1#p' | head -1)
ninja -C "$build" -j2 "$broker_target" perf/tsp_load/tsp_load perf/tsp_load/tsp_load_users >/dev/null ||
  die "build failed (ninja -C $build)"
ours=$build/$broker_target
load=$build/perf/tsp_load/tsp_load
users=$build/perf/tsp_load/tsp_load_users
[[ -z $other || -x $other ]] || die "$other is not an executable"
if ss -Hltnu "( sport = :$port )" 2>/dev/null | grep -q .; then die "port $port is in use: set CP_BENCH_PORT"; fi

cat >"$work/broker.conf" <<EOC
ipv6 local pool P_Endpoints 2001:db8:f000::/48 128
tsp TSP_Flood
  ip address 127.0.0.1
  transport udp $port
  transport tcp $port
  authentication plain anonymous
  realm tspbroker
  keepalive interval 3600
  keepalive missed 100
  max sessions 100000
  session timeout 60
tunnel server TS_Flood
  ip address 127.0.0.1
  ipv6 pool endpoints P_Endpoints
tunnel broker TB_Flood
  set tsp TSP_Flood
  set tunnel server TS_Flood
store sqlite $work/broker.db
limit tunnels 200000
log level warning
EOC

fresh_store() {
  rm -f "$work"/broker.db*
  "$users" --store "$work/broker.db" --count 8200 >/dev/null  # the flood's 8000, the PLAIN probe's 200
}
start_broker() {
  "$1" --config "$work/broker.conf" >/dev/null 2>"$work/broker.log" &
  broker_pid=$!
  for _ in $(seq 1 1000); do
    # Log level warning (no per-session lines): readiness is the TCP listener.
    ss -Hltn "( sport = :$port )" 2>/dev/null | grep -q . && return 0
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.01
  done
  die "tspbrokerd did not become ready: $(tail -3 "$work/broker.log")"
}
stop_broker() {
  kill -TERM "$broker_pid"
  wait "$broker_pid" || die "tspbrokerd exited with an error (log: $work/broker.log)"
  broker_pid=
}
probe() {
  "$load" --port "$port" --clients 2000 --concurrency 32 --auth anonymous --transport udp \
    --source-base 127.2.0.0 | grep '^tsp_load:'
}
# Customers 8000..8199, each from an address of its own (the same in every call).
plain_probe() {
  "$load" --port "$port" --clients 200 --first-index 8000 --concurrency 8 --auth plain --transport udp,tcp \
    --source-base 127.3.0.0 | grep '^tsp_load:'
}
rate() { sed -E 's/.* rate=([0-9.]+).*/\1/' <<<"$1"; }
p99() { sed -E 's/.* p99_ms=([0-9.]+).*/\1/' <<<"$1"; }

declare -A alone_sum flooded_sum plain_p99s
printf '%-7s %-12s %s\n' broker run "result" 
run_broker() {  # label binary
  local label=$1 binary=$2 alone flooded flood plain_alone plain_flooded
  fresh_store
  start_broker "$binary"
  alone=$(probe)
  plain_alone=$(plain_probe)
  "$load" --port "$port" --clients 8000 --concurrency 512 --auth plain --transport udp,tcp \
    --source-base 127.1.0.0 >"$work/flood.out" 2>&1 &
  local flood_pid=$!
  sleep 0.3  # the flood under way
  flooded=$(probe)
  plain_flooded=$(plain_probe)
  wait "$flood_pid" || true
  flood=$(grep '^tsp_load:' "$work/flood.out") || die "the flood printed no result"
  stop_broker
  printf '%-7s %-12s %s\n' "$label" "probe alone" "${alone#tsp_load: }"
  printf '%-7s %-12s %s\n' "$label" "probe+flood" "${flooded#tsp_load: }"
  printf '%-7s %-12s %s\n' "$label" "plain flood" "${flood#tsp_load: }"
  printf '%-7s %-12s %s\n' "$label" "plain alone" "${plain_alone#tsp_load: }"
  printf '%-7s %-12s %s\n' "$label" "plain+flood" "${plain_flooded#tsp_load: }"
  plain_p99s[$label]+=" $(p99 "$plain_flooded")"
  alone_sum[$label]=$(echo "${alone_sum[$label]:-0} + $(rate "$alone")" | bc -l)
  flooded_sum[$label]=$(echo "${flooded_sum[$label]:-0} + $(rate "$flooded")" | bc -l)
}
for _ in $(seq 1 "$reps"); do
  run_broker ours "$ours"
  [[ -n $other ]] && run_broker other "$other"
done
line="plain_flood: anonymous probe rate under a PLAIN flood / alone:"
for label in ours other; do
  [[ -n ${alone_sum[$label]:-} ]] || continue
  line+=" $label $(printf '%.2f' "$(echo "${flooded_sum[$label]} / ${alone_sum[$label]}" | bc -l)")"
done
echo "$line"
line="plain_flood: PLAIN probe (addresses that proved their passwords) p99 ms under the flood, per round:"
for label in ours other; do
  [[ -n ${plain_p99s[$label]:-} ]] || continue
  line+=" $label${plain_p99s[$label]}"
done
echo "$line"
