#!/usr/bin/env bash
# Instructions per packet of ours (process_burst) and of the floor (the bare loop), counted by
# valgrind's callgrind: a figure no neighbour on a shared machine can move, to set beside
# dp_bench's cycle ratios (which it can). Instructions are not cycles: ours has more
# independent work per packet and runs at a higher IPC, so its cycle ratio is lower than
# this one. Use it to see whether a change removed work, not how fast the result runs.
#
#   perf/dp_instructions.sh [--tunnels N[,N...]] [--scenarios S[,S...]] [--distribution uniform|zipf]
# Env: BUILD (release build dir, default /tmp/build-perf; built if missing).
#
# Each case runs dp_bench twice under callgrind with --profile-ours/--profile-bare L loops
# (L = 4, then 12) and takes the difference of each function's inclusive count, so the checks,
# warm-up and table building before the loops cancel out.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-/tmp/build-perf}
tunnels=1000
scenarios=decap-41,decap-udp,encap-41,encap-udp
distribution=uniform
while [ $# -gt 0 ]; do
  case "$1" in
    --tunnels) tunnels=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --distribution) distribution=$2; shift 2 ;;
    *) echo "dp_instructions.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "dp_instructions.sh: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
if [ ! -x "$BUILD/perf/dp_bench" ]; then
  [ -d "$BUILD" ] || meson setup "$BUILD" --buildtype=release >/dev/null
  ninja -C "$BUILD" -j2 perf/dp_bench >/dev/null
fi

packets=32768
few=4
many=12
work=$(mktemp -d /tmp/dp_instructions.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Inclusive instruction count of the first function whose name starts with $2 in profile $1.
inclusive() {
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
    awk -v f="$2" '!found && index($0, f) { gsub(/,/, "", $1); print $1; found = 1 }'  # reads all: no SIGPIPE
}

profile() {  # tunnels scenario loops -> callgrind file
  local out="$work/$1.$2.$3"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BUILD/perf/dp_bench" --tunnels "$1" --scenarios "$2" \
    --distribution "$distribution" --packets "$packets" --rounds 1 --updates-per-sec 0 --latency-samples 0 \
    --no-memory --profile-ours "$3" --profile-bare "$3" >/dev/null 2>"$work/log" ||
    { echo "dp_instructions.sh: dp_bench failed under valgrind:" >&2; tail -5 "$work/log" >&2; exit 1; }
  echo "$out"
}

printf '%-10s %-8s %9s %10s %10s %7s\n' scenario dist tunnels ours_ins bare_ins ratio
summary=""
for n in ${tunnels//,/ }; do
  for s in ${scenarios//,/ }; do
    a=$(profile "$n" "$s" "$few")
    b=$(profile "$n" "$s" "$many")
    per_packet=$(( (many - few) * packets ))
    ours=$(( ($(inclusive "$b" 'tsp::dp::process_burst(') - $(inclusive "$a" 'tsp::dp::process_burst(')) / per_packet ))
    bare=$(( ($(inclusive "$b" 'tsp::perf::BareLoop::run_burst(') - $(inclusive "$a" 'tsp::perf::BareLoop::run_burst(')) / per_packet ))
    ratio=$(awk -v o="$ours" -v b="$bare" 'BEGIN { printf "%.2f", (b > 0) ? o / b : 0 }')
    printf '%-10s %-8s %9s %10s %10s %7s\n' "$s" "$distribution" "$n" "$ours" "$bare" "$ratio"
    summary="$summary $s@$n $ratio"
  done
done
echo "key ratios (instructions, ours/bare, $distribution):$summary"
