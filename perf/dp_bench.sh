#!/usr/bin/env bash
# One command for the dataplane figures of issue 6: dpdk-testpmd in io mode on two net_null
# vdevs (the I/O floor: receive + transmit, nothing else) and dp_bench (ours, the bare floor,
# updates, latency, memory), in the same run, then one key-ratios line.
#
#   perf/dp_bench.sh [dp_bench options]     (default: --tunnels 2,1000,100000,1000000
#                                             --distribution uniform,zipf)
# Env: BUILD (release build dir, default /tmp/build-perf), TESTPMD_SECONDS (default 6),
#      CPU (the worker core, default the first allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-/tmp/build-perf}
TESTPMD_SECONDS=${TESTPMD_SECONDS:-6}
if [ ! -x "$BUILD/perf/dp_bench" ]; then
  [ -d "$BUILD" ] || meson setup "$BUILD" --buildtype=release >/dev/null
  ninja -C "$BUILD" -j2 perf/dp_bench >/dev/null
fi
command -v dpdk-testpmd >/dev/null || { echo "dp_bench.sh: dpdk-testpmd missing (apt-get install dpdk-dev)" >&2; exit 1; }
cpus=($(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))'))
worker=${CPU:-${cpus[0]}}
other=$worker
for c in "${cpus[@]}"; do [ "$c" != "$worker" ] && { other=$c; break; }; done

log=$(mktemp /tmp/dp_bench_testpmd.XXXXXX)
out=$(mktemp /tmp/dp_bench_out.XXXXXX)
trap 'rm -f "$log" "$out"' EXIT

# testpmd: main lcore on the other CPU (it prints the stats), the forwarding lcore on the
# worker's CPU; io mode forwards port 0 <-> port 1. Stopped by SIGINT after TESTPMD_SECONDS.
echo "dp_bench.sh: dpdk-testpmd io on net_null0/net_null1, forwarding lcore on cpu $worker, ${TESTPMD_SECONDS}s" >&2
lcores="0@$other,1@$worker"
timeout -s INT "$TESTPMD_SECONDS" dpdk-testpmd --no-huge -m 1024 --no-pci --no-shconf --no-telemetry \
  --vdev net_null0 --vdev net_null1 --lcores "$lcores" --log-level='lib.*:error' \
  -- --forward-mode=io --nb-cores=1 --total-num-mbufs=8192 --stats-period 1 </dev/null >"$log" 2>&1 || true
# The last stats block: one Rx-pps line per port; the core forwards both directions.
testpmd_pps=$(grep -o 'Rx-pps: *[0-9]*' "$log" | awk '{print $2}' | tail -2 | awk '{s+=$1} END {print s+0}')
if [ "$testpmd_pps" -eq 0 ]; then
  echo "dp_bench.sh: testpmd reported no traffic; its log:" >&2
  tail -20 "$log" >&2
  exit 1
fi

args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--tunnels 2,1000,100000,1000000 --distribution uniform,zipf)
"$BUILD/perf/dp_bench" --cpu "$worker" "${args[@]}" | tee "$out"

# ours/floor below is the table's ratio column (the median of the per-round ratios, each round
# timing both loops side by side), as in dp_bench's own key-ratio line, not a ratio of medians.
tsc_mhz=$(sed -n 's/.*TSC \([0-9]*\) MHz.*/\1/p' "$out" | head -1)
awk -v pps="$testpmd_pps" -v mhz="$tsc_mhz" '
  BEGIN { tp = mhz * 1e6 / pps }
  $1 ~ /^(decap|encap)-/ && $2 == "uniform" { ours[$1 "@" $3] = $4; ratio[$1 "@" $3] = $6; copy[$1 "@" $3] = $11 }
  END {
    printf "%-10s %-8s %8s %9s %9s %6s %10s\n", "testpmd-io", "-", "-", "-", "-", "-", sprintf("%.2f", pps / 1e6)
    printf "testpmd io (net_null, one forwarding core): %.1f Mpps = %.1f TSC cycles/pkt\n", pps / 1e6, tp
    line = "key ratios at 1000 tunnels, uniform (ours/floor, ours/testpmd):"
    n = split("decap-41 decap-udp encap-41 encap-udp", s, " ")
    for (i = 1; i <= n; i++) {
      k = s[i] "@1000"
      if (k in ours) line = line sprintf(" %s %.2f/%.2f", s[i], ratio[k], ours[k] / tp)
    }
    print line
  }' "$out"
