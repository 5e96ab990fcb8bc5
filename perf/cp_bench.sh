#!/usr/bin/env bash
# perf/cp_bench.sh: the control-plane benchmark in one command (perf/README.md, "tsp_load").
#
#   perf/cp_bench.sh            # under a minute on the quiet 2-vCPU development machine (more when busy)
#
# Builds a release tspbrokerd and tsp_load in its own build directory, starts the broker on
# loopback (control plane only, no dataplane block) with pools and limits for 200k tunnels and
# a fresh SQLite store holding the DIGEST-MD5 users, runs 10k-client loads per transport and
# mechanism and a 10k and a 100k mixed load, then restarts the broker three times on the
# store that now holds every tunnel and times each reload (exec to the "ready" log line).
# Prints one table and a last line of ratios against the targets (10,000 sessions/s, 2 s).
#
# Environment: CP_BENCH_BUILD (build dir, default <repo>/build-cpbench), CP_BENCH_PORT
# (default 13653), CP_BENCH_CONCURRENCY (sessions in flight, default 1024),
# CP_BENCH_LOG_LEVEL (the broker's, default info), CP_BENCH_KEEP=1 keeps the work directory.
# The load generator runs on the same machine as the broker: both share its cores, so the
# table shows the CPU of each (the generator's when GNU time is installed as /usr/bin/time).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${CP_BENCH_BUILD:-$repo/build-cpbench}
port=${CP_BENCH_PORT:-13653}
concurrency=${CP_BENCH_CONCURRENCY:-1024}
log_level=${CP_BENCH_LOG_LEVEL:-info}
work=$(mktemp -d /tmp/cp-bench-XXXXXX)
broker_pid=

cleanup() {
  if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  if [[ ${CP_BENCH_KEEP:-0} == 1 ]]; then echo "cp_bench: work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "cp_bench: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- build ----------------------------------------------------------------------------------
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$repo" --buildtype=release >/dev/null || die "meson setup $build failed"
fi
broker_target=$(ninja -C "$build" -t targets all | sed -nE 's#^([^ ]*tspbrokerd): cpp_LINKER.*#\1#p' | head -1)
[[ -n $broker_target ]] || die "no tspbrokerd target in $build"
ninja -C "$build" -j2 "$broker_target" perf/tsp_load/tsp_load perf/tsp_load/tsp_load_users >/dev/null ||
  die "build failed (ninja -C $build)"
broker=$build/$broker_target
load=$build/perf/tsp_load/tsp_load
users=$build/perf/tsp_load/tsp_load_users

# ---- configuration, users -------------------------------------------------------------------
if ss -Hltnu "( sport = :$port )" 2>/dev/null | grep -q .; then die "port $port is in use: set CP_BENCH_PORT"; fi
cat >"$work/broker.conf" <<EOF
ipv6 local pool P_Endpoints 2001:db8:f000::/48 128
ipv6 local pool P_Sites64 2001:db8:1000::/36 64
tsp TSP_Bench
  ip address 127.0.0.1
  transport udp $port
  transport tcp $port
  authentication digest-md5 anonymous
  realm tspbroker
  ! Nothing may expire during the run: the restart must reload every tunnel.
  keepalive interval 3600
  keepalive missed 100
  max sessions 100000
  session timeout 60
tunnel server TS_Bench
  ip address 127.0.0.1
  ipv6 pool endpoints P_Endpoints
  ipv6 pool prefix P_Sites64
tunnel broker TB_Bench
  set tsp TSP_Bench
  set tunnel server TS_Bench
store sqlite $work/broker.db
limit tunnels 200000
log level $log_level
EOF
"$broker" --check-config --config "$work/broker.conf" >/dev/null || die "the generated configuration is refused"
# Client n is user load<n>; every run below uses its own range of n (and of source addresses).
"$users" --store "$work/broker.db" --count 150000 >&2

# ---- broker ---------------------------------------------------------------------------------
# Sets broker_pid and ready_s (seconds from exec to the "ready" line). Not for $(...): the
# broker would hold the substitution's pipe open.
start_broker() {
  : >"$work/broker.log"
  local t0 t1
  t0=$(date +%s.%N)
  "$broker" --config "$work/broker.conf" >/dev/null 2>>"$work/broker.log" &
  broker_pid=$!
  for _ in $(seq 1 3000); do
    if grep -q "tspbrokerd ready" "$work/broker.log"; then
      t1=$(date +%s.%N)
      ready_s=$(echo "$t1 - $t0" | bc -l)
      return 0
    fi
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.005
  done
  tail -5 "$work/broker.log" >&2
  die "tspbrokerd did not become ready"
}
stop_broker() {
  [[ -n $broker_pid ]] || die "internal: no broker to stop"
  kill -TERM "$broker_pid"
  local rc=0
  wait "$broker_pid" || rc=$?
  broker_pid=
  [[ $rc == 0 ]] || die "tspbrokerd exited with status $rc (log: $work/broker.log)"
}
broker_cpu_ticks() { awk '{print $14 + $15}' "/proc/$broker_pid/stat"; }

# ---- loads ----------------------------------------------------------------------------------
rows=()
run_load() {  # name clients first-index tsp_load-options...
  local name=$1 clients=$2 first=$3
  shift 3
  say "$name: $clients clients ($*)"
  local c0 c1 out line load_cpu=0
  local timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$work/load_time")
  c0=$(broker_cpu_ticks)
  out=$("${timer[@]}" "$load" --port "$port" --clients "$clients" --first-index "$first" --concurrency "$concurrency" "$@") || true
  c1=$(broker_cpu_ticks)
  [[ -s $work/load_time ]] && load_cpu=$(awk 'END {print $1 + $2}' "$work/load_time")
  echo "$out" | grep -v '^tsp_load:' | sed 's/^/    /' >&2
  line=$(echo "$out" | grep '^tsp_load:') || die "$name: tsp_load printed no result"
  local ticks_per_s
  ticks_per_s=$(getconf CLK_TCK)
  rows+=("$name $line broker_cpu_s=$(echo "($c1 - $c0) / $ticks_per_s" | bc -l) load_cpu_s=$load_cpu")
}
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$2"; }

say "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
start_broker
all="--transport udp,tcp --auth anonymous,digest-md5 --host-type host,router"
run_load "10k udp anonymous"   10000 0      --transport udp --auth anonymous
run_load "10k udp digest-md5"  10000 10000  --transport udp --auth digest-md5 --host-type host,router
run_load "10k tcp anonymous"   10000 20000  --transport tcp --auth anonymous
run_load "10k tcp digest-md5"  10000 30000  --transport tcp --auth digest-md5 --host-type host,router
# shellcheck disable=SC2086
run_load "10k mix"             10000 40000  $all
# shellcheck disable=SC2086
run_load "100k mix"            100000 50000 $all
stop_broker

# ---- reload ---------------------------------------------------------------------------------
reload_s=()
reloaded=
for _ in 1 2 3; do
  start_broker
  reload_s+=("$ready_s")
  reloaded=$(sed -nE 's/.*: ([0-9]+) live tunnel\(s\) reloaded.*/\1/p' "$work/broker.log" | tail -1)
  stop_broker
done
mapfile -t sorted < <(printf '%s\n' "${reload_s[@]}" | sort -g)
reload_median=${sorted[1]}

# ---- report ---------------------------------------------------------------------------------
printf '\n%-20s %8s %8s %7s %10s %9s %9s %11s %12s %12s\n' run clients ok failed sessions/s "p50 ms" "p99 ms" \
  "broker cpu" "cpu us/sess" "load us/sess"
for row in "${rows[@]}"; do
  name=${row%% tsp_load:*}
  ok=$(field ok "$row")
  cpu=$(field broker_cpu_s "$row")
  per=$(echo "if ($ok > 0) $cpu * 1000000 / $ok else 0" | bc -l)
  load_per=$(echo "if ($ok > 0) $(field load_cpu_s "$row") * 1000000 / $ok else 0" | bc -l)
  printf '%-20s %8s %8s %7s %10s %9s %9s %10.2fs %12.0f %12.0f\n' "$name" "$(field clients "$row")" "$ok" \
    "$(field failed "$row")" "$(field rate "$row")" "$(field p50_ms "$row")" "$(field p99_ms "$row")" "$cpu" "$per" "$load_per"
done
printf '%-20s %8s tunnels reloaded, exec to ready: %.3f s (median of %s)\n' "restart" "$reloaded" "$reload_median" \
  "$(printf '%.3f ' "${reload_s[@]}")"
last=${rows[-1]}
rate=$(field rate "$last")
printf 'cp_bench: 100k mix %s sessions/s = %.2f x the 10,000/s target; reload of %s tunnels %.3f s = %.2f x the 2 s target (lower is better)\n' \
  "$rate" "$(echo "$rate / 10000" | bc -l)" "$reloaded" "$reload_median" "$(echo "$reload_median / 2" | bc -l)"
